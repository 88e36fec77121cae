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
from urllib.parse import parse_qsl, urlencode, urlsplit

from .catalog import validate_prefix
from .errors import Misconfigured

ENV_BACKEND = "PHASE_MIRROR_BACKEND"
ENV_STACK_OUTPUTS = "PHASE_MIRROR_STACK_OUTPUTS"
ENV_HOME = "PHASE_MIRROR_HOME"
STACK_OUTPUT_BACKEND_URL = "backendUrl"

SCHEMES = ("local", "aws", "gcp")

#: Query parameters each scheme understands; anything else is a typo we report.
KNOWN_PARAMS: dict[str, frozenset[str]] = {
    "local": frozenset({"durability"}),
    "aws": frozenset({"region", "prefix", "endpoint", "profile", "kms_key", "bucket"}),
    "gcp": frozenset(
        {
            "prefix",
            "location",
            "database",
            "transport",
            "firestore_endpoint",
            "storage_endpoint",
            "secretmanager_endpoint",
            "kms_endpoint",
            "bucket",
        }
    ),
}


def default_data_dir() -> Path:
    """`$PHASE_MIRROR_HOME`, else `$XDG_DATA_HOME/phase-mirror`, else `~/.local/share/phase-mirror`."""
    if home := os.environ.get(ENV_HOME):
        return Path(home).expanduser()
    xdg = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(xdg) / "phase-mirror"


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
        query = f"?{urlencode(self.params)}" if self.params else ""
        if self.scheme == "local":
            return f"local://{self.location}{query}"
        return f"{self.scheme}://{self.location}{query}"

    def param(self, name: str, default: str | None = None) -> str | None:
        return self.params.get(name, default)

    def require(self, name: str) -> str:
        value = self.params.get(name)
        if not value:
            raise Misconfigured(
                f"backend setting from {self.source} ({self.url}) needs '{name}=...'; "
                f"e.g. {_example(self.scheme)}"
            )
        return value

    @property
    def prefix(self) -> str:
        value = self.params.get("prefix", "phase-mirror")
        try:
            return validate_prefix(value)
        except ValueError as error:
            raise Misconfigured(f"{error} (in {self.source})") from None


def _example(scheme: str) -> str:
    return {
        "local": "local:///var/lib/phase-mirror",
        "aws": "aws://?region=us-east-1&prefix=phase-mirror-staging",
        "gcp": "gcp://my-project?prefix=phase-mirror-staging&location=us-central1",
    }[scheme]


def parse_backend_url(url: str, *, source: str = "--backend") -> BackendSetting:
    """Parse and validate a backend URL; `Misconfigured` names the source and the fix."""
    text = url.strip()
    parts = urlsplit(text)
    scheme = parts.scheme.lower()
    if scheme not in SCHEMES:
        raise Misconfigured(
            f"{source}={url!r}: unknown backend scheme {parts.scheme or '(none)'!r}; "
            f"use one of {', '.join(s + '://' for s in SCHEMES)} e.g. {_example('local')}"
        )
    params = dict(parse_qsl(parts.query, keep_blank_values=True))
    unknown = sorted(set(params) - KNOWN_PARAMS[scheme])
    if unknown:
        raise Misconfigured(
            f"{source}={url!r}: unknown parameter(s) {', '.join(unknown)} for {scheme}://; "
            f"known: {', '.join(sorted(KNOWN_PARAMS[scheme]))}"
        )
    if scheme == "local":
        location = (parts.netloc + parts.path) or str(default_data_dir())
        location = str(Path(location).expanduser())
    elif scheme == "gcp":
        location = parts.netloc
        if not location:
            raise Misconfigured(
                f"{source}={url!r}: gcp:// needs a project id, e.g. {_example('gcp')}"
            )
    else:
        location = parts.netloc
    setting = BackendSetting(scheme, location, params, source)
    if scheme != "local":
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
    return BackendSetting("local", str(default_data_dir()), {}, "default")
