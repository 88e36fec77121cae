"""Block counter, rate limiter, single-use tokens and dedup on every backend."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from adapters.backend import Backend
from adapters.clock import FakeClock
from adapters.errors import Conflict, NotFound


def test_block_counter_buckets_by_utc_hour(backend: Backend, clock: FakeClock) -> None:
    clock.set(datetime(2026, 3, 1, 10, 59, 59, tzinfo=UTC))
    counter = backend.block_counter
    assert counter.increment("MD-001", "acme/app", at=clock.now()) == 1
    assert counter.increment("MD-001", "acme/app", at=clock.now()) == 2
    # Same instant in another timezone is the same bucket (the predecessor used local time).
    tokyo = clock.now().astimezone(timezone(timedelta(hours=9)))
    assert counter.count("MD-001", "acme/app", at=tokyo) == 2
    next_hour = clock.now() + timedelta(seconds=1)
    assert counter.count("MD-001", "acme/app", at=next_hour) == 0
    assert counter.increment("MD-001", "acme/app", at=next_hour) == 1
    assert counter.count("MD-001", "other/repo", at=clock.now()) == 0


def test_block_counter_refuses_naive_time(backend: Backend) -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        backend.block_counter.increment("MD-001", "a/b", at=datetime(2026, 1, 1))


def test_block_counter_buckets_expire(backend: Backend, clock: FakeClock) -> None:
    backend.block_counter.increment("MD-001", "a/b", at=clock.now())
    clock.advance(timedelta(days=3))
    # Read the old bucket after its TTL: gone.
    assert backend.block_counter.count("MD-001", "a/b", at=clock.now() - timedelta(days=3)) == 0


def test_rate_limit_fixed_window(backend: Backend, clock: FakeClock) -> None:
    clock.set(datetime(2026, 3, 1, 10, 0, 0, tzinfo=UTC))
    window = timedelta(minutes=1)
    limiter = backend.rate_limits
    decisions = [limiter.hit("k", limit=3, window=window, at=clock.now()) for _ in range(4)]
    assert [d.allowed for d in decisions] == [True, True, True, False]
    assert decisions[-1].count == 3 and decisions[-1].retry_after == pytest.approx(60)
    clock.advance(timedelta(seconds=45))
    denied = limiter.hit("k", limit=3, window=window, at=clock.now())
    assert not denied.allowed and denied.retry_after == pytest.approx(15)
    clock.advance(timedelta(seconds=15))
    assert limiter.hit("k", limit=3, window=window, at=clock.now()).allowed
    assert not limiter.hit("big", limit=3, window=window, at=clock.now(), cost=4).allowed


def test_rate_limit_distinct_members(backend: Backend, clock: FakeClock) -> None:
    window = timedelta(hours=1)
    admit = backend.rate_limits.admit_member
    at = clock.now()
    assert [
        admit("key-1", f"org-{i}", limit=3, window=window, at=at).allowed for i in range(4)
    ] == [
        True,
        True,
        True,
        False,
    ]
    # An already admitted member is always allowed, even when the window is full.
    assert admit("key-1", "org-0", limit=3, window=window, at=at).allowed
    assert admit("key-2", "org-9", limit=3, window=window, at=at).allowed
    clock.advance(window)
    assert admit("key-1", "org-3", limit=3, window=window, at=clock.now()).allowed


def test_token_single_use_and_ttl(backend: Backend, clock: FakeClock) -> None:
    tokens = backend.nonces
    expires = tokens.issue("h1", {"orgid": "o1"}, ttl=timedelta(seconds=30), at=clock.now())
    assert expires >= clock.now() + timedelta(seconds=30)
    with pytest.raises(Conflict):
        tokens.issue("h1", {"orgid": "o2"}, ttl=timedelta(seconds=30), at=clock.now())
    assert tokens.consume("h1") == {"orgid": "o1"}
    with pytest.raises(NotFound):
        tokens.consume("h1")
    with pytest.raises(NotFound):
        tokens.consume("never-issued")
    tokens.issue("h2", {"orgid": "o1"}, ttl=timedelta(seconds=30), at=clock.now())
    clock.advance(timedelta(seconds=32))
    with pytest.raises(NotFound):
        tokens.consume("h2")


def test_dedup_claim_release_and_expiry(backend: Backend, clock: FakeClock) -> None:
    dedup = backend.dedup
    ttl = timedelta(hours=24)
    assert dedup.claim("k", "event-1", ttl=ttl, at=clock.now()) is None
    assert dedup.claim("k", "event-2", ttl=ttl, at=clock.now()) == "event-1"
    dedup.release("k")
    assert dedup.claim("k", "event-3", ttl=ttl, at=clock.now()) is None
    clock.advance(ttl + timedelta(seconds=2))
    assert dedup.claim("k", "event-4", ttl=ttl, at=clock.now()) is None
