"""API keys of certified implementations, over the backend's API key store (`backend.api_keys`).

Only the SHA-256 of a key is stored (keys are 256-bit random values, so a fast hash is enough:
there is nothing to brute-force). A key is bound to the org that owns it (the implementation's
operator); a key created with `restrict_org` may only act for that one org. Lookups go by hash,
and the stored hash is then compared with `hmac.compare_digest`, so no step of the check depends
on how many leading characters of a guess were right.

Verified keys are cached per process for `cache_seconds` (default 5 s): a revocation takes effect
everywhere within that time.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import threading
import time

from adapters.catalog import Store
from adapters.clock import Clock
from adapters.errors import Conflict, NotFound
from adapters.ports import ApiKey, ApiKeyStore

KEY_PREFIX = "pmk_"
#: `keys import` accepts existing values for migrations and test environments.
_IMPORTABLE = re.compile(r"^[\x21-\x7e]{8,256}$")
_MAX_TOKEN = 256
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
_ID_LEN = 12
_STORE = Store.API_KEYS.value


def hash_key(value: str) -> str:
    return hashlib.sha256(value.encode("utf-8")).hexdigest()


class ApiKeyService:
    def __init__(self, keys: ApiKeyStore, clock: Clock, *, cache_seconds: float = 5.0) -> None:
        self._keys = keys
        self._clock = clock
        self._cache_seconds = cache_seconds
        self._cache: dict[str, tuple[ApiKey | None, float]] = {}
        self._lock = threading.Lock()

    # -- administration (CLI)

    def create(self, name: str, org: str, *, restrict_org: bool = False) -> tuple[str, ApiKey]:
        """A new random key: returns its value (shown once, never stored) and its record."""
        value = KEY_PREFIX + secrets.token_hex(32)
        return value, self._insert(value, name, org, restrict_org)

    def import_key(self, value: str, name: str, org: str, *, restrict_org: bool = False) -> ApiKey:
        if not _IMPORTABLE.match(value):
            raise ValueError(
                "an imported key must be 8-256 printable ASCII characters without spaces"
            )
        return self._insert(value, name, org, restrict_org)

    def _insert(self, value: str, name: str, org: str, restrict_org: bool) -> ApiKey:
        if not _NAME.match(name):
            raise ValueError(
                f"invalid key name {name!r}: use 1-64 letters, digits, '.', '_' or '-'"
            )
        if not org.strip() or len(org) > 128:
            raise ValueError("the owning org must be 1-128 characters")
        if any(key.name == name and key.active for key in self.list()):
            raise Conflict(
                f"an active key named {name!r} exists; revoke it first or pick another name",
                store=_STORE,
            )
        digest = hash_key(value)
        key = ApiKey(digest, digest[:_ID_LEN], name, org, self._clock.now(), restrict_org)
        return self._keys.add(key)

    def list(self) -> list[ApiKey]:
        return self._keys.list()

    def revoke(self, id_or_name: str) -> ApiKey:
        matches = [
            key for key in self._keys.list() if key.active and id_or_name in (key.key_id, key.name)
        ]
        if not matches:
            raise NotFound(
                "no active key with this id or name; see 'phase-mirror keys list'",
                store=_STORE,
                key=id_or_name,
            )
        if len(matches) > 1:
            raise Conflict("several active keys match; revoke by key id", store=_STORE)
        key = self._keys.revoke(matches[0].key_hash, at=self._clock.now())
        with self._lock:
            self._cache.pop(key.key_hash, None)
        return key

    # -- request path

    def authenticate(self, token: object) -> ApiKey | None:
        """The active key whose value is `token`, or None."""
        if not isinstance(token, str) or not 0 < len(token) <= _MAX_TOKEN:
            return None
        digest = hash_key(token)
        now = time.monotonic()
        with self._lock:
            cached = self._cache.get(digest)
        if cached is not None and cached[1] > now:
            return cached[0]
        found = self._keys.get(digest)
        key = None
        if found is not None and hmac.compare_digest(found.key_hash, digest):
            key = found if found.active else None
        # Unknown tokens are cached briefly too, so a flood of bad tokens stays off the store.
        ttl = self._cache_seconds if key is not None else min(self._cache_seconds, 1.0)
        with self._lock:
            if len(self._cache) > 10_000:
                self._cache.clear()
            self._cache[digest] = (key, now + ttl)
        return key
