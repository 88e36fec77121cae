"""Secret Manager calls for versioned secrets: one secret per catalog entry, one version per
rotation. The semantics (current, previous, grace window) are `adapters.stores.secrets`'s.

Secret Manager refuses to reveal a disabled version's payload, by design, so `versions()`
reports disabled versions with an empty value.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import google_crc32c
from google.api_core import exceptions as gx
from google.cloud import secretmanager

from ..catalog import Secret
from ..errors import NotFound, Unavailable
from ..ports import SecretVersion
from .clients import CALL_TIMEOUT, GcpClients
from .errors import mapped

_STORE = "secrets"
_ENABLED = secretmanager.SecretVersion.State.ENABLED


class SecretManagerVersions:
    """The secret driver (`adapters.stores.secrets.SecretVersions`) over Secret Manager."""

    def __init__(self, clients: GcpClients) -> None:
        self._clients = clients

    def _path(self, secret: Secret) -> str:
        return self._clients.settings.secret_path(secret)

    def where(self, secret: Secret) -> str:
        return "secret"

    def set_by_hand(self, secret: Secret) -> str | None:
        return None

    def _missing(self, secret: Secret) -> str:
        return f"Secret Manager secret {self._path(secret)}"

    def add(self, secret: Secret, value: str) -> SecretVersion:
        data = value.encode()
        with mapped(_STORE, secret.value, missing=self._missing(secret)):
            added = self._clients.secrets.add_secret_version(
                request={
                    "parent": self._path(secret),
                    "payload": {"data": data, "data_crc32c": int(google_crc32c.value(data))},
                },
                retry=self._clients.writes,
                timeout=CALL_TIMEOUT,
            )
        return SecretVersion(secret, _number(added.name), value, _utc(added.create_time))

    def versions(
        self, secret: Secret, *, enabled_only: bool = False, limit: int | None = None
    ) -> list[SecretVersion]:
        """Reads the payload of the listed enabled versions only (a disabled one's is withheld)."""
        listed = self._listed(secret)
        if enabled_only:
            listed = [v for v in listed if v.state == _ENABLED]
        return [
            SecretVersion(
                secret,
                _number(v.name),
                self._access(secret, v.name) if v.state == _ENABLED else "",
                _utc(v.create_time),
                v.state == _ENABLED,
            )
            for v in listed[:limit]
        ]

    def disable(self, secret: Secret, version: int) -> None:
        with mapped(_STORE, f"{secret.value}@{version}"):
            try:
                self._clients.secrets.disable_secret_version(
                    request={"name": f"{self._path(secret)}/versions/{version}"},
                    retry=self._clients.reads,  # idempotent: disabling twice is disabling
                    timeout=CALL_TIMEOUT,
                )
            except gx.NotFound:
                self._require_secret(secret)
                raise NotFound(
                    "no such secret version", store=_STORE, key=f"{secret.value}@{version}"
                ) from None

    # -- helpers

    def _listed(self, secret: Secret) -> list[Any]:
        """Every version's metadata, newest first."""
        with mapped(_STORE, secret.value, missing=self._missing(secret)):
            pages: Iterator[Any] = iter(
                self._clients.secrets.list_secret_versions(
                    request={"parent": self._path(secret)},
                    retry=self._clients.reads,
                    timeout=CALL_TIMEOUT,
                )
            )
            listed = list(pages)
        return sorted(listed, key=lambda v: int(_number(v.name)), reverse=True)

    def _access(self, secret: Secret, name: str) -> str:
        with mapped(_STORE, secret.value):
            response = self._clients.secrets.access_secret_version(
                request={"name": name}, retry=self._clients.reads, timeout=CALL_TIMEOUT
            )
        data = bytes(response.payload.data)
        # `data_crc32c` is optional (older servers and emulators omit it): check it when present.
        checksummed = "data_crc32c" in response.payload
        if checksummed and response.payload.data_crc32c != int(google_crc32c.value(data)):
            raise Unavailable("secret payload corrupted in transit", store=_STORE, key=name)
        return data.decode()

    def _require_secret(self, secret: Secret) -> None:
        with mapped(_STORE, secret.value, missing=self._missing(secret)):
            self._clients.secrets.get_secret(
                request={"name": self._path(secret)},
                retry=self._clients.reads,
                timeout=CALL_TIMEOUT,
            )


def _number(version_name: str) -> str:
    """`projects/p/secrets/s/versions/7` -> `7`."""
    return version_name.rsplit("/", 1)[-1]


def _utc(moment: datetime) -> datetime:
    return datetime.fromtimestamp(moment.timestamp(), UTC)
