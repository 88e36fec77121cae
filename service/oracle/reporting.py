"""Reporting rule outcomes to the calibration service (`analyze --report-to URL`).

Each evaluated rule's outcome becomes one ingest event (docs/api.md, POST /api/v1/events/ingest):
one per finding (`matched`), or one `not_matched` event for a rule that found nothing. Before
each event a fresh single-use nonce is requested (POST /api/v1/nonce/request) and sent in the
claim, binding the event to one request of this API key.

What is sent, and nothing else: the org (`orgid`, the repository owner, which the contract
requires; the service stores it encrypted and pseudonymized) and the repository (`repo`, so a
repository-scoped consent revocation applies); rule id and version; the check id, severity and
mode; the finding's fingerprint (a truncated SHA-256); the nonce. Never a path, message, evidence
or any other repository content.

Reporting never blocks or fails the check: every failure (service down, bad key, consent
revoked, throttled past the bounded wait) becomes a fail-open `calibration_report_incomplete`
degradation in the report. 429 and 503 are retried after their Retry-After, each wait at most
`max_wait` seconds, all of them together at most `budget` seconds.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any, Final

from .http import HttpAnswer, request_json
from .model import Degradation, Fail, Finding
from .report import Report

INGEST: Final = "/api/v1/events/ingest"
NONCE_REQUEST: Final = "/api/v1/nonce/request"
ENV_KEY: Final = "PHASE_MIRROR_REPORT_KEY"
DEFAULT_ENVIRONMENT: Final = "ci"
REASON: Final = "calibration_report_incomplete"

#: confidence per kind of outcome: a reviewer's verdict is certain; the oracle's own judgement
#: of a finding nobody has reviewed yet is not.
CONFIDENCE_REVIEWED: Final = 1.0
CONFIDENCE_UNREVIEWED: Final = 0.5

#: Statuses after which nothing more is sent (the next event would fail the same way).
_FATAL: Final = {401: "API key refused", 403: "refused for this org"}


@dataclass(frozen=True)
class ReportTarget:
    endpoint: str
    key: str
    environment: str = DEFAULT_ENVIRONMENT
    #: Defaults to the repository owner.
    org: str | None = None
    timeout: float = 5.0
    max_wait: float = 5.0
    budget: float = 20.0


@dataclass
class Delivery:
    """What happened to the outcomes of one analysis."""

    total: int = 0
    accepted: int = 0
    duplicates: int = 0
    failed: int = 0
    problems: list[str] = field(default_factory=list)

    @property
    def complete(self) -> bool:
        return self.accepted + self.duplicates == self.total

    def degradation(self) -> Degradation | None:
        if self.complete:
            return None
        sent = self.accepted + self.duplicates
        detail = f"{sent} of {self.total} rule outcome(s) reported; " + "; ".join(
            dict.fromkeys(self.problems)
        )
        return Degradation(REASON, detail, Fail.OPEN)


Sleep = Callable[[float], None]
Send = Callable[[str, str, dict[str, Any], float], HttpAnswer]


def _send(method: str, url: str, body: dict[str, Any], timeout: float) -> HttpAnswer:
    return request_json(method, url, body=body, timeout=timeout)


def outcome_events(model: Report, target: ReportTarget, *, at_ms: int) -> list[dict[str, Any]]:
    """The ingest events for one analysis, without token and nonce (added when sent)."""
    repo = model.repository.name
    org = target.org or repo.split("/", 1)[0]
    mode = model.run.mode.value
    base = {
        "orgid": org,
        "timestamp": at_ms,
        "environment": target.environment,
        **({"repo": repo} if _github_name(repo) else {}),
    }
    events = []
    by_rule: dict[str, list[tuple[Finding, bool]]] = {}
    for finding in model.findings:
        by_rule.setdefault(finding.rule_id, []).append((finding, False))
    for finding in model.suppressed:
        by_rule.setdefault(finding.rule_id, []).append((finding, True))
    for row in model.rules:
        if not row.evaluated:
            continue  # disabled, not applicable or crashed: no outcome to calibrate
        found = by_rule.get(row.id, [])
        for finding, marked_false in found:
            events.append(
                {
                    **base,
                    "ruleid": row.id,
                    "ruleversion": row.version,
                    "claim": {
                        "input": {
                            "check": finding.check_id,
                            "severity": finding.severity.value,
                            "mode": mode,
                        },
                        "findingid": finding.fingerprint,
                    },
                    "outcome": "matched",
                    "actualOutcome": "should_not_have_matched" if marked_false else "correct",
                    "confidence": CONFIDENCE_REVIEWED if marked_false else CONFIDENCE_UNREVIEWED,
                }
            )
        if not found:
            events.append(
                {
                    **base,
                    "ruleid": row.id,
                    "ruleversion": row.version,
                    "claim": {"input": {"check": f"{row.id}.*", "mode": mode}},
                    "outcome": "not_matched",
                    "actualOutcome": "correct",
                    "confidence": CONFIDENCE_UNREVIEWED,
                }
            )
    return events


def report_outcomes(
    model: Report,
    target: ReportTarget,
    *,
    send: Send = _send,
    sleep: Sleep = time.sleep,
    clock: Callable[[], float] = time.monotonic,
) -> Delivery:
    events = outcome_events(model, target, at_ms=int(model.generated_at.timestamp() * 1000))
    return _Reporter(target, send, sleep, clock).deliver(events)


class _Reporter:
    def __init__(self, target: ReportTarget, send: Send, sleep: Sleep, clock: Callable[[], float]):
        self.target = target
        self.base = target.endpoint.rstrip("/")
        self.send = send
        self.sleep = sleep
        self.clock = clock
        self.waited = 0.0

    def deliver(self, events: list[dict[str, Any]]) -> Delivery:
        delivery = Delivery(total=len(events))
        for index, event in enumerate(events):
            stop = self._one(event, delivery)
            if stop:
                delivery.failed += len(events) - index - 1
                break
        return delivery

    def _one(self, event: dict[str, Any], delivery: Delivery) -> bool:
        """Send one event; True when the rest should not be tried."""
        nonce = self._call(NONCE_REQUEST, {"orgid": event["orgid"], "token": self.target.key})
        if not nonce.ok or not isinstance(nonce.body, dict) or "nonce" not in nonce.body:
            return self._failed(delivery, "nonce request", nonce)
        claim = {**event["claim"], "nonce": nonce.body["nonce"]}
        answer = self._call(INGEST, {**event, "claim": claim, "token": self.target.key})
        if answer.status == 202:
            delivery.accepted += 1
            return False
        if answer.status == 409:
            delivery.duplicates += 1
            return False
        return self._failed(delivery, "ingest", answer)

    def _failed(self, delivery: Delivery, step: str, answer: HttpAnswer) -> bool:
        delivery.failed += 1
        code = answer.body.get("code") if isinstance(answer.body, dict) else None
        if answer.status is None:
            delivery.problems.append(f"calibration service unreachable ({answer.error})")
            return True
        what = f"{step}: HTTP {answer.status} {code or ''}".rstrip()
        if answer.status in _FATAL:
            delivery.problems.append(f"{what} ({_FATAL[answer.status]})")
            return True
        if answer.status in (429, 503):
            delivery.problems.append(f"{what} (still refused within the retry budget)")
            return True
        delivery.problems.append(f"{what}: {answer.message}")
        return False

    def _call(self, path: str, body: dict[str, Any]) -> HttpAnswer:
        while True:
            answer = self.send("POST", self.base + path, body, self.target.timeout)
            if answer.status not in (429, 503):
                return answer
            wait = min(answer.retry_after(1.0), self.target.max_wait)
            if self.waited + wait > self.target.budget:
                return answer
            self.waited += wait
            self.sleep(wait)


def with_degradation(model: Report, degradation: Degradation | None) -> Report:
    if degradation is None:
        return model
    return replace(model, degraded=[*model.degraded, degradation])


def _github_name(repo: str) -> bool:
    owner, _, name = repo.partition("/")
    return bool(owner and name) and owner != "local"
