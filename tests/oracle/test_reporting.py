"""Reporting rule outcomes: the events follow the ingest contract field by field and carry no
repository content; each gets a fresh nonce; 429 Retry-After is honoured within bounds; any
failure is a fail-open degradation, never a changed decision."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from adapters.backend import Backend
from service.calibration.schema import IngestRequest
from service.oracle.http import HttpAnswer
from service.oracle.reporting import (
    REASON,
    ReportTarget,
    outcome_events,
    report_outcomes,
    with_degradation,
)

from .conftest import fixture, run

TARGET = ReportTarget(endpoint="http://127.0.0.1:9", key="k" * 20, environment="ci")


class FakeService:
    """Answers nonce requests and ingests from a script of statuses (default: success)."""

    def __init__(self, ingest: list[HttpAnswer] | None = None) -> None:
        self.ingest = list(ingest or [])
        self.calls: list[tuple[str, dict[str, Any]]] = []
        self.nonces = 0

    def __call__(self, method: str, url: str, body: dict[str, Any], timeout: float) -> HttpAnswer:
        assert method == "POST" and timeout == TARGET.timeout
        self.calls.append((url.removeprefix(TARGET.endpoint), body))
        if url.endswith("/nonce/request"):
            self.nonces += 1
            return HttpAnswer(200, {"status": "ok", "nonce": f"{self.nonces:064x}"})
        if self.ingest:
            return self.ingest.pop(0)
        return HttpAnswer(202, {"status": "accepted", "eventid": "e"})


def _analysis(backend: Backend, tmp_path: Path) -> Any:
    return run(backend, fixture("md002", "failing"), repo="acme/widgets", dry_run=True)


def test_events_follow_the_ingest_contract_and_carry_no_content(
    keyed_backend: Backend, tmp_path: Path
) -> None:
    analysis = _analysis(keyed_backend, tmp_path)
    events = outcome_events(analysis.model, TARGET, at_ms=1_767_225_600_000)
    evaluated = [r for r in analysis.model.rules if r.evaluated]
    with_findings = {f.rule_id for f in analysis.findings}
    assert len(events) == len(analysis.findings) + sum(
        1 for r in evaluated if r.id not in with_findings
    )
    for event in events:
        # the service's own validator accepts it (token and nonce as the reporter adds them)
        body = {**event, "token": "k", "claim": {**event["claim"], "nonce": "0" * 64}}
        IngestRequest.model_validate(body)
        assert event["orgid"] == "acme" and event["repo"] == "acme/widgets"
        text = json.dumps(event)
        for finding in analysis.findings:
            assert finding.path is None or finding.path not in text
            assert str(finding.message) not in text and str(finding.evidence or "@@") not in text
    matched = [e for e in events if e["outcome"] == "matched"]
    assert {e["claim"]["findingid"] for e in matched} == {f.fingerprint for f in analysis.findings}
    assert {e["actualOutcome"] for e in matched} == {"correct"}


def test_each_event_gets_a_fresh_nonce(keyed_backend: Backend, tmp_path: Path) -> None:
    analysis = _analysis(keyed_backend, tmp_path)
    service = FakeService()
    delivery = report_outcomes(analysis.model, TARGET, send=service, sleep=_no_sleep)
    assert delivery.complete and delivery.accepted == delivery.total > 0
    ingests = [body for path, body in service.calls if path == "/api/v1/events/ingest"]
    nonces = [body["claim"]["nonce"] for body in ingests]
    assert len(set(nonces)) == len(ingests) == service.nonces
    assert all(body["token"] == TARGET.key for body in ingests)
    assert delivery.degradation() is None


def test_429_retry_after_is_honoured_and_bounded(keyed_backend: Backend, tmp_path: Path) -> None:
    analysis = _analysis(keyed_backend, tmp_path)
    slept: list[float] = []
    throttled = HttpAnswer(429, {"code": "THROTTLED"}, {"retry-after": "2"})
    service = FakeService([throttled, throttled])
    delivery = report_outcomes(analysis.model, TARGET, send=service, sleep=slept.append)
    assert slept == [2.0, 2.0] and delivery.complete

    forever = HttpAnswer(429, {"code": "THROTTLED"}, {"retry-after": "3600"})
    slept.clear()
    service = FakeService([forever] * 100)
    delivery = report_outcomes(analysis.model, TARGET, send=service, sleep=slept.append)
    assert all(s <= TARGET.max_wait for s in slept) and sum(slept) <= TARGET.budget
    assert not delivery.complete and delivery.accepted == 0
    degradation = delivery.degradation()
    assert degradation is not None and degradation.reason == REASON
    assert "THROTTLED" in degradation.detail and degradation.fail.value == "open"


def test_down_or_refusing_service_degrades_and_stops(
    keyed_backend: Backend, tmp_path: Path
) -> None:
    analysis = _analysis(keyed_backend, tmp_path)
    down = FakeService([HttpAnswer(None, error="ConnectionRefusedError: refused")])
    delivery = report_outcomes(analysis.model, TARGET, send=down, sleep=_no_sleep)
    assert delivery.failed == delivery.total and "unreachable" in delivery.problems[0]
    assert len(down.calls) == 2  # one nonce, one ingest; then it stops trying

    refused = FakeService([HttpAnswer(403, {"code": "CONSENT_REVOKED"})])
    delivery = report_outcomes(analysis.model, TARGET, send=refused, sleep=_no_sleep)
    assert delivery.accepted == 0 and "CONSENT_REVOKED" in delivery.problems[0]

    duplicate = FakeService([HttpAnswer(409, {"code": "DUPLICATE"})])
    delivery = report_outcomes(analysis.model, TARGET, send=duplicate, sleep=_no_sleep)
    assert delivery.complete and delivery.duplicates == 1

    model = with_degradation(
        analysis.model,
        report_outcomes(
            analysis.model,
            TARGET,
            send=FakeService([HttpAnswer(None, error="refused")]),
            sleep=_no_sleep,
        ).degradation(),
    )
    report = model.as_json()
    assert report["machine_decision"] == analysis.report["machine_decision"]
    assert report["degraded"][-1]["reason"] == REASON


def _no_sleep(seconds: float) -> None:
    raise AssertionError(f"unexpected sleep({seconds})")
