"""Org pseudonyms: HMAC-SHA256 keyed with the anonymizer salt from the secret store.

A plain hash of an org id is reversible by anyone who can list org ids (hash every candidate and
compare); an HMAC needs the salt, which never leaves the secret store and the service's memory.

Salt rotation: a pseudonym is `{salt version}.{hmac}`, so aggregates written under different salt
versions never merge (one org rotated mid-period shows up once per version). During the grace
window after a rotation, `candidates` also returns the previous version's pseudonym, so the
ingest de-duplication still recognises an org's claim submitted just before the rotation.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import threading
import time
from dataclasses import dataclass

from adapters.catalog import SECRETS, Secret
from adapters.clock import Clock
from adapters.errors import Misconfigured, NotFound
from adapters.ports import SecretStore, SecretVersion

SALT = Secret.ANONYMIZER_SALT
_SPEC = SECRETS[SALT]
_PATTERN = re.compile(_SPEC.value_pattern)


@dataclass(frozen=True)
class Salt:
    version: str
    key: bytes

    def pseudonym(self, org_id: str) -> str:
        digest = hmac.new(self.key, org_id.encode("utf-8"), hashlib.sha256).hexdigest()
        return f"{self.version}.{digest}"


def salt_from(version: SecretVersion) -> Salt:
    if not _PATTERN.match(version.value):
        raise Misconfigured(
            f"anonymizer salt version {version.version} is not 64 lowercase hex characters; "
            "rotate it with 'phase-mirror anonymize --rotate-salt'",
            store="secrets",
            key=SALT.value,
        )
    return Salt(version.version, bytes.fromhex(version.value))


class Pseudonymizer:
    """Caches the salt for `cache_seconds` so a request does not read the secret store."""

    def __init__(self, secrets: SecretStore, clock: Clock, *, cache_seconds: float = 30.0) -> None:
        self._secrets = secrets
        self._clock = clock
        self._cache_seconds = cache_seconds
        self._lock = threading.Lock()
        self._loaded_at = -float("inf")
        self._current: Salt | None = None
        self._previous: tuple[Salt, float] | None = None  # salt, valid until (epoch seconds)

    def _load(self) -> tuple[Salt, tuple[Salt, float] | None]:
        now = time.monotonic()
        with self._lock:
            if self._current is not None and now - self._loaded_at < self._cache_seconds:
                return self._current, self._previous
        try:
            current_version = self._secrets.current(SALT)
        except NotFound:
            raise Misconfigured(
                "the anonymizer salt does not exist yet; 'phase-mirror serve' creates it on "
                "first start, or run 'phase-mirror anonymize --rotate-salt'",
                store="secrets",
                key=SALT.value,
            ) from None
        current = salt_from(current_version)
        previous_version = self._secrets.previous(SALT)
        previous = None
        if previous_version is not None:
            until = (current_version.created_at + _SPEC.grace_period).timestamp()
            previous = (salt_from(previous_version), until)
        with self._lock:
            self._current, self._previous, self._loaded_at = current, previous, now
        return current, previous

    def current(self) -> Salt:
        return self._load()[0]

    def pseudonym(self, org_id: str) -> str:
        return self.current().pseudonym(org_id)

    def candidates(self, org_id: str) -> list[str]:
        """The current pseudonym first, then the previous salt's while its grace window lasts."""
        current, previous = self._load()
        names = [current.pseudonym(org_id)]
        if previous is not None and self._clock.now().timestamp() < previous[1]:
            names.append(previous[0].pseudonym(org_id))
        return names

    def forget(self) -> None:
        """Drop the cache (after a rotation in this process)."""
        with self._lock:
            self._current, self._previous, self._loaded_at = None, None, -float("inf")
