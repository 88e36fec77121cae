"""DynamoDB-specific behaviour behind the `Table` contract, seen through the raw SDK too."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from adapters.aws.driver import AwsDriver
from adapters.backend import Backend
from adapters.catalog import STORES, Store
from adapters.clock import FakeClock
from adapters.errors import Conflict
from adapters.ports import RawEvent

pytestmark = pytest.mark.aws


def raw_item(driver: AwsDriver, store: Store, key: dict[str, dict[str, str]]) -> dict[str, object]:
    table = STORES[store].physical_name(driver.target.prefix)
    return driver.clients.dynamodb.get_item(TableName=table, Key=key, ConsistentRead=True).get(
        "Item", {}
    )


def test_raw_events_use_the_seed_attribute_names(
    aws: Backend, driver: AwsDriver, clock: FakeClock
) -> None:
    now = clock.now()
    aws.raw_events.put(
        RawEvent(
            "ev-1",
            b"org",
            b"claim",
            "MD-001",
            "1.0.0",
            "block",
            "fp",
            0.75,
            now,
            "prod",
            "explicit",
            now,
            now + timedelta(days=30),
        )
    )
    item = raw_item(driver, Store.RAW_EVENTS, {"eventid": {"S": "ev-1"}})
    assert {"eventid", "orgid_encrypted", "claim_encrypted", "ttl"} <= set(item)
    assert "N" in item["ttl"]  # type: ignore[operator]  # numeric: DynamoDB TTL needs it
    assert item["confidence"] == {"N": "0.75"}


def test_expired_items_stay_stored_but_are_invisible(
    aws: Backend, driver: AwsDriver, clock: FakeClock
) -> None:
    """moto (like DynamoDB, for up to days) keeps expired items; the clock decides."""
    table = aws.table(Store.NONCES)
    now = int(clock.now().timestamp())
    table.put({"tokenhash": "t", "ttl": now + 5})
    clock.advance(timedelta(seconds=6))
    assert table.get({"tokenhash": "t"}) is None
    assert list(table.scan()) == []
    assert raw_item(driver, Store.NONCES, {"tokenhash": {"S": "t"}})  # still physically there


def test_add_over_an_expired_counter_restarts_it_with_the_new_ttl(
    aws: Backend, driver: AwsDriver, clock: FakeClock
) -> None:
    table = aws.table(Store.RATE_LIMITS)
    start = clock.now().timestamp()
    table.add({"limitkey": "w"}, {"count": 9, "other": 4}, expires_at=start + 5)
    clock.advance(timedelta(seconds=6))
    fresh = table.add({"limitkey": "w"}, {"count": 2}, expires_at=start + 100, limit=("count", 3))
    assert fresh == {"limitkey": "w", "count": 2, "ttl": int(start + 100)}
    stored = raw_item(driver, Store.RATE_LIMITS, {"limitkey": {"S": "w"}})
    assert stored["ttl"] == {"N": str(int(start + 100))}
    assert "other" not in stored  # the expired counter's fields are gone, not carried over


def test_add_limit_counts_a_missing_field_as_zero(aws: Backend) -> None:
    table = aws.table(Store.RATE_LIMITS)
    table.add({"limitkey": "m"}, {"other": 1})
    with pytest.raises(Conflict):
        table.add({"limitkey": "m"}, {"count": 4}, limit=("count", 3))
    assert table.add({"limitkey": "m"}, {"count": 3}, limit=("count", 3))["count"] == 3
    with pytest.raises(Conflict):  # a fresh counter is refused as well
        table.add({"limitkey": "n"}, {"count": 4}, limit=("count", 3))
    assert aws.table(Store.RATE_LIMITS).get({"limitkey": "n"}) is None


def test_add_without_deltas_creates_the_item_once(aws: Backend, clock: FakeClock) -> None:
    table = aws.table(Store.RATE_LIMITS)
    expires = clock.now().timestamp() + 60
    assert table.add({"limitkey": "e"}, {}, expires_at=expires) == {
        "limitkey": "e",
        "ttl": int(expires),
    }
    table.add({"limitkey": "e"}, {"count": 2})
    assert table.add({"limitkey": "e"}, {})["count"] == 2


def test_query_follows_pages_past_filtered_expired_items(aws: Backend, clock: FakeClock) -> None:
    """With a limit, each page asks DynamoDB for that many items, and expired ones are
    filtered after the page is read: the adapter must keep paging until it has enough."""
    table = aws.table(Store.CALIBRATION)
    now = int(clock.now().timestamp())
    for i in range(6):
        expiry = {"ttl": now + 1} if i < 4 else {}
        table.put({"rulekey": "R", "sk": f"agg#{i}", "n": i, **expiry})
    clock.advance(timedelta(seconds=2))
    assert [item["n"] for item in table.query("R", range_prefix="agg#", limit=2)] == [4, 5]
    assert [item["n"] for item in table.query("R", descending=True, limit=1)] == [5]


def test_scan_follows_pages_beyond_one_megabyte(aws: Backend) -> None:
    table = aws.table(Store.API_KEYS)
    padding = "x" * 20_000
    for i in range(70):  # ~1.4 MB: DynamoDB (and moto) return it in two pages at least
        table.put({"keyhash": f"k{i:03d}", "pad": padding})
    assert sorted(item["keyhash"] for item in table.scan()) == [f"k{i:03d}" for i in range(70)]


def test_query_with_both_range_conditions(aws: Backend) -> None:
    table = aws.table(Store.CALIBRATION)
    for sk in ("agg#a#1", "agg#b#2", "seen#c", "agg#c#3"):
        table.put({"rulekey": "Q", "sk": sk})
    found = table.query("Q", range_between=("agg#a", "agg#z"), range_prefix="agg#b")
    assert [item["sk"] for item in found] == ["agg#b#2"]


def test_hour_buckets_are_utc_on_dynamodb(aws: Backend, driver: AwsDriver) -> None:
    at = datetime(2026, 3, 1, 23, 30, tzinfo=UTC)
    aws.block_counter.increment("MD-003", "a/b", at=at)
    item = raw_item(driver, Store.BLOCK_COUNTER, {"bucket": {"S": "MD-003#a/b#2026-03-01T23"}})
    assert item["count"] == {"N": "1"}
