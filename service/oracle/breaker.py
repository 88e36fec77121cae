"""The circuit breaker: a rule that keeps blocking is probably wrong, so after a threshold of
blocks per (rule, repository, UTC hour) its blocking findings degrade to warn.

Counting goes through the block-counter port (atomic increment on hour buckets computed in UTC).
The predecessor checked the threshold and then let a later step overwrite the warn with block;
here the engine removes a tripped rule's findings from the decision input, so the final outcome
is computed without them (see engine.py and the breaker tests).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from adapters.catalog import Metric
from adapters.errors import StoreError
from adapters.ports import BlockCounter, MetricsSink


@dataclass(frozen=True)
class BreakerResult:
    tripped: frozenset[str] = frozenset()
    counts: dict[str, int] = field(default_factory=dict)
    #: Set when the counter could not be read or written (fail open: blocks stand).
    error: str | None = None


def evaluate_breaker(
    counter: BlockCounter,
    metrics: MetricsSink,
    rules: list[str],
    repo: str,
    *,
    at: datetime,
    threshold: int,
    record: bool,
) -> BreakerResult:
    """Count one block for each rule (unless `record` is False, e.g. --dry-run, which only
    reads) and report the rules whose count for this hour is past `threshold`."""
    tripped: set[str] = set()
    counts: dict[str, int] = {}
    try:
        for rule in rules:
            if record:
                counts[rule] = counter.increment(rule, repo, at=at)
                over = counts[rule] > threshold
            else:
                counts[rule] = counter.count(rule, repo, at=at)
                over = counts[rule] >= threshold
            if over:
                tripped.add(rule)
                metrics.emit(Metric.CIRCUIT_BREAKER_TRIGGERS, RuleId=rule)
    except StoreError as error:
        return BreakerResult(frozenset(), counts, f"block counter unavailable: {error}")
    return BreakerResult(frozenset(tripped), counts)
