"""The `Table` driver contract, on every backend: the ground every table-backed port stands on."""

from __future__ import annotations

from datetime import timedelta

import pytest

from adapters.backend import Backend
from adapters.catalog import Store
from adapters.clock import FakeClock
from adapters.errors import Conflict, NotFound


def test_put_get_roundtrip_keeps_types(backend: Backend) -> None:
    table = backend.table(Store.CONSENT)
    item = {"orgid": "o1", "sk": "x#1", "n": 3, "f": 0.25, "b": True, "s": "é", "m": {"a": "1"}}
    table.put(item)
    assert table.get({"orgid": "o1", "sk": "x#1"}) == item
    assert table.get({"orgid": "o1", "sk": "x#2"}) is None


def test_put_if_absent_conflicts_on_live_item(backend: Backend) -> None:
    table = backend.table(Store.DEDUP)
    table.put({"dedupkey": "k", "value": "a"}, if_absent=True)
    with pytest.raises(Conflict):
        table.put({"dedupkey": "k", "value": "b"}, if_absent=True)
    assert table.get({"dedupkey": "k"}) == {"dedupkey": "k", "value": "a"}


def test_put_if_absent_treats_expired_item_as_absent(backend: Backend, clock: FakeClock) -> None:
    table = backend.table(Store.DEDUP)
    now = int(clock.now().timestamp())
    table.put({"dedupkey": "k", "value": "old", "ttl": now + 10})
    clock.advance(timedelta(seconds=11))
    assert table.get({"dedupkey": "k"}) is None
    table.put({"dedupkey": "k", "value": "new", "ttl": now + 100}, if_absent=True)
    assert table.get({"dedupkey": "k"})["value"] == "new"  # type: ignore[index]


def test_add_creates_increments_and_respects_limit(backend: Backend) -> None:
    table = backend.table(Store.RATE_LIMITS)
    key = {"limitkey": "c"}
    assert table.add(key, {"count": 2, "other": 1})["count"] == 2
    assert table.add(key, {"count": 3}, limit=("count", 5))["count"] == 5
    with pytest.raises(Conflict):
        table.add(key, {"count": 1}, limit=("count", 5))
    item = table.get(key)
    assert item is not None and item["count"] == 5 and item["other"] == 1


def test_add_restarts_an_expired_counter(backend: Backend, clock: FakeClock) -> None:
    table = backend.table(Store.RATE_LIMITS)
    start = clock.now().timestamp()
    table.add({"limitkey": "w"}, {"count": 7}, expires_at=start + 5)
    clock.advance(timedelta(seconds=6))
    fresh = table.add({"limitkey": "w"}, {"count": 1}, expires_at=start + 100)
    assert fresh["count"] == 1


def test_update_requires_live_item(backend: Backend) -> None:
    table = backend.table(Store.FP_EVENTS)
    with pytest.raises(NotFound):
        table.update({"eventid": "nope"}, {"review": "x"})
    table.put({"eventid": "e", "ruleid": "R", "ts": 1, "findingid": "f"})
    assert table.update({"eventid": "e"}, {"review": "x"})["review"] == "x"
    assert table.get({"eventid": "e"})["review"] == "x"  # type: ignore[index]


def test_take_is_single_use_and_ignores_expired(backend: Backend, clock: FakeClock) -> None:
    table = backend.table(Store.NONCES)
    now = int(clock.now().timestamp())
    table.put({"tokenhash": "t1", "ttl": now + 60, "payload": {"o": "1"}})
    assert table.take({"tokenhash": "t1"})["payload"] == {"o": "1"}
    with pytest.raises(NotFound):
        table.take({"tokenhash": "t1"})
    table.put({"tokenhash": "t2", "ttl": now + 1})
    clock.advance(timedelta(seconds=2))
    with pytest.raises(NotFound):
        table.take({"tokenhash": "t2"})


def test_query_orders_filters_ranges_and_follows_pages(backend: Backend) -> None:
    table = backend.table(Store.CALIBRATION)
    for i in range(120):
        table.put({"rulekey": "R#1", "sk": f"agg#{i:04d}", "n": i})
    table.put({"rulekey": "R#1", "sk": "seen#x"})
    table.put({"rulekey": "R#2", "sk": "agg#0001"})
    everything = table.query("R#1")
    assert len(everything) == 121
    aggs = table.query("R#1", range_prefix="agg#")
    assert [item["n"] for item in aggs] == list(range(120))
    between = table.query("R#1", range_between=("agg#0010", "agg#0019"), descending=True)
    assert [item["n"] for item in between] == list(range(19, 9, -1))
    assert [item["n"] for item in table.query("R#1", range_prefix="agg#", limit=3)] == [0, 1, 2]


def test_index_query_is_sparse_and_ordered(backend: Backend) -> None:
    table = backend.table(Store.FP_EVENTS)
    for i, ts in enumerate([30, 10, 20]):
        table.put({"eventid": f"e{i}", "ruleid": "MD-001", "findingid": f"f{i % 2}", "ts": ts})
    table.put({"eventid": "orphan", "ts": 5})  # lacks the index hash attributes
    by_rule = table.query("MD-001", index="by-rule", descending=True)
    assert [item["ts"] for item in by_rule] == [30, 20, 10]
    assert {item["eventid"] for item in table.query("f0", index="by-finding")} == {"e0", "e2"}
    assert table.query("MD-001", index="by-rule", range_between=(15, 25))[0]["eventid"] == "e2"


def test_expired_items_are_invisible_to_every_read(backend: Backend, clock: FakeClock) -> None:
    table = backend.table(Store.RAW_EVENTS)
    now = int(clock.now().timestamp())
    table.put({"eventid": "live", "ttl": now + 100})
    table.put({"eventid": "dead", "ttl": now + 1})
    clock.advance(timedelta(seconds=1))
    assert table.get({"eventid": "dead"}) is None
    assert [item["eventid"] for item in table.scan()] == ["live"]


def test_delete_is_idempotent(backend: Backend) -> None:
    table = backend.table(Store.DEDUP)
    table.put({"dedupkey": "d", "value": "v"})
    table.delete({"dedupkey": "d"})
    table.delete({"dedupkey": "d"})
    assert table.get({"dedupkey": "d"}) is None


def test_scan_returns_everything_across_pages(backend: Backend) -> None:
    table = backend.table(Store.API_KEYS)
    for i in range(600):
        table.put({"keyhash": f"h{i:05d}"})
    assert sorted(item["keyhash"] for item in table.scan()) == [f"h{i:05d}" for i in range(600)]


def test_add_with_limit_restarts_an_expired_full_counter(
    backend: Backend, clock: FakeClock
) -> None:
    table = backend.table(Store.RATE_LIMITS)
    start = clock.now().timestamp()
    table.add({"limitkey": "full"}, {"count": 3}, expires_at=start + 5, limit=("count", 3))
    with pytest.raises(Conflict):
        table.add({"limitkey": "full"}, {"count": 1}, expires_at=start + 5, limit=("count", 3))
    clock.advance(timedelta(seconds=6))
    restarted = table.add(
        {"limitkey": "full"}, {"count": 1}, expires_at=start + 100, limit=("count", 3)
    )
    assert restarted["count"] == 1
    assert restarted["ttl"] == int(start + 100)
    with pytest.raises(Conflict):  # a single add larger than the limit is refused outright
        table.add({"limitkey": "new"}, {"count": 4}, limit=("count", 3))
    assert table.get({"limitkey": "new"}) is None
