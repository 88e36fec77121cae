"""What the compute rules of both clouds share: the public-exposure declaration a resource
carries, secret-looking environment values, digest-pinned images.

**Declared exposure.** CrossGuard hands a policy neither the stack's config nor its outputs
during a resource check, so "public unless configured" needs the configuration on the resource
itself. The platform writes it there: a tag (AWS) or label (GCP) `phase-mirror-public` whose
value lists the exposed facets, joined by `_` (GCP label values allow `[a-z0-9_-]`):

| facet | resource | means |
|---|---|---|
| `routes` | `aws.apigatewayv2.Api` | its routes without an authorizer are public on purpose |
| `ingress` | `gcp.cloudrunv2.Service` | ingress `INGRESS_TRAFFIC_ALL` is configured (`cloudRunIngress: all`) |
| `invoker` | `gcp.cloudrunv2.Service` | `allUsers` may invoke it (`cloudRunPublicInvoker: true`) |

The program derives the label from the config (phase_platform/*/compute.py), so the pack sees
the same declaration in `pulumi preview --policy-pack` and in the offline gate, and a resource
made public without the declaration (a typo, a copied snippet) is refused.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Sequence
from typing import Any, Final

from pulumi_policy import PolicyResource

from .props import UNKNOWN, elements, read

PUBLIC_TAG: Final = "phase-mirror-public"
FACETS: Final = ("routes", "ingress", "invoker")

_SECRET_NAME = re.compile(
    r"(SECRET|PASSW(OR)?D|PASSPHRASE|TOKEN|API_?KEY|PRIVATE_?KEY|ACCESS_?KEY|CREDENTIAL|"
    r"CLIENT_?SECRET|SALT|SIGNING_?KEY|AUTH_?KEY|DSN)",
    re.IGNORECASE,
)
#: A variable naming where a secret lives (its ARN, name, id, path) or a setting about it (a
#: lifetime, a length, a header name) holds no secret.
_REFERENCE_NAME = re.compile(
    r"_(ARN|NAME|ID|PATH|FILE|PARAM|PARAMETER|REF|URI|VERSION|TTL|SECONDS|MINUTES|DAYS|TIMEOUT"
    r"|LENGTH|SIZE|COUNT|ENABLED|HEADER|SOURCE)$",
    re.I,
)
#: Numbers and switches are settings, whatever the name.
_SETTING_VALUE = re.compile(r"^(\d+(\.\d+)?|true|false|on|off|yes|no)$", re.I)
_REFERENCE_VALUE = re.compile(
    r"^(arn:aws[a-z-]*:(secretsmanager|ssm|kms):|projects/[^/]+/secrets/|/|\{\{resolve:)"
)
#: Values that are credentials whatever the variable is called.
_SECRET_VALUES: Final = (
    ("an AWS access key id", re.compile(r"\b(AKIA|ASIA)[0-9A-Z]{16}\b")),
    ("a private key", re.compile(r"-----BEGIN [A-Z ]*PRIVATE KEY-----")),
    ("a GitHub token", re.compile(r"\b(gh[pousr]_[A-Za-z0-9]{36}|github_pat_\w{22,})")),
    ("a Google API key", re.compile(r"\bAIza[0-9A-Za-z_-]{35}\b")),
    ("a Slack token", re.compile(r"\bxox[abprs]-[0-9A-Za-z-]{10,}")),
    ("a password in a URL", re.compile(r"://[^/\s:@]+:[^/\s@]+@")),
)
_DIGEST = re.compile(r"@sha256:[0-9a-f]{64}$")


def declared_facets(props: Any) -> frozenset[str]:
    """The exposure facets a resource declares in its `tags` / `labels`; an unknown value (it
    never is: the program writes it from config) counts as every facet."""
    for prop in ("tags", "labels"):
        found = read(props, prop, PUBLIC_TAG)
        if found is UNKNOWN:
            return frozenset(FACETS)
        if isinstance(found, str):
            return frozenset(part for part in found.split("_") if part in FACETS)
    return frozenset()


def public_label(*facets: str) -> dict[str, str]:
    """The tag/label declaring `facets` public ({} when none): what the platform writes."""
    chosen = sorted(set(facets))
    unknown = set(chosen) - set(FACETS)
    if unknown:
        raise ValueError(f"unknown exposure facets: {sorted(unknown)}")
    return {PUBLIC_TAG: "_".join(chosen)} if chosen else {}


def secret_problem(name: str, value: object) -> str | None:
    """Why the environment variable `name`=`value` looks like a secret, or None."""
    if not isinstance(value, str) or not value:
        return None  # unknown or empty: nothing literal to leak
    for what, pattern in _SECRET_VALUES:
        if pattern.search(value):
            return f"{name} holds {what}"
    if (
        _SECRET_NAME.search(name)
        and not _REFERENCE_NAME.search(name)
        and not _REFERENCE_VALUE.match(value)
        and not _SETTING_VALUE.match(value)
    ):
        return f"{name} looks like a secret and is set to a literal value"
    return None


def env_pairs(items: object) -> Iterator[tuple[str, object]]:
    """(name, value) of a Cloud Run `envs` list or a Lambda `variables` mapping; a Cloud Run
    variable read from Secret Manager (`valueSource`) has no literal value (MISSING)."""
    if isinstance(items, list):
        for item in items:
            name = read(item, "name")
            if isinstance(name, str):
                yield name, read(item, "value")
        return
    if items is UNKNOWN or items is None:
        return
    try:
        keys = list(items)  # type: ignore[call-overload]
    except TypeError:
        return
    for key in keys:
        if isinstance(key, str):
            yield key, read(items, key)


def containers(props: Any, *path: str) -> list[Any]:
    """The container entries under `path` (Cloud Run service: template.containers; job:
    template.template.containers); [] when missing or unknown."""
    found = elements(props, *path, "containers")
    return [c for c in found if c is not UNKNOWN] if isinstance(found, list) else []


def shared_identities(
    workloads: Sequence[PolicyResource], identity_of: Callable[[PolicyResource], object]
) -> Iterator[tuple[PolicyResource, str, str]]:
    """(workload, identity, name of the first workload using it) for every workload whose
    identity (a role ARN, a service account email) another workload already runs as; unknown
    or missing identities are not compared."""
    seen: dict[str, str] = {}
    for workload in workloads:
        identity = identity_of(workload)
        if not isinstance(identity, str) or not identity:
            continue
        if identity in seen:
            yield workload, identity, seen[identity]
        else:
            seen[identity] = workload.name


def pinned_by_digest(image: object) -> bool:
    return isinstance(image, str) and bool(_DIGEST.search(image))


__all__ = [
    "FACETS",
    "PUBLIC_TAG",
    "containers",
    "declared_facets",
    "env_pairs",
    "pinned_by_digest",
    "public_label",
    "secret_problem",
    "shared_identities",
]
