"""API keys of certified implementations, over the catalog's `api-keys` table.

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
from dataclasses import dataclass
from datetime import datetime

from adapters.catalog import Store
from adapters.clock import Clock, from_epoch
from adapters.errors import Conflict, NotFound
from adapters.table import Item, Table

KEY_PREFIX = "pmk_"
#: `keys import` accepts existing values for migrations and test environments.
_IMPORTABLE = re.compile(r"^[\x21-\x7e]{8,256}$")
_MAX_TOKEN = 256
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
_ID_LEN = 12


@dataclass(frozen=True)
class ApiKey:
    key_id: str
    name: str
    org: str
    created_at: datetime
    restrict_org: bool = False
    revoked_at: datetime | None = None

    @property
    def active(self) -> bool:
        return self.revoked_at is None

    def may_act_for(self, org_id: str) -> bool:
        return not self.restrict_org or hmac.compare_digest(self.org, org_id)


def hash_key(value: str) -> str:
    return hashlib.sha256(value.encode("utf-8")).hexdigest()


def new_key_value() -> str:
    return KEY_PREFIX + secrets.token_hex(32)


class ApiKeyStore:
    def __init__(self, table: Table, clock: Clock, *, cache_seconds: float = 5.0) -> None:
        if table.spec.store is not Store.API_KEYS:
            raise ValueError(f"ApiKeyStore needs the {Store.API_KEYS.value} table")
        self._table = table
        self._clock = clock
        self._cache_seconds = cache_seconds
        self._cache: dict[str, tuple[ApiKey | None, float]] = {}
        self._lock = threading.Lock()

    # -- administration (CLI)

    def create(self, name: str, org: str, *, restrict_org: bool = False) -> tuple[str, ApiKey]:
        """A new random key: returns its value (shown once, never stored) and its record."""
        value = new_key_value()
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
                store=self._table.spec.name,
            )
        digest = hash_key(value)
        item: Item = {
            "keyhash": digest,
            "keyid": digest[:_ID_LEN],
            "name": name,
            "org": org,
            "restrict": restrict_org,
            "createdat": int(self._clock.now().timestamp() * 1000),
        }
        try:
            self._table.put(item, if_absent=True)
        except Conflict:
            raise Conflict(
                "this key value is already registered", store=self._table.spec.name
            ) from None
        return _decode(item)

    def list(self) -> list[ApiKey]:
        return sorted((_decode(i) for i in self._table.scan()), key=lambda k: k.created_at)

    def revoke(self, id_or_name: str) -> ApiKey:
        matches = [
            item
            for item in self._table.scan()
            if "revokedat" not in item
            and (item["keyid"] == id_or_name or item["name"] == id_or_name)
        ]
        if not matches:
            raise NotFound(
                "no active key with this id or name; see 'phase-mirror keys list'",
                store=self._table.spec.name,
                key=id_or_name,
            )
        if len(matches) > 1:
            raise Conflict(
                "several active keys match; revoke by key id", store=self._table.spec.name
            )
        revoked_at = int(self._clock.now().timestamp() * 1000)
        item = self._table.update({"keyhash": matches[0]["keyhash"]}, {"revokedat": revoked_at})
        with self._lock:
            self._cache.pop(item["keyhash"], None)
        return _decode(item)

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
        item = self._table.get({"keyhash": digest})
        key = None
        if item is not None and hmac.compare_digest(str(item["keyhash"]), digest):
            candidate = _decode(item)
            key = candidate if candidate.active else None
        # Unknown tokens are cached briefly too, so a flood of bad tokens stays off the store.
        ttl = self._cache_seconds if key is not None else min(self._cache_seconds, 1.0)
        with self._lock:
            if len(self._cache) > 10_000:
                self._cache.clear()
            self._cache[digest] = (key, now + ttl)
        return key

    def any_active(self) -> bool:
        return any(key.active for key in self.list())


def _decode(item: Item) -> ApiKey:
    revoked = item.get("revokedat")
    return ApiKey(
        key_id=str(item["keyid"]),
        name=str(item["name"]),
        org=str(item["org"]),
        created_at=from_epoch(int(item["createdat"]) / 1000),
        restrict_org=bool(item.get("restrict", False)),
        revoked_at=None if revoked is None else from_epoch(int(revoked) / 1000),
    )
