"""k-anonymous calibration queries over the daily aggregates.

* k is the number of distinct pseudonymous orgs behind the answer. Pseudonyms carry their salt
  version, and one org has one pseudonym per version, so across a salt rotation the same org may
  appear twice; k is therefore the *largest per-version* count, a lower bound on the true number
  of distinct orgs (it can under-state k, never over-state it).
* No single org dominates the rate: each org weighs at most `cap` events; an org with more has
  its counts scaled down to `cap` keeping its own rate.
* The false-positive rate comes with a 95% Wilson score interval over the capped event count.
"""

from __future__ import annotations

import math
import re
from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from adapters.ports import CalibrationStore

from .schema import IDENT_PATTERN, FieldError, Outcome

Z_95 = 1.959963984540054
MAX_SPAN = timedelta(days=366)
_MAX_MS = 253402300799999  # 9999-12-31T23:59:59.999Z
_IDENT = re.compile(IDENT_PATTERN)  # the same identifier rules as ingest


@dataclass(frozen=True)
class QueryParams:
    rule_id: str
    rule_version: str
    outcome: str
    start_ms: int
    end_ms: int

    @property
    def start(self) -> date:
        return datetime.fromtimestamp(self.start_ms / 1000, UTC).date()

    @property
    def end(self) -> date:
        return datetime.fromtimestamp(self.end_ms / 1000, UTC).date()

    def as_dict(self) -> dict[str, Any]:
        return {
            "ruleid": self.rule_id,
            "ruleversion": self.rule_version,
            "outcome": self.outcome,
            "start_ms": self.start_ms,
            "end_ms": self.end_ms,
        }


class InvalidQuery(Exception):
    def __init__(self, errors: list[FieldError]) -> None:
        super().__init__("; ".join(f"{e.field}: {e.message}" for e in errors))
        self.errors = errors


def parse_params(params: dict[str, str]) -> QueryParams:
    """Validate query-string parameters; `InvalidQuery` names every bad one."""
    errors: list[FieldError] = []

    def text(name: str, max_len: int) -> str:
        value = params.get(name)
        if value is None or value == "":
            errors.append(FieldError(field=name, message="required"))
            return ""
        if len(value) > max_len or not _IDENT.match(value):
            errors.append(
                FieldError(field=name, message=f"use 1-{max_len} letters, digits, '.', '_', '-'")
            )
        return value

    def millis(name: str) -> int:
        value = params.get(name)
        if value is None or value == "":
            errors.append(FieldError(field=name, message="required (milliseconds since epoch)"))
            return 0
        if not (value.isascii() and value.isdigit()) or int(value) > _MAX_MS:
            errors.append(
                FieldError(field=name, message="must be a whole number of milliseconds since epoch")
            )
            return 0
        return int(value)

    rule_id = text("ruleid", 64)
    rule_version = text("ruleversion", 32)
    outcome = params.get("outcome", "")
    if outcome not in {o.value for o in Outcome}:
        errors.append(FieldError(field="outcome", message="must be 'matched' or 'not_matched'"))
    start_ms, end_ms = millis("start_ms"), millis("end_ms")
    if not errors and start_ms > end_ms:
        errors.append(FieldError(field="start_ms", message="must not be after end_ms"))
    if not errors and end_ms - start_ms > MAX_SPAN.total_seconds() * 1000:
        errors.append(FieldError(field="end_ms", message="the range may span at most 366 days"))
    unknown = sorted(set(params) - {"ruleid", "ruleversion", "outcome", "start_ms", "end_ms"})
    errors.extend(FieldError(field=name, message="unknown parameter") for name in unknown)
    if errors:
        raise InvalidQuery(errors)
    return QueryParams(rule_id, rule_version, outcome, start_ms, end_ms)


@dataclass(frozen=True)
class Interval:
    low: float
    high: float
    level: float = 0.95


@dataclass(frozen=True)
class QueryAnswer:
    k: int
    minimum: int
    count: int
    effective_count: float
    false_positive_rate: float
    false_negative_rate: float
    interval: Interval

    @property
    def allowed(self) -> bool:
        return self.k >= self.minimum


def wilson(successes: float, n: float, z: float = Z_95) -> Interval:
    if n <= 0:
        return Interval(0.0, 1.0)
    p = successes / n
    z2 = z * z
    denominator = 1 + z2 / n
    center = (p + z2 / (2 * n)) / denominator
    half = z * math.sqrt(p * (1 - p) / n + z2 / (4 * n * n)) / denominator
    return Interval(max(0.0, center - half), min(1.0, center + half))


def answer(
    store: CalibrationStore, params: QueryParams, *, k_minimum: int, cap: int
) -> QueryAnswer:
    aggregates = store.query(
        params.rule_id, params.rule_version, params.outcome, start=params.start, end=params.end
    )
    per_org: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for aggregate in aggregates:
        totals = per_org[aggregate.key.org_pseudonym]
        for name, value in aggregate.counts.items():
            totals[name] += value
    by_version: dict[str, int] = defaultdict(int)
    count = 0
    weight = fp = fn = 0.0
    for pseudonym, totals in per_org.items():
        events = totals.get("events", 0)
        if events <= 0:
            continue
        by_version[pseudonym.split(".", 1)[0]] += 1
        count += events
        scale = min(events, cap) / events
        weight += events * scale
        fp += totals.get("fp", 0) * scale
        fn += totals.get("fn", 0) * scale
    k = max(by_version.values(), default=0)
    rate = fp / weight if weight else 0.0
    return QueryAnswer(
        k=k,
        minimum=k_minimum,
        count=count,
        effective_count=round(weight, 6),
        false_positive_rate=round(rate, 6),
        false_negative_rate=round(fn / weight if weight else 0.0, 6),
        interval=_rounded(wilson(fp, weight)),
    )


def _rounded(interval: Interval) -> Interval:
    return Interval(round(interval.low, 6), round(interval.high, 6), interval.level)
