"""From counted findings to an outcome. Pure functions: the engine feeds them what is left after
FP filtering and the circuit breaker, and the tests pin every threshold."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass

from .config import Thresholds
from .model import Finding, Outcome, Severity


@dataclass(frozen=True)
class Verdict:
    outcome: Outcome
    reasons: tuple[str, ...]
    counts: dict[str, int]


def count(findings: Iterable[Finding]) -> dict[str, int]:
    counter = Counter(f.severity.value for f in findings)
    return {severity.value: counter.get(severity.value, 0) for severity in Severity}


def limits(thresholds: Thresholds, *, strict: bool) -> dict[str, int]:
    """Block when a count exceeds its limit (critical: any)."""
    if strict:
        return {
            "critical": 0,
            "high": thresholds.strict_block_high,
            "medium": thresholds.strict_block_medium,
        }
    return {"critical": 0, "high": thresholds.block_high, "medium": thresholds.block_medium}


def decide(findings: Iterable[Finding], thresholds: Thresholds, *, strict: bool) -> Verdict:
    """block if critical > 0, high > limit or medium > limit; warn if anything of medium or
    above remains; pass otherwise (low findings are informational)."""
    listed = list(findings)
    counts = count(listed)
    limit = limits(thresholds, strict=strict)
    reasons = tuple(
        f"{counts[severity]} {severity} finding(s) > {limit[severity]} allowed"
        for severity in ("critical", "high", "medium")
        if counts[severity] > limit[severity]
    )
    if reasons:
        return Verdict(Outcome.BLOCK, reasons, counts)
    acted = [f for f in listed if f.severity is not Severity.LOW]
    if acted:
        return Verdict(
            Outcome.WARN, (f"{len(acted)} finding(s) below the block thresholds",), counts
        )
    return Verdict(Outcome.PASS, (), counts)


def blocking_rules(findings: Iterable[Finding]) -> list[str]:
    """Rules whose findings count toward a block (evaluation errors excluded: they always block
    and the breaker never softens them)."""
    return sorted(
        {
            f.rule_id
            for f in findings
            if f.severity is not Severity.LOW and not f.is_evaluation_error
        }
    )
