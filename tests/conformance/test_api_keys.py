"""The API key store on every backend: conditional create by hash, lookup, listing, revocation."""

from __future__ import annotations

from datetime import timedelta

import pytest

from adapters.backend import Backend
from adapters.catalog import Store
from adapters.clock import FakeClock
from adapters.errors import Conflict, NotFound
from adapters.ports import ApiKey

HASH_A, HASH_B = "a" * 64, "b" * 64


def _key(key_hash: str, name: str, clock: FakeClock, *, restrict: bool = False) -> ApiKey:
    return ApiKey(key_hash, key_hash[:12], name, "org-a", clock.now(), restrict_org=restrict)


def test_add_get_and_conflict_by_hash(backend: Backend, clock: FakeClock) -> None:
    keys = backend.api_keys
    assert keys.get(HASH_A) is None
    stored = keys.add(_key(HASH_A, "impl", clock, restrict=True))
    assert keys.get(HASH_A) == stored
    assert (stored.key_hash, stored.key_id, stored.name, stored.org) == (
        HASH_A,
        HASH_A[:12],
        "impl",
        "org-a",
    )
    assert stored.restrict_org and stored.active
    assert abs(stored.created_at - clock.now()) < timedelta(milliseconds=1)
    with pytest.raises(Conflict):
        keys.add(_key(HASH_A, "other-name", clock))  # the hash is the identity
    assert keys.list() == [stored]


def test_list_is_oldest_first_and_revoke_keeps_the_record(
    backend: Backend, clock: FakeClock
) -> None:
    keys = backend.api_keys
    first = keys.add(_key(HASH_A, "first", clock))
    clock.advance(timedelta(seconds=1))
    second = keys.add(_key(HASH_B, "second", clock))
    assert keys.list() == [first, second]
    clock.advance(timedelta(seconds=1))
    revoked = keys.revoke(HASH_A, at=clock.now())
    assert not revoked.active and revoked.revoked_at is not None
    assert abs(revoked.revoked_at - clock.now()) < timedelta(milliseconds=1)
    assert keys.get(HASH_A) == revoked  # revoked keys stay listed and readable
    assert keys.list() == [revoked, second]
    with pytest.raises(Conflict):
        keys.add(_key(HASH_A, "again", clock))  # a revoked hash is not reusable
    with pytest.raises(NotFound):
        keys.revoke("c" * 64, at=clock.now())


def test_only_the_hash_is_stored(backend: Backend, clock: FakeClock) -> None:
    backend.api_keys.add(_key(HASH_A, "impl", clock))
    (item,) = list(backend.table(Store.API_KEYS).scan())
    assert item["keyhash"] == HASH_A
