"""FP event store and consent store semantics on every backend."""

from __future__ import annotations

from datetime import timedelta

import pytest

from adapters.backend import Backend
from adapters.clock import FakeClock
from adapters.errors import Conflict, NotFound
from adapters.ports import ConsentState, FpEvent, Review


def _event(
    clock: FakeClock, n: int, *, rule: str = "MD-002", finding: str | None = None
) -> FpEvent:
    return FpEvent(
        event_id=f"ev-{rule}-{n}",
        rule_id=rule,
        rule_version="1.0.0",
        finding_id=finding or f"fp-{n}",
        repo="acme/app",
        decision="block",
        timestamp=clock.now() + timedelta(minutes=n),
        context={"head_sha": "a" * 40},
    )


def test_record_is_a_conditional_create(backend: Backend, clock: FakeClock) -> None:
    event = _event(clock, 1)
    backend.fp_events.record(event)
    with pytest.raises(Conflict) as raised:
        backend.fp_events.record(event)
    assert "ev-MD-002-1" in str(raised.value) and "fp-events" in str(raised.value)
    assert backend.fp_events.get(event.event_id) == event


def test_review_by_event_id_and_false_positive_lookup_by_fingerprint(
    backend: Backend, clock: FakeClock
) -> None:
    backend.fp_events.record(_event(clock, 1, finding="fingerprint-a"))
    backend.fp_events.record(_event(clock, 2, finding="fingerprint-b"))
    assert not backend.fp_events.is_false_positive("fingerprint-a")
    reviewed = backend.fp_events.review(
        "ev-MD-002-1", Review.FALSE_POSITIVE, reviewer="alice", reason="test", at=clock.now()
    )
    assert reviewed.review is Review.FALSE_POSITIVE and reviewed.reviewer == "alice"
    assert backend.fp_events.is_false_positive("fingerprint-a")
    assert not backend.fp_events.is_false_positive("fingerprint-b")
    # The predecessor passed a rule id where a finding id was expected: a rule id matches nothing.
    assert not backend.fp_events.is_false_positive("MD-002")
    with pytest.raises(NotFound):
        backend.fp_events.review("nope", Review.CONFIRMED, reviewer="a", reason="r", at=clock.now())


def test_windows_by_count_and_since_newest_first(backend: Backend, clock: FakeClock) -> None:
    for n in range(6):
        backend.fp_events.record(_event(clock, n))
    backend.fp_events.record(_event(clock, 0, rule="MD-003"))
    last3 = backend.fp_events.window("MD-002", last=3)
    assert [e.event_id for e in last3] == ["ev-MD-002-5", "ev-MD-002-4", "ev-MD-002-3"]
    since = backend.fp_events.window("MD-002", since=clock.now() + timedelta(minutes=4))
    assert [e.event_id for e in since] == ["ev-MD-002-5", "ev-MD-002-4"]
    assert len(backend.fp_events.window("MD-002")) == 6


def test_stats_count_reviews_in_the_window(backend: Backend, clock: FakeClock) -> None:
    for n in range(5):
        backend.fp_events.record(_event(clock, n))
    at = clock.now()
    backend.fp_events.review("ev-MD-002-0", Review.FALSE_POSITIVE, reviewer="a", reason="r", at=at)
    backend.fp_events.review("ev-MD-002-1", Review.FALSE_POSITIVE, reviewer="a", reason="r", at=at)
    backend.fp_events.review("ev-MD-002-2", Review.CONFIRMED, reviewer="a", reason="r", at=at)
    stats = backend.fp_events.stats("MD-002")
    assert (stats.total, stats.false_positives, stats.confirmed, stats.pending) == (5, 2, 1, 2)
    assert backend.fp_events.stats("MD-002", last=2).pending == 2
    assert {e.event_id for e in backend.fp_events.scan()} == {f"ev-MD-002-{n}" for n in range(5)}


def test_consent_grant_revoke_scopes_expiry_history(backend: Backend, clock: FakeClock) -> None:
    consent = backend.consent
    at = clock.now()
    assert consent.check("org-1", at=at).state is ConsentState.NONE
    consent.grant("org-1", actor="admin", at=at, expires_at=at + timedelta(days=1))
    assert consent.check("org-1", at=at).state is ConsentState.GRANTED
    assert consent.check("org-1", at=at + timedelta(days=2)).state is ConsentState.EXPIRED
    consent.revoke("org-1", scope="repo:acme/secret", actor="admin", at=at + timedelta(seconds=1))
    assert consent.check("org-1", repo="acme/secret", at=at).state is ConsentState.REVOKED
    assert consent.check("org-1", repo="acme/other", at=at).state is ConsentState.GRANTED
    consent.revoke("org-1", actor="admin", at=at + timedelta(seconds=2))
    consent.grant("org-1", scope="repo:acme/other", actor="admin", at=at + timedelta(seconds=3))
    # An org-level revocation beats a repo grant.
    assert consent.check("org-1", repo="acme/other", at=at).state is ConsentState.REVOKED
    history = consent.history("org-1")
    assert [(r.scope, r.state) for r in history] == [
        ("org", ConsentState.GRANTED),
        ("repo:acme/secret", ConsentState.REVOKED),
        ("org", ConsentState.REVOKED),
        ("repo:acme/other", ConsentState.GRANTED),
    ]
    assert consent.history("org-2") == []


def test_consent_rejects_a_malformed_scope(backend: Backend, clock: FakeClock) -> None:
    with pytest.raises(ValueError, match="repo:owner/name"):
        backend.consent.grant("org-1", scope="acme", actor="a", at=clock.now())
