"""Versioned secrets written once over a small driver contract, as the tables are.

A backend maps three calls onto its secret service (`SecretVersions`: list versions, add one,
disable one); `VersionedSecretStore` gives every backend the same `SecretStore` semantics on top:
current = the newest enabled version, previous = the enabled one before it (valid during the
rotation's grace window), and a disabled version is retired but never destroyed (data
pseudonymized with an old salt stays explainable).
"""

from __future__ import annotations

from typing import Protocol

from ..catalog import Secret
from ..errors import NotFound
from ..ports import SecretVersion

STORE = "secrets"


class SecretVersions(Protocol):
    """The secret driver. Versions are numbered 1, 2, 3... per secret; newest = highest."""

    def versions(
        self, secret: Secret, *, enabled_only: bool = False, limit: int | None = None
    ) -> list[SecretVersion]:
        """The secret's versions, newest first: only enabled ones if asked, at most `limit`.
        A disabled version's value may be empty where the service withholds it."""
        ...

    def add(self, secret: Secret, value: str) -> SecretVersion:
        """Append a new, enabled version."""
        ...

    def disable(self, secret: Secret, version: int) -> None:
        """Disable one existing version; `NotFound` if the secret has no such version."""
        ...

    def where(self, secret: Secret) -> str:
        """What holds the secret, for messages (e.g. `SSM parameter /prefix/redaction-key`)."""
        ...

    def set_by_hand(self, secret: Secret) -> str | None:
        """A command outside Phase Mirror that adds a version, if there is a handy one."""
        ...


class VersionedSecretStore:
    """The `SecretStore` port over a `SecretVersions` driver."""

    def __init__(self, versions: SecretVersions) -> None:
        self._versions = versions

    def put(self, secret: Secret, value: str) -> SecretVersion:
        return self._versions.add(secret, value)

    def current(self, secret: Secret) -> SecretVersion:
        enabled = self._versions.versions(secret, enabled_only=True, limit=1)
        if not enabled:
            fix = f"'phase-mirror rotate-secret {secret.value}'"
            if by_hand := self._versions.set_by_hand(secret):
                fix += f" or '{by_hand}'"
            raise NotFound(
                f"{self._versions.where(secret)} has no enabled version; create one with {fix}",
                store=STORE,
                key=secret.value,
            )
        return enabled[0]

    def previous(self, secret: Secret) -> SecretVersion | None:
        enabled = self._versions.versions(secret, enabled_only=True, limit=2)
        return enabled[1] if len(enabled) > 1 else None

    def versions(self, secret: Secret) -> list[SecretVersion]:
        return self._versions.versions(secret)

    def disable(self, secret: Secret, version: str) -> None:
        if not (version.isascii() and version.isdigit()):
            raise NotFound("no such secret version", store=STORE, key=f"{secret.value}@{version}")
        self._versions.disable(secret, int(version))
