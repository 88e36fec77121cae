"""Degraded modes: what fails open (reported) and what fails closed (block, exit 2), plus
evaluation errors and false-positive suppression by fingerprint.

A failing dependency is the real local store wrapped so that one port operation raises the
taxonomy error a cloud backend raises when its service is down."""

from __future__ import annotations

import secrets
from typing import Any

import pytest

from adapters.backend import Backend
from adapters.catalog import Metric, Secret
from adapters.errors import Unavailable
from adapters.ports import Review
from service.oracle.baseline import baseline_key
from service.oracle.model import Outcome
from service.oracle.rules import RULES
from service.oracle.rules.base import Rule

from .conftest import fixture, remove_redaction_key, run
from .test_decision_breaker import only


class Failing:
    """A port whose `methods` raise `Unavailable`; everything else goes to the real port."""

    def __init__(self, inner: Any, *methods: str) -> None:
        self._inner = inner
        self._methods = set(methods)

    def __getattr__(self, name: str) -> Any:
        if name in self._methods:

            def fail(*args: Any, **kwargs: Any) -> Any:
                raise Unavailable("service down (test)", store=name)

            return fail
        return getattr(self._inner, name)


def reasons(analysis: Any) -> dict[str, str]:
    return {d["reason"]: d["fail"] for d in analysis.report["degraded"]}


def failures(backend: Backend) -> int:
    return int(backend.metrics.totals[Metric.SECRET_STORE_FAILURES.value])  # type: ignore[attr-defined]


# ----------------------------------------------------------------- fail closed


def test_missing_redaction_key_fails_closed(local_backend: Backend) -> None:
    analysis = run(
        remove_redaction_key(local_backend), fixture("md002", "passing"), config=only("MD-002")
    )
    assert reasons(analysis) == {"redaction_key_unavailable": "closed"}
    decision = analysis.report["machine_decision"]
    assert (
        decision["outcome"] == "block" and decision["unable_to_vouch"] and analysis.exit_code == 2
    )
    assert analysis.keyring is None and failures(local_backend) == 1


def test_unreadable_secret_store_fails_closed_and_counts(local_backend: Backend) -> None:
    local_backend.secrets.put(Secret.REDACTION_KEY, secrets.token_hex(32))
    local_backend.secrets = Failing(local_backend.secrets, "current")  # type: ignore[assignment]
    analysis = run(local_backend, fixture("md002", "passing"), config=only("MD-002"))
    assert reasons(analysis) == {"redaction_key_unavailable": "closed"} and analysis.exit_code == 2
    assert "service down" in analysis.report["degraded"][0]["detail"]
    assert failures(local_backend) == 1


def test_malformed_redaction_key_fails_closed(local_backend: Backend) -> None:
    local_backend.secrets.put(Secret.REDACTION_KEY, "not-a-hex-key")
    analysis = run(local_backend, fixture("md002", "passing"), config=only("MD-002"))
    assert analysis.exit_code == 2 and "malformed" in analysis.report["degraded"][0]["detail"]


def test_fp_write_failure_fails_closed(keyed_backend: Backend) -> None:
    keyed_backend.fp_events = Failing(keyed_backend.fp_events, "record")  # type: ignore[assignment]
    analysis = run(keyed_backend, fixture("md002", "failing"), config=only("MD-002"))
    assert reasons(analysis) == {"fp_write_failed": "closed"}
    assert analysis.outcome is Outcome.BLOCK and analysis.exit_code == 2


def test_fp_write_failure_turns_a_warn_into_block(keyed_backend: Backend) -> None:
    keyed_backend.fp_events = Failing(keyed_backend.fp_events, "record")  # type: ignore[assignment]
    analysis = run(
        keyed_backend,
        fixture("md002", "failing"),
        config=only("MD-002", "MD-003"),
        dry_run=False,
        repo="acme/x",
    )
    assert analysis.exit_code == 2
    warn_only = run(keyed_backend, fixture("md004", "failing-no-codeowners"), config=only("MD-004"))
    assert warn_only.report["machine_decision"]["would_block"] is False
    assert warn_only.outcome is Outcome.BLOCK and warn_only.exit_code == 2


# ----------------------------------------------------------------- fail open


def test_fp_store_read_failure_fails_open(keyed_backend: Backend) -> None:
    keyed_backend.fp_events = Failing(keyed_backend.fp_events, "is_false_positive")  # type: ignore[assignment]
    analysis = run(keyed_backend, fixture("md002", "failing"), config=only("MD-002"))
    assert reasons(analysis) == {"fp_store_unavailable": "open"}
    assert analysis.exit_code == 1 and analysis.report["machine_decision"]["suppressed"] == 0


def test_block_counter_failure_fails_open(keyed_backend: Backend) -> None:
    keyed_backend.block_counter = Failing(keyed_backend.block_counter, "increment")  # type: ignore[assignment]
    analysis = run(keyed_backend, fixture("md002", "failing"), config=only("MD-002"))
    assert reasons(analysis) == {"block_counter_unavailable": "open"}
    assert analysis.outcome is Outcome.BLOCK and analysis.exit_code == 1


def test_baseline_store_failure_fails_open(keyed_backend: Backend) -> None:
    keyed_backend.baselines = Failing(keyed_backend.baselines, "get")  # type: ignore[assignment]
    analysis = run(keyed_backend, fixture("md002", "passing"), config=only("MD-002", "MD-005"))
    assert reasons(analysis) == {"baseline_unavailable": "open"}
    assert analysis.exit_code == 0


def test_corrupt_baseline_fails_open(keyed_backend: Backend) -> None:
    keyed_backend.baselines.put(baseline_key("acme/widgets"), b"{not json")
    analysis = run(keyed_backend, fixture("md002", "passing"), config=only("MD-002", "MD-005"))
    assert reasons(analysis) == {"baseline_unreadable": "open"}


# ----------------------------------------------------------------- evaluation errors


def _crash(ctx: Any, emit: Any) -> None:
    raise RuntimeError("boom: token=ghp_" + "x" * 36)


def test_crashing_rule_blocks_and_is_never_suppressed(
    keyed_backend: Backend, monkeypatch: pytest.MonkeyPatch
) -> None:
    import service.oracle.engine as engine

    crashing = tuple(Rule(r.spec, _crash) if r.spec.id == "MD-002" else r for r in RULES)
    monkeypatch.setattr(engine, "RULES", crashing)
    config = only("MD-002", circuit_breaker_per_hour=0)
    analysis = run(keyed_backend, fixture("md002", "passing"), config=config)
    [error] = analysis.findings
    assert error.check == "evaluation-error" and error.severity.value == "critical"
    assert "RuntimeError" in error.message and "ghp_" not in error.message  # redacted
    assert analysis.outcome is Outcome.BLOCK and analysis.exit_code == 1
    assert analysis.report["circuit_breaker"]["counts"] == {}  # the breaker never softens it
    assert list(keyed_backend.fp_events.scan()) == []  # not an FP candidate
    # even an FP mark on its fingerprint does not suppress it
    from service.oracle.fp import record_findings

    record_findings(
        keyed_backend.fp_events,
        [(error, "block")],
        repo="acme/widgets",
        head_sha="h",
        mode="pull_request",
        at=keyed_backend.clock.now(),
    )
    [event] = list(keyed_backend.fp_events.scan())
    keyed_backend.fp_events.review(
        event.event_id,
        Review.FALSE_POSITIVE,
        reviewer="r",
        reason="x",
        at=keyed_backend.clock.now(),
    )
    again = run(keyed_backend, fixture("md002", "passing"), config=config)
    assert [f.check for f in again.findings] == ["evaluation-error"] and again.exit_code == 1


# ----------------------------------------------------------------- false positives


def test_fp_mark_suppresses_by_fingerprint_not_rule(keyed_backend: Backend) -> None:
    from service.oracle import fp

    repo = fixture("md002", "failing")
    first = run(keyed_backend, repo, config=only("MD-002"))
    events = list(keyed_backend.fp_events.scan())
    assert {e.finding_id for e in events} == {f.fingerprint for f in first.findings}
    assert all(e.finding_id != e.rule_id for e in events)
    target = next(f for f in first.findings if f.check == "write-all")
    fp.mark(
        keyed_backend.fp_events,
        target.fingerprint,
        Review.FALSE_POSITIVE,
        reviewer="alice",
        reason="release job",
        at=keyed_backend.clock.now(),
    )
    second = run(keyed_backend, repo, config=only("MD-002"))
    assert [f.fingerprint for f in second.suppressed] == [target.fingerprint]
    assert target.fingerprint not in {f.fingerprint for f in second.findings}
    assert len(second.findings) == len(first.findings) - 1  # the rest of MD-002 still counts
    assert second.report["machine_decision"]["suppressed"] == 1
    assert second.report["suppressed"][0]["suppression"] == {"kind": "false_positive"}


def test_rerun_on_same_head_records_no_duplicates(keyed_backend: Backend) -> None:
    context = fixture("md001", "failing", "context.json")
    first = run(keyed_backend, fixture("md002", "failing"), context=context, config=only("MD-002"))
    second = run(keyed_backend, fixture("md002", "failing"), context=context, config=only("MD-002"))
    assert first.report["fp_events"]["recorded"] == len(first.findings)
    assert second.report["fp_events"] == {"recorded": 0, "already_recorded": len(first.findings)}
    assert len(list(keyed_backend.fp_events.scan())) == len(first.findings)
