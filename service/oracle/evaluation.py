"""Running the rules: each enabled rule over the shared context, one report row per rule.

A rule that cannot evaluate its input says so (`NotApplicable`) and is listed as not evaluated;
a rule that crashes yields a critical `evaluation-error` finding instead of passing silently.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable
from dataclasses import dataclass

from .model import EVALUATION_ERROR, Finding
from .redaction import redact
from .report import NotEvaluated, RuleRow
from .rules.base import Emitter, NotApplicable, Rule, RuleContext

log = logging.getLogger("phase_mirror.oracle")

DISABLED_REASON = "disabled in the configuration"


@dataclass(frozen=True)
class RuleOutcome:
    """One rule's part of the report: what it found, its row, and why it did not run (if so)."""

    findings: list[Finding]
    row: RuleRow
    #: Why the rule did not run, or which of its checks did not (the rule did).
    not_evaluated: list[NotEvaluated]


@dataclass(frozen=True)
class Evaluation:
    findings: list[Finding]
    rows: list[RuleRow]
    not_evaluated: list[NotEvaluated]


def run_rules(ctx: RuleContext, rules: Iterable[Rule]) -> Evaluation:
    outcomes = [evaluate(rule, ctx) for rule in rules]
    findings = [finding for outcome in outcomes for finding in outcome.findings]
    return Evaluation(
        findings=unique_fingerprints(findings),
        rows=[outcome.row for outcome in outcomes],
        not_evaluated=[item for outcome in outcomes for item in outcome.not_evaluated],
    )


def evaluate(rule: Rule, ctx: RuleContext) -> RuleOutcome:
    spec = rule.spec
    emit = Emitter(spec, ctx)
    started = time.perf_counter()
    enabled = ctx.config.enabled(spec.id)
    if enabled:
        evaluated, skipped = _attempt(rule, ctx, emit)
    else:
        evaluated, skipped = False, NotEvaluated(spec.id, DISABLED_REASON)
    row = RuleRow(
        id=spec.id,
        version=spec.version,
        title=spec.title,
        enabled=enabled,
        evaluated=evaluated,
        findings=len(emit.findings),
        ms=round((time.perf_counter() - started) * 1000, 3),
    )
    partial = [
        NotEvaluated(spec.id, str(redact(f"check {check} not evaluated: {reason}")))
        for check, reason in (emit.skipped if evaluated else [])
    ]
    return RuleOutcome(list(emit.findings), row, ([skipped] if skipped else []) + partial)


def _attempt(rule: Rule, ctx: RuleContext, emit: Emitter) -> tuple[bool, NotEvaluated | None]:
    """(evaluated, why not). A rule that gives up or crashes keeps none of its partial findings."""
    try:
        rule.evaluate(ctx, emit)
    except NotApplicable as reason:
        emit.findings.clear()
        return False, NotEvaluated(rule.spec.id, str(redact(str(reason))))
    except Exception as error:  # a crashing rule must block, never pass silently
        emit.findings.clear()
        _report_crash(emit, error)
        return False, None
    return True, None


def _report_crash(emit: Emitter, error: Exception) -> None:
    rule_id = emit.spec.id
    failure = f"{type(error).__name__}: {error}"
    # The log line is redacted like the finding: exceptions may quote secrets from the input.
    log.warning(
        "rule %s crashed: %s",
        rule_id,
        redact(failure),
        exc_info=log.isEnabledFor(logging.DEBUG),
    )
    emit.finding(
        EVALUATION_ERROR,
        message=f"{rule_id} crashed while evaluating: {failure}",
        evidence=type(error).__name__,
        logical=f"rule://{rule_id}",
    )


def unique_fingerprints(findings: list[Finding]) -> list[Finding]:
    """Two findings with the same identity (e.g. the same step twice) get `#2`, `#3`..."""
    seen: dict[str, int] = {}
    out = []
    for finding in findings:
        n = seen[finding.fingerprint] = seen.get(finding.fingerprint, 0) + 1
        out.append(finding if n == 1 else finding.with_fingerprint(f"{finding.fingerprint}#{n}"))
    return out
