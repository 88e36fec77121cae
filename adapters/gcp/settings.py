"""What a `gcp://project?...` setting means: project, names from the catalog, endpoints.

Every physical name (collections, key ring, secrets, bucket) is derived here from the prefix and
the catalog, so the driver and the Pulumi program cannot disagree on them.

Endpoints: `http://host:port` means a local emulator (plaintext, anonymous credentials);
`https://host` or a bare `host` means a TLS endpoint (a regional endpoint or a proxy) with the
application-default credentials.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal
from urllib.parse import urlsplit

from ..catalog import BASELINES_BUCKET, SECRETS, Secret, StoreSpec
from ..config import BackendSetting
from ..errors import Misconfigured
from .spec import GCP_CRYPTO_KEY, gcp_key_ring, secret_manager_id
from .url import SERVICES, Service

Transport = Literal["grpc", "rest"]

DEFAULT_DATABASE = "(default)"
DEFAULT_LOCATION = "global"

# Project ids: 6-30 lowercase letters, digits and hyphens (optionally domain-scoped).
_PROJECT_RE = re.compile(r"^([a-z0-9.-]+:)?[a-z][a-z0-9-]{4,28}[a-z0-9]$")
_LOCATION_RE = re.compile(r"^[a-z][a-z0-9-]*[a-z0-9]$")


@dataclass(frozen=True)
class Endpoint:
    """Where one service is reached, or None for Google's default endpoint."""

    host: str
    plaintext: bool  # http:// : an emulator on loopback, spoken to without TLS or credentials

    @property
    def url(self) -> str:
        return f"{'http' if self.plaintext else 'https'}://{self.host}"


@dataclass(frozen=True)
class GcpSettings:
    project: str
    prefix: str
    database: str
    location: str
    bucket: str
    endpoints: dict[Service, Endpoint]
    #: Transport of the Secret Manager and Cloud KMS clients (Firestore's client is gRPC-only,
    #: Cloud Storage's is JSON over HTTP).
    transport: Transport
    url: str
    source: str

    def endpoint(self, service: Service) -> Endpoint | None:
        return self.endpoints.get(service)

    def emulated(self, service: Service) -> bool:
        endpoint = self.endpoints.get(service)
        return endpoint is not None and endpoint.plaintext

    def collection(self, spec: StoreSpec) -> str:
        return spec.physical_name(self.prefix)

    @property
    def location_path(self) -> str:
        return f"projects/{self.project}/locations/{self.location}"

    @property
    def key_ring_id(self) -> str:
        return gcp_key_ring(self.prefix)

    @property
    def key_ring_path(self) -> str:
        return f"{self.location_path}/keyRings/{self.key_ring_id}"

    @property
    def crypto_key_id(self) -> str:
        return GCP_CRYPTO_KEY

    @property
    def crypto_key_path(self) -> str:
        return f"{self.key_ring_path}/cryptoKeys/{self.crypto_key_id}"

    def secret_id(self, secret: Secret) -> str:
        return secret_manager_id(SECRETS[secret], self.prefix)

    def secret_path(self, secret: Secret) -> str:
        return f"projects/{self.project}/secrets/{self.secret_id(secret)}"


def parse_settings(setting: BackendSetting) -> GcpSettings:
    """Validate a gcp:// setting; `Misconfigured` names the parameter and the fix."""
    where = f"backend setting from {setting.source} ({setting.url})"
    project = setting.location
    if not _PROJECT_RE.match(project):
        raise Misconfigured(
            f"{where}: {project!r} is not a Google Cloud project id (6-30 lowercase letters, "
            "digits and '-', starting with a letter); e.g. gcp://my-project?prefix=phase-mirror"
        )
    location = setting.param("location") or DEFAULT_LOCATION
    if not _LOCATION_RE.match(location):
        raise Misconfigured(f"{where}: location={location!r} is not a region such as us-central1")
    endpoints: dict[Service, Endpoint] = {}
    for service in SERVICES:
        raw = setting.param(f"{service}_endpoint")
        if raw:
            endpoints[service] = _endpoint(raw, f"{service}_endpoint", where)
    transport = setting.param("transport") or ("rest" if _any_plaintext_rpc(endpoints) else "grpc")
    if transport not in ("grpc", "rest"):
        raise Misconfigured(f"{where}: transport={transport!r}; use transport=grpc or rest")
    if transport == "grpc" and _any_plaintext_rpc(endpoints):
        raise Misconfigured(
            f"{where}: plaintext http:// endpoints for Secret Manager and Cloud KMS need "
            "transport=rest (the emulators speak REST only)"
        )
    prefix = setting.prefix
    return GcpSettings(
        project=project,
        prefix=prefix,
        database=setting.param("database") or DEFAULT_DATABASE,
        location=location,
        bucket=setting.param("bucket") or BASELINES_BUCKET.physical_name(prefix),
        endpoints=endpoints,
        transport="rest" if transport == "rest" else "grpc",
        url=setting.url,
        source=setting.source,
    )


def _any_plaintext_rpc(endpoints: dict[Service, Endpoint]) -> bool:
    return any(endpoints[s].plaintext for s in ("secretmanager", "kms") if s in endpoints)


def _endpoint(raw: str, name: str, where: str) -> Endpoint:
    parts = urlsplit(raw if "://" in raw else f"https://{raw}")
    if parts.scheme not in ("http", "https") or not parts.netloc or parts.path not in ("", "/"):
        raise Misconfigured(
            f"{where}: {name}={raw!r} is not an endpoint; use http://127.0.0.1:PORT for an "
            "emulator or https://HOST for a regional endpoint or proxy"
        )
    return Endpoint(parts.netloc, plaintext=parts.scheme == "http")
