"""What a rule is and what it sees.

A rule is a `RuleSpec` (id, version, checks with default severities and remediations) plus an
`evaluate(ctx, emit)` function. It reports through the `Emitter`, which applies severity
overrides and strict mode, redacts the text and computes the stable fingerprint, so rules stay
small and cannot get those parts wrong. A rule that cannot run (no context, no merge queue)
raises `NotApplicable`; the report lists it as not evaluated.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from ..baseline import Baseline, Drift
from ..config import OracleConfig
from ..context import GitHubContext
from ..model import EVALUATION_ERROR, Degradation, Finding, Mode, Severity, fingerprint
from ..redaction import excerpt, redact, trusted
from ..repo import Repository


@dataclass(frozen=True)
class CheckSpec:
    id: str
    severity: Severity
    title: str
    remediation: str
    #: Severity under `--strict`, when it differs.
    strict_severity: Severity | None = None


#: Every rule has this check: a crash while evaluating becomes a critical finding that forces a
#: block and is never suppressed, so a broken rule can never turn into a silent pass.
EVALUATION_ERROR_CHECK = CheckSpec(
    EVALUATION_ERROR,
    Severity.CRITICAL,
    "The rule failed to evaluate",
    "The oracle cannot vouch for this rule's part of the repository. Fix the input named in "
    "the message, or report the error with the report attached; the block stays until the "
    "rule evaluates again.",
)


@dataclass(frozen=True)
class RuleSpec:
    id: str
    name: str  # PascalCase, for SARIF `name`
    title: str
    version: str
    description: str
    checks: tuple[CheckSpec, ...]
    tags: tuple[str, ...] = ()

    def check(self, check_id: str) -> CheckSpec:
        if check_id == EVALUATION_ERROR:
            return EVALUATION_ERROR_CHECK
        for check in self.checks:
            if check.id == check_id:
                return check
        raise KeyError(f"{self.id} has no check {check_id!r}")

    @property
    def check_ids(self) -> frozenset[str]:
        return frozenset(check.id for check in self.checks) | {EVALUATION_ERROR}


class NotApplicable(Exception):
    """The rule cannot evaluate this input; the message says why and how to enable it."""


@dataclass
class RuleContext:
    repo: Repository
    repo_name: str
    mode: Mode
    strict: bool
    config: OracleConfig
    context: GitHubContext | None = None
    #: Set by the engine for MD-005: the stored baseline, or None with a degradation recorded.
    baseline: Baseline | None = None
    degraded: list[Degradation] = field(default_factory=list)
    #: Filled by MD-005 for the L0 drift invariant.
    drift: Drift | None = None


#: Evidence is one line of at most this many characters (see `redaction.excerpt`).
EVIDENCE_LIMIT = 200


def evidence_list(items: Sequence[str], limit: int = EVIDENCE_LIMIT) -> str:
    """Whole items, comma-separated, then "and N more": a list is never cut mid-item."""
    shown: list[str] = []
    for index, item in enumerate(items):
        flat = " ".join(redact(item).split())
        rest = len(items) - index - 1
        tail = f" and {rest} more" if rest else ""
        candidate = ", ".join([*shown, flat]) + tail
        if len(candidate) > limit and shown:
            return ", ".join(shown) + f" and {len(items) - index} more"
        shown.append(flat)
    return ", ".join(shown)


class Emitter:
    def __init__(self, spec: RuleSpec, ctx: RuleContext) -> None:
        self.spec = spec
        self.ctx = ctx
        self.findings: list[Finding] = []
        #: Checks of an evaluated rule that could not run here, with why and how to enable them.
        self.skipped: list[tuple[str, str]] = []

    def not_evaluated(self, check: str, reason: str) -> None:
        """Say that `check` was not evaluated (the rule itself was) and what would enable it."""
        self.spec.check(check)  # an unknown check id is a programming error
        self.skipped.append((check, reason))

    def finding(
        self,
        check: str,
        *,
        message: str,
        evidence: str | Sequence[str] = "",
        path: str | None = None,
        line: int | None = None,
        key: str = "",
        logical: str | None = None,
        escalate_to: Severity | None = None,
    ) -> Finding:
        """Record a finding. `escalate_to` raises the default severity for this occurrence
        (e.g. a privileged trigger); an explicit config override still wins. A list as
        `evidence` is shown whole items first, never cut inside an item."""
        spec = self.spec.check(check)
        default = (
            spec.strict_severity if self.ctx.strict and spec.strict_severity else spec.severity
        )
        if escalate_to is not None and escalate_to.rank > default.rank:
            default = escalate_to
        found = Finding(
            rule_id=self.spec.id,
            rule_version=self.spec.version,
            check=check,
            severity=self.ctx.config.severity_for(self.spec.id, check, default),
            message=trusted(message),
            evidence=excerpt(evidence if isinstance(evidence, str) else evidence_list(evidence)),
            remediation=spec.remediation,
            path=path,
            line=line,
            fingerprint=fingerprint(self.ctx.repo_name, self.spec.id, check, logical or path, key),
            logical_location=logical,
        )
        self.findings.append(found)
        return found


Evaluate = Callable[[RuleContext, Emitter], None]


@dataclass(frozen=True)
class Rule:
    spec: RuleSpec
    evaluate: Evaluate
