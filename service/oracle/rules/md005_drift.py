"""MD-005 Baseline drift: governed files compared with the latest stored baseline.

The engine loads the baseline through the object-store port before the rules run; a missing or
unreadable baseline is a fail-open degradation the report names (see engine.py)."""

from __future__ import annotations

from ..baseline import compare, snapshot
from ..model import Severity
from .base import CheckSpec, Emitter, NotApplicable, Rule, RuleContext, RuleSpec

SPEC = RuleSpec(
    id="MD-005",
    name="BaselineDrift",
    title="Baseline drift",
    version="1.0.0",
    description=(
        "The SHA-256 of every governed file is compared with the latest baseline; the share of "
        "changed files (changed / tracked) must stay within thresholds.drift_magnitude."
    ),
    tags=("governance", "drift"),
    checks=(
        CheckSpec(
            "drift-above-threshold",
            Severity.HIGH,
            "Governed files drifted from the baseline",
            "Review the changed governed files; once the change is approved, record a new "
            "baseline with `phase-mirror baseline`.",
        ),
    ),
)


def evaluate(ctx: RuleContext, emit: Emitter) -> None:
    if ctx.baseline is None:
        raise NotApplicable(
            "no usable baseline for this repository (see degraded); record one with "
            "`phase-mirror baseline`"
        )
    drift = compare(ctx.baseline, snapshot(ctx.repo, ctx.config))
    ctx.drift = drift
    threshold = ctx.config.thresholds.drift_magnitude
    if drift.magnitude > threshold:
        changed = [*drift.modified, *drift.added, *drift.removed]
        emit.finding(
            "drift-above-threshold",
            message=(
                f"{drift.changed} of {drift.tracked} governed files changed since baseline "
                f"version {drift.baseline_version} (magnitude {drift.magnitude:.2f} > "
                f"{threshold:.2f}): {len(drift.modified)} modified, {len(drift.added)} added, "
                f"{len(drift.removed)} removed."
            ),
            evidence=", ".join(changed[:10]),
            path=changed[0] if changed and changed[0] not in drift.removed else None,
            logical=f"baseline://{ctx.repo_name}",
        )


RULE = Rule(SPEC, evaluate)
