"""Decision thresholds, the circuit breaker (its warn is final), dry runs and UTC hour buckets."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from adapters.backend import Backend
from adapters.catalog import Metric
from adapters.clock import FakeClock
from service.oracle.config import OracleConfig, Thresholds
from service.oracle.decision import decide
from service.oracle.model import Finding, Outcome, Severity, fingerprint
from service.oracle.redaction import redact

from .conftest import fixture, run

ALL = frozenset({"MD-001", "MD-002", "MD-003", "MD-004", "MD-005", "MD-102"})


def only(*rules: str, **thresholds: int) -> OracleConfig:
    return OracleConfig(disabled_rules=ALL - set(rules), thresholds=Thresholds(**thresholds))


def finding(severity: Severity, n: int = 0, rule: str = "MD-002") -> Finding:
    return Finding(
        rule,
        "1.0.0",
        "x",
        severity,
        redact("m"),
        redact(""),
        "fix",
        "a.yml",
        1,
        fingerprint("r", rule, "x", "a.yml", str(n)),
    )


def many(severity: Severity, count: int) -> list[Finding]:
    return [finding(severity, n) for n in range(count)]


# ----------------------------------------------------------------- thresholds


@pytest.mark.parametrize(
    ("findings", "strict", "outcome"),
    [
        ([], False, Outcome.PASS),
        (many(Severity.LOW, 50), False, Outcome.PASS),
        (many(Severity.MEDIUM, 1), False, Outcome.WARN),
        (many(Severity.CRITICAL, 1), False, Outcome.BLOCK),
        (many(Severity.HIGH, 3), False, Outcome.WARN),
        (many(Severity.HIGH, 4), False, Outcome.BLOCK),
        (many(Severity.MEDIUM, 10), False, Outcome.WARN),
        (many(Severity.MEDIUM, 11), False, Outcome.BLOCK),
        (many(Severity.HIGH, 1), True, Outcome.BLOCK),
        (many(Severity.MEDIUM, 5), True, Outcome.WARN),
        (many(Severity.MEDIUM, 6), True, Outcome.BLOCK),
        (many(Severity.CRITICAL, 1), True, Outcome.BLOCK),
    ],
)
def test_decision_thresholds(findings: list[Finding], strict: bool, outcome: Outcome) -> None:
    assert decide(findings, Thresholds(), strict=strict).outcome is outcome


def test_thresholds_are_configurable() -> None:
    assert (
        decide(many(Severity.HIGH, 4), Thresholds(block_high=5), strict=False).outcome
        is Outcome.WARN
    )


def test_dry_run_turns_block_into_warn_and_writes_nothing(keyed_backend: Backend) -> None:
    analysis = run(keyed_backend, fixture("md002", "failing"), config=only("MD-002"), dry_run=True)
    decision = analysis.report["machine_decision"]
    assert decision["outcome"] == "warn" and decision["would_block"] and analysis.exit_code == 0
    assert "dry run: would block" in decision["reasons"]
    assert analysis.report["fp_events"] is None
    assert list(keyed_backend.fp_events.scan()) == []
    assert (
        keyed_backend.block_counter.count("MD-002", "acme/widgets", at=keyed_backend.clock.now())
        == 0
    )


# ----------------------------------------------------------------- circuit breaker


def test_breaker_warn_is_the_final_outcome(keyed_backend: Backend) -> None:
    config = only("MD-002", circuit_breaker_per_hour=3)
    repo = fixture("md002", "failing")
    for attempt in range(1, 4):
        analysis = run(keyed_backend, repo, config=config)
        assert analysis.outcome is Outcome.BLOCK and analysis.exit_code == 1, attempt
        assert analysis.report["circuit_breaker"]["counts"] == {"MD-002": attempt}
    tripped = run(keyed_backend, repo, config=config)
    decision = tripped.report["machine_decision"]
    assert (
        tripped.outcome is Outcome.WARN and decision["outcome"] == "warn" and tripped.exit_code == 0
    )
    assert tripped.report["circuit_breaker"]["tripped"] == ["MD-002"]
    [reason] = [d for d in tripped.report["degraded"] if d["reason"] == "circuit_breaker_triggered"]
    assert reason["rule"] == "MD-002" and reason["fail"] == "open"
    assert all(f["circuit_breaker"] for f in tripped.report["findings"])
    assert keyed_backend.metrics.totals[Metric.CIRCUIT_BREAKER_TRIGGERS.value] == 1  # type: ignore[attr-defined]
    # the acted-on findings were recorded with the decision that really applied
    decisions = {e.decision for e in keyed_backend.fp_events.window("MD-002")}
    assert decisions == {"block"}  # same head: the events of the blocking runs stand
    assert tripped.report["fp_events"]["already_recorded"] > 0


def test_breaker_only_degrades_the_tripped_rule(keyed_backend: Backend) -> None:
    repo = fixture("md002", "failing")
    for _ in range(2):
        run(keyed_backend, repo, config=only("MD-002", circuit_breaker_per_hour=2))
    # MD-003 blocks on its own (critical script injection) and has not tripped
    both = run(
        keyed_backend,
        fixture("md003", "failing"),
        config=only("MD-002", "MD-003", circuit_breaker_per_hour=2),
    )
    assert both.report["circuit_breaker"]["counts"] == {"MD-003": 1}
    combined = run(keyed_backend, repo, config=only("MD-002", "MD-003", circuit_breaker_per_hour=2))
    assert combined.report["circuit_breaker"]["tripped"] == ["MD-002"]
    assert combined.outcome is Outcome.WARN  # md002 repo has no MD-003 findings


def test_breaker_buckets_are_utc_hours(keyed_backend: Backend) -> None:
    clock: FakeClock = keyed_backend.clock  # type: ignore[assignment]
    clock.set(datetime(2026, 3, 1, 9, 59, tzinfo=UTC))
    config = only("MD-002", circuit_breaker_per_hour=1)
    repo = fixture("md002", "failing")
    assert run(keyed_backend, repo, config=config).outcome is Outcome.BLOCK
    assert run(keyed_backend, repo, config=config).outcome is Outcome.WARN
    clock.advance(timedelta(minutes=1))  # 10:00 UTC: a new bucket
    assert run(keyed_backend, repo, config=config).outcome is Outcome.BLOCK
    # 15:30 at UTC+05:30 is 10:00 UTC: same bucket as above, whatever the local zone says
    ist = timezone(timedelta(hours=5, minutes=30))
    assert (
        keyed_backend.block_counter.count(
            "MD-002", "acme/widgets", at=datetime(2026, 3, 1, 15, 30, tzinfo=ist)
        )
        == 1
    )


def test_dry_run_reads_the_breaker_without_counting(keyed_backend: Backend) -> None:
    config = only("MD-002", circuit_breaker_per_hour=1)
    repo = fixture("md002", "failing")
    run(keyed_backend, repo, config=config)
    dry = run(keyed_backend, repo, config=config, dry_run=True)
    assert dry.report["circuit_breaker"]["tripped"] == ["MD-002"]
    assert (
        keyed_backend.block_counter.count("MD-002", "acme/widgets", at=keyed_backend.clock.now())
        == 1
    )


def test_no_block_no_counting(keyed_backend: Backend) -> None:
    analysis = run(keyed_backend, fixture("md002", "passing"), config=only("MD-002"))
    assert analysis.outcome is Outcome.PASS and analysis.report["circuit_breaker"]["counts"] == {}
