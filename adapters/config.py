"""Backend selection: one URL-style setting.

    local:///var/lib/phase-mirror          embedded SQLite backend (the default)
    aws://?region=us-east-1&prefix=phase-mirror-staging[&endpoint=http://127.0.0.1:5000]
    gcp://my-project?prefix=phase-mirror-staging&location=us-central1[&database=(default)]

Resolution order: an explicit value (the `--backend` option), then the `PHASE_MIRROR_BACKEND`
environment variable, then a Pulumi stack-output file named by `PHASE_MIRROR_STACK_OUTPUTS`
(`pulumi stack output --json > outputs.json`; its `backendUrl` output), then `local://` in the
default data directory.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import parse_qsl, urlsplit

from .aws.url import URL_SPEC as AWS_URL
from .catalog import validate_prefix
from .errors import Misconfigured
from .gcp.url import URL_SPEC as GCP_URL
from .local.url import URL_SPEC as LOCAL_URL
from .local.url import default_data_dir
from .urls import UrlSpec

ENV_BACKEND = "PHASE_MIRROR_BACKEND"
ENV_STACK_OUTPUTS = "PHASE_MIRROR_STACK_OUTPUTS"
STACK_OUTPUT_BACKEND_URL = "backendUrl"

#: Each backend's URL spec (scheme, parameters, example, location), declared in its own
#: package (`adapters/<backend>/url.py`, no SDK imported); this module only parses generically.
URL_SPECS: dict[str, UrlSpec] = {spec.scheme: spec for spec in (LOCAL_URL, AWS_URL, GCP_URL)}


@dataclass(frozen=True)
class BackendSetting:
    scheme: str
    #: local: the data directory; gcp: the project id; aws: unused (empty).
    location: str
    params: dict[str, str] = field(default_factory=dict)
    #: Where the setting came from, named in every error ("--backend", "PHASE_MIRROR_BACKEND"...).
    source: str = "default"

    @property
    def url(self) -> str:
        return URL_SPECS[self.scheme].url(self.location, self.params)

    def param(self, name: str, default: str | None = None) -> str | None:
        return self.params.get(name, default)

    def require(self, name: str) -> str:
        value = self.params.get(name)
        if not value:
            raise Misconfigured(
                f"backend setting from {self.source} ({self.url}) needs '{name}=...'; "
                f"e.g. {URL_SPECS[self.scheme].example}"
            )
        return value

    @property
    def prefix(self) -> str:
        value = self.params.get("prefix", "phase-mirror")
        try:
            return validate_prefix(value)
        except ValueError as error:
            raise Misconfigured(f"{error} (in {self.source})") from None


def parse_backend_url(url: str, *, source: str = "--backend") -> BackendSetting:
    """Parse and validate a backend URL; `Misconfigured` names the source and the fix."""
    text = url.strip()
    parts = urlsplit(text)
    spec = URL_SPECS.get(parts.scheme.lower())
    if spec is None:
        raise Misconfigured(
            f"{source}={url!r}: unknown backend scheme {parts.scheme or '(none)'!r}; "
            f"use one of {', '.join(s + '://' for s in URL_SPECS)} e.g. {LOCAL_URL.example}"
        )
    params = dict(parse_qsl(parts.query, keep_blank_values=True))
    unknown = sorted(set(params) - spec.params)
    if unknown:
        raise Misconfigured(
            f"{source}={url!r}: unknown parameter(s) {', '.join(unknown)} for {spec.scheme}://; "
            f"known: {', '.join(sorted(spec.params))}"
        )
    try:
        location = spec.parse_location(parts.netloc, parts.path)
    except ValueError as error:
        raise Misconfigured(f"{source}={url!r}: {error}, e.g. {spec.example}") from None
    setting = BackendSetting(spec.scheme, location, params, source)
    if "prefix" in spec.params:
        setting.prefix  # noqa: B018 - validates early, with the source in the message
    return setting


def from_stack_outputs(path: Path) -> BackendSetting:
    """Read the backend URL from `pulumi stack output --json` saved to a file."""
    source = f"{ENV_STACK_OUTPUTS}={path}"
    try:
        outputs = json.loads(path.read_text())
    except (OSError, json.JSONDecodeError) as error:
        raise Misconfigured(
            f"{source}: cannot read stack outputs ({error}); create it with "
            f"'pulumi stack output --json > {path}'"
        ) from None
    url = outputs.get(STACK_OUTPUT_BACKEND_URL) if isinstance(outputs, dict) else None
    if not isinstance(url, str):
        raise Misconfigured(f"{source}: no '{STACK_OUTPUT_BACKEND_URL}' output in the file")
    return parse_backend_url(url, source=source)


def resolve_setting(explicit: str | None = None) -> BackendSetting:
    if explicit:
        return parse_backend_url(explicit, source="--backend")
    if env := os.environ.get(ENV_BACKEND):
        return parse_backend_url(env, source=ENV_BACKEND)
    if outputs := os.environ.get(ENV_STACK_OUTPUTS):
        return from_stack_outputs(Path(outputs))
    return BackendSetting(LOCAL_URL.scheme, str(default_data_dir()), {}, "default")
