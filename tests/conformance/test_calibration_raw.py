"""Calibration aggregates and raw ingested events on every backend."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from adapters.backend import Backend
from adapters.catalog import STORES, Store
from adapters.clock import FakeClock
from adapters.errors import Conflict, NotFound
from adapters.ports import AggregateKey, RawEvent


def test_contributions_are_idempotent_and_queryable_by_day(backend: Backend) -> None:
    cal = backend.calibration
    day1, day2, day3 = date(2026, 3, 1), date(2026, 3, 2), date(2026, 3, 3)
    key = AggregateKey("MD-002", "1.0.0", "matched", day1, "org-a")
    assert cal.contribute(key, {"total": 1, "fp": 1}, event_id="e1")
    assert not cal.contribute(key, {"total": 1, "fp": 1}, event_id="e1")  # re-run: no change
    assert cal.contribute(key, {"total": 1}, event_id="e2")
    cal.contribute(
        AggregateKey("MD-002", "1.0.0", "matched", day2, "org-b"), {"total": 1}, event_id="e3"
    )
    cal.contribute(
        AggregateKey("MD-002", "1.0.0", "matched", day3, "org-c"), {"total": 1}, event_id="e4"
    )
    cal.contribute(
        AggregateKey("MD-002", "1.0.0", "not_matched", day1, "org-a"), {"total": 1}, event_id="e5"
    )
    cal.contribute(
        AggregateKey("MD-002", "2.0.0", "matched", day1, "org-z"), {"total": 1}, event_id="e6"
    )
    found = cal.query("MD-002", "1.0.0", "matched", start=day1, end=day2)
    by_org = {a.key.org_pseudonym: dict(a.counts) for a in found}
    assert by_org == {"org-a": {"total": 2, "fp": 1}, "org-b": {"total": 1}}
    assert all(a.key.outcome == "matched" and a.key.rule_version == "1.0.0" for a in found)
    assert len(cal.query("MD-002", "1.0.0", "matched", start=day1, end=day3)) == 3


def _raw(clock: FakeClock, event_id: str, ttl: timedelta = timedelta(days=30)) -> RawEvent:
    now = clock.now()
    return RawEvent(
        event_id=event_id,
        org_id_encrypted=b"\x00sealed-org",
        claim_encrypted=b"\x01sealed-claim",
        rule_id="MD-002",
        rule_version="1.0.0",
        outcome="matched",
        actual_outcome="should_not_have_matched",
        confidence=0.75,
        timestamp=now,
        environment="staging",
        consent_basis="implicit",
        stored_at=now,
        expires_at=now + ttl,
    )


def test_raw_events_conditional_create_ttl_and_scan(backend: Backend, clock: FakeClock) -> None:
    events = backend.raw_events
    first = _raw(clock, "evt-1")
    events.put(first)
    with pytest.raises(Conflict):
        events.put(first)
    got = events.get("evt-1")
    assert got.org_id_encrypted == b"\x00sealed-org" and got.confidence == 0.75
    assert got.expires_at.replace(microsecond=0) == first.expires_at.replace(microsecond=0)
    events.put(_raw(clock, "evt-2", ttl=timedelta(seconds=10)))
    clock.advance(timedelta(seconds=11))
    with pytest.raises(NotFound):
        events.get("evt-2")
    assert [e.event_id for e in events.scan()] == ["evt-1"]


def test_raw_event_item_shape_is_the_seed_contract(backend: Backend, clock: FakeClock) -> None:
    """The seed's integration test reads `consent-store` by `eventid` and expects these fields."""
    spec = STORES[Store.RAW_EVENTS]
    assert spec.name == "consent-store" and spec.range_key is None
    assert spec.hash_key.name == "eventid" and spec.ttl_attribute == "ttl"
    backend.raw_events.put(_raw(clock, "evt-shape"))
    item = backend.table(Store.RAW_EVENTS).get({"eventid": "evt-shape"})
    assert item is not None
    assert {"eventid", "orgid_encrypted", "claim_encrypted", "ttl"} <= set(item)
    assert isinstance(item["ttl"], int)
    assert item["ttl"] == int((clock.now() + timedelta(days=30)).timestamp())
