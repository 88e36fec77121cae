"""False-positive tracking over the FP-event port.

Events are keyed by the finding's fingerprint (`FpEvent.finding_id`), never by its rule id, and
their ids are deterministic per (fingerprint, head SHA): re-running the oracle on the same commit
hits `Conflict`, which means "already recorded". Stats use the observed FPR
FP / (total - pending) with a Wilson 95% score interval.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from adapters.errors import Conflict, NotFound
from adapters.ports import FpEvent, FpEventStore, Review

from .model import Finding

Z_95 = 1.959963984540054


def event_id(fingerprint: str, head_sha: str) -> str:
    return hashlib.sha256(f"pm-fp-event-v1\x00{fingerprint}\x00{head_sha}".encode()).hexdigest()[
        :32
    ]


def record_findings(
    store: FpEventStore,
    findings: Iterable[tuple[Finding, str]],
    *,
    repo: str,
    head_sha: str,
    mode: str,
    at: datetime,
) -> tuple[int, int]:
    """Record (finding, decision) pairs; (newly recorded, already recorded). A store error other
    than `Conflict` propagates: the caller fails closed."""
    new = existing = 0
    for finding, decision in findings:
        event = FpEvent(
            event_id=event_id(finding.fingerprint, head_sha),
            rule_id=finding.rule_id,
            rule_version=finding.rule_version,
            finding_id=finding.fingerprint,
            repo=repo,
            decision=decision,
            timestamp=at,
            context={
                "check": finding.check,
                "severity": finding.severity.value,
                "path": finding.path or finding.logical_location or "",
                "head_sha": head_sha,
                "mode": mode,
            },
        )
        try:
            store.record(event)
            new += 1
        except Conflict:
            existing += 1
    return new, existing


@dataclass(frozen=True)
class MarkResult:
    marked: tuple[str, ...]  # event ids
    finding_id: str


def mark(
    store: FpEventStore,
    identifier: str,
    verdict: Review,
    *,
    reviewer: str,
    reason: str,
    at: datetime,
) -> MarkResult:
    """Mark by event id, or by finding fingerprint (then every pending event of that finding)."""
    try:
        event = store.get(identifier)
    except NotFound:
        events = store.by_finding(identifier)
        if not events:
            raise NotFound(
                "no FP event or finding fingerprint with this id (see `phase-mirror fp list` or "
                "the fingerprint in a report)",
                store="fp-events",
                key=identifier,
            ) from None
        targets = [e for e in events if e.review is Review.PENDING] or events[:1]
        for target in targets:
            store.review(target.event_id, verdict, reviewer=reviewer, reason=reason, at=at)
        return MarkResult(tuple(t.event_id for t in targets), identifier)
    store.review(event.event_id, verdict, reviewer=reviewer, reason=reason, at=at)
    return MarkResult((event.event_id,), event.finding_id)


@dataclass(frozen=True)
class Rate:
    rule_id: str
    total: int
    false_positives: int
    confirmed: int
    pending: int

    @property
    def reviewed(self) -> int:
        return self.total - self.pending

    @property
    def fpr(self) -> float | None:
        return self.false_positives / self.reviewed if self.reviewed else None

    def wilson(self, z: float = Z_95) -> tuple[float, float] | None:
        n = self.reviewed
        if n == 0:
            return None
        p = self.false_positives / n
        denominator = 1 + z * z / n
        centre = (p + z * z / (2 * n)) / denominator
        half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denominator
        return max(0.0, centre - half), min(1.0, centre + half)

    def as_dict(self) -> dict[str, Any]:
        interval = self.wilson()
        return {
            "rule_id": self.rule_id,
            "total": self.total,
            "false_positives": self.false_positives,
            "confirmed": self.confirmed,
            "pending": self.pending,
            "reviewed": self.reviewed,
            "fpr": self.fpr,
            "wilson_95": list(interval) if interval else None,
        }


def rate(store: FpEventStore, rule_id: str, *, last: int | None, since: datetime | None) -> Rate:
    stats = store.stats(rule_id, last=last, since=since)
    return Rate(rule_id, stats.total, stats.false_positives, stats.confirmed, stats.pending)


# ------------------------------------------------------------------ export / import


def to_json(event: FpEvent) -> dict[str, Any]:
    return {
        "event_id": event.event_id,
        "rule_id": event.rule_id,
        "rule_version": event.rule_version,
        "finding_id": event.finding_id,
        "repo": event.repo,
        "decision": event.decision,
        "timestamp": event.timestamp.isoformat(),
        "review": event.review.value,
        "reviewer": event.reviewer,
        "reason": event.reason,
        "reviewed_at": event.reviewed_at.isoformat() if event.reviewed_at else None,
        "context": dict(event.context),
    }


class FpImportError(ValueError):
    """A line of an import file is not an FP event."""


def from_json(raw: Any) -> FpEvent:
    if not isinstance(raw, dict):
        raise FpImportError("each line must be a JSON object")
    try:
        timestamp = _time(raw["timestamp"])
        reviewed_at = _time(raw["reviewed_at"]) if raw.get("reviewed_at") else None
        context = raw.get("context") or {}
        if not isinstance(context, dict):
            raise FpImportError("'context' must be an object")
        for name in ("event_id", "rule_id", "rule_version", "finding_id", "repo", "decision"):
            if not isinstance(raw[name], str) or not raw[name]:
                raise FpImportError(f"{name!r} must be a non-empty string")
        if raw["decision"] not in ("block", "warn"):
            raise FpImportError("'decision' must be 'block' or 'warn'")
        return FpEvent(
            event_id=raw["event_id"],
            rule_id=raw["rule_id"],
            rule_version=raw["rule_version"],
            finding_id=raw["finding_id"],
            repo=raw["repo"],
            decision=raw["decision"],
            timestamp=timestamp,
            review=Review(raw.get("review", Review.PENDING.value)),
            reviewer=raw.get("reviewer"),
            reason=raw.get("reason"),
            reviewed_at=reviewed_at,
            context={str(k): str(v) for k, v in context.items()},
        )
    except KeyError as missing:
        raise FpImportError(f"missing field {missing.args[0]!r}") from None
    except ValueError as error:
        if isinstance(error, FpImportError):
            raise
        raise FpImportError(str(error)) from None


def _time(value: Any) -> datetime:
    if not isinstance(value, str):
        raise FpImportError("timestamps must be ISO 8601 strings")
    moment = datetime.fromisoformat(value)
    if moment.tzinfo is None:
        raise FpImportError(f"timestamp {value!r} has no timezone; use UTC, e.g. ...+00:00")
    return moment


def export_lines(store: FpEventStore) -> Iterator[str]:
    for event in sorted(store.scan(), key=lambda e: (e.timestamp, e.event_id)):
        yield json.dumps(to_json(event), sort_keys=True)


def import_lines(store: FpEventStore, lines: Iterable[str]) -> tuple[int, int]:
    """Conditional creates; (imported, skipped as already present). Every line is validated
    before anything is written, so a bad file imports nothing."""
    events = []
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            events.append(from_json(json.loads(line)))
        except json.JSONDecodeError as error:
            raise FpImportError(f"line {number}: not JSON ({error.msg})") from None
        except FpImportError as error:
            raise FpImportError(f"line {number}: {error}") from None
    imported = skipped = 0
    for event in events:
        try:
            store.record(event)
            imported += 1
        except Conflict:
            skipped += 1
    return imported, skipped
