"""Secret rotation with a grace window, on any backend.

A rotation writes a new version, which becomes current; the version it replaces stays enabled as
"previous" for the catalog's grace period, so reports sealed and pseudonyms made with it still
verify. Every run also retires what the grace window no longer covers: any enabled version older
than previous, and previous itself once current is older than the grace period. Versions are
disabled, never destroyed. Re-running with the value that is already current changes nothing.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass, field
from datetime import datetime

from adapters.catalog import SECRETS, Secret
from adapters.errors import NotFound
from adapters.ports import SecretStore, SecretVersion


class InvalidSecretValue(ValueError):
    pass


@dataclass
class RotationResult:
    secret: Secret
    rotated: bool
    current_version: str
    previous_version: str | None
    retired: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, object]:
        return {
            "secret": self.secret.value,
            "rotated": self.rotated,
            "current_version": self.current_version,
            "previous_version": self.previous_version,
            "retired": self.retired,
        }


def validate_value(secret: Secret, value: str) -> str:
    pattern = SECRETS[secret].value_pattern
    if not re.fullmatch(pattern, value):
        raise InvalidSecretValue(
            f"{secret.value} must be 64 lowercase hex characters (32 bytes), got "
            f"{len(value)} characters; generate one with: openssl rand -hex 32"
        )
    return value


def rotate(
    store: SecretStore, secret: Secret, *, now: datetime, value: str | None = None
) -> RotationResult:
    """Write a new version (random unless `value` is given) unless `value` is already current."""
    if value is not None:
        validate_value(secret, value)
    current = _current_or_none(store, secret)
    rotated = not (value is not None and current is not None and current.value == value)
    if rotated:
        store.put(secret, value or secrets.token_hex(32))
    return _result(store, secret, rotated, retire_expired(store, secret, now=now))


def retire_only(store: SecretStore, secret: Secret, *, now: datetime) -> RotationResult:
    """Write nothing; retire what the grace window no longer covers (for cron)."""
    return _result(store, secret, False, retire_expired(store, secret, now=now))


def _result(
    store: SecretStore, secret: Secret, rotated: bool, retired: list[str]
) -> RotationResult:
    current = store.current(secret)
    previous = store.previous(secret)
    return RotationResult(
        secret, rotated, current.version, previous.version if previous else None, retired
    )


def retire_expired(store: SecretStore, secret: Secret, *, now: datetime) -> list[str]:
    """Disable enabled versions the grace window no longer covers; returns their ids."""
    grace = SECRETS[secret].grace_period
    enabled = [v for v in store.versions(secret) if v.enabled]
    retired = []
    for index, version in enumerate(enabled[1:], start=1):
        successor = enabled[index - 1]
        if index >= 2 or now - successor.created_at >= grace:
            store.disable(secret, version.version)
            retired.append(version.version)
    return retired


def _current_or_none(store: SecretStore, secret: Secret) -> SecretVersion | None:
    try:
        return store.current(secret)
    except NotFound:
        return None
