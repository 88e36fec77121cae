"""The GCP backend's URL: `gcp://PROJECT?prefix=...&location=...[&database=...]`. Imports no
SDK, so parsing a setting never loads google-cloud; the Pulumi program builds its `backendUrl`
output here."""

from __future__ import annotations

from typing import Literal

from ..urls import UrlSpec

Service = Literal["firestore", "storage", "secretmanager", "kms"]
#: Services whose endpoint a `{service}_endpoint` parameter overrides (emulators, proxies).
SERVICES: tuple[Service, ...] = ("firestore", "storage", "secretmanager", "kms")

EXAMPLE = "gcp://my-project?prefix=phase-mirror-staging&location=us-central1"


def _project(netloc: str, path: str) -> str:
    if not netloc:
        raise ValueError("gcp:// needs a project id")
    return netloc


URL_SPEC = UrlSpec(
    scheme="gcp",
    params=frozenset(
        {"prefix", "location", "database", "transport", "bucket"}
        | {f"{service}_endpoint" for service in SERVICES}
    ),
    example=EXAMPLE,
    parse_location=_project,
    sdk_extra="gcp",
)


def gcp_backend_url(*, project: str, prefix: str, location: str, database: str) -> str:
    return URL_SPEC.url(project, {"prefix": prefix, "location": location, "database": database})
