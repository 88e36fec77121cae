"""The redaction key: read from the secret store, validated, with its rotation grace window.

Fail closed: a missing, unreadable or malformed key raises `RedactionKeyUnavailable`; the
oracle then blocks and exits 2 ("cannot vouch"), its report left unsealed. Every failed read
emits the catalog metric `SecretStoreFailures`, which the platform alarms on.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime

from adapters.catalog import SECRETS, Metric, Secret
from adapters.errors import NotFound, StoreError
from adapters.ports import MetricsSink, SecretStore, SecretVersion

_SPEC = SECRETS[Secret.REDACTION_KEY]
_PATTERN = re.compile(_SPEC.value_pattern)


@dataclass(frozen=True)
class RedactionKey:
    version: str
    material: bytes
    created_at: datetime


@dataclass(frozen=True)
class Keyring:
    """The current key and, while the grace window after its rotation lasts, the previous one."""

    current: RedactionKey
    previous: RedactionKey | None = None

    def candidates(self) -> Iterator[tuple[str, RedactionKey]]:
        yield "current", self.current
        if self.previous is not None:
            yield "previous", self.previous

    def age_seconds(self, now: datetime) -> float:
        return (now - self.current.created_at).total_seconds()


class RedactionKeyUnavailable(Exception):
    """No usable redaction key: the oracle must fail closed."""


def _decode(version: SecretVersion) -> RedactionKey:
    if not _PATTERN.match(version.value):
        raise RedactionKeyUnavailable(
            f"redaction key version {version.version} is malformed: it must be 64 lowercase hex "
            "characters (32 random bytes); rotate it to a well-formed value"
        )
    return RedactionKey(version.version, bytes.fromhex(version.value), version.created_at)


def load_keyring(secrets: SecretStore, metrics: MetricsSink, *, now: datetime) -> Keyring:
    """Read and validate the redaction key; the previous version only within its grace window."""
    try:
        current_version = secrets.current(Secret.REDACTION_KEY)
        previous_version = secrets.previous(Secret.REDACTION_KEY)
        current = _decode(current_version)
        previous = None
        if previous_version is not None and now <= current.created_at + _SPEC.grace_period:
            previous = _decode(previous_version)
    except NotFound:
        metrics.emit(Metric.SECRET_STORE_FAILURES)
        raise RedactionKeyUnavailable(
            f"no redaction key in the secret store (secret {Secret.REDACTION_KEY.value!r}); "
            "provision it (the Pulumi stack, or `phase-mirror serve` on first start, creates it; "
            "see docs/oracle.md)"
        ) from None
    except StoreError as error:
        metrics.emit(Metric.SECRET_STORE_FAILURES)
        raise RedactionKeyUnavailable(f"cannot read the redaction key: {error}") from None
    except RedactionKeyUnavailable:
        metrics.emit(Metric.SECRET_STORE_FAILURES)
        raise
    return Keyring(current, previous)
