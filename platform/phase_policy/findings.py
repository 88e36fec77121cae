"""Gate results: findings per target, waiver problems, and the exit code they imply."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from .analyzer import NotApplicable
from .waivers import Waiver, WaiverProblem

EXIT_PASS = 0
EXIT_VIOLATIONS = 1
EXIT_GATE_ERROR = 2


def split_urn(urn: str) -> tuple[str, str]:
    """(type, logical name) of a URN; the type without its parents' `$` chain."""
    parts = urn.split("::")
    if len(parts) < 4:
        return "", urn
    return parts[2].rsplit("$", 1)[-1], parts[-1]


@dataclass(frozen=True)
class Finding:
    rule_id: str
    cloud: str
    stack: str
    urn: str
    message: str
    enforcement: str
    severity: str
    #: The rule could not decide during preview (it needed an unknown value).
    unknown_at_preview: bool = False
    waiver: Waiver | None = None

    @property
    def resource_type(self) -> str:
        return split_urn(self.urn)[0]

    @property
    def resource_name(self) -> str:
        return split_urn(self.urn)[1]

    @property
    def suppressed(self) -> bool:
        return self.waiver is not None

    @property
    def blocking(self) -> bool:
        return (
            self.enforcement == "mandatory" and not self.unknown_at_preview and not self.suppressed
        )

    @property
    def level(self) -> str:
        """SARIF level: error (mandatory), warning (advisory), note (undecidable at preview)."""
        if self.unknown_at_preview:
            return "note"
        return "error" if self.enforcement == "mandatory" else "warning"


@dataclass(frozen=True)
class TargetResult:
    cloud: str
    stack: str
    source: str
    resources: int
    findings: tuple[Finding, ...]
    not_applicable: tuple[NotApplicable, ...]

    @property
    def label(self) -> str:
        return f"{self.cloud}/{self.stack}"


@dataclass(frozen=True)
class GateResult:
    targets: tuple[TargetResult, ...]
    waivers: tuple[Waiver, ...] = ()
    waiver_problems: tuple[WaiverProblem, ...] = ()
    #: Why a target could not be evaluated (program error, bad graph file).
    errors: tuple[str, ...] = ()
    #: cloud -> posture row, per stack name evaluated on more than one cloud.
    parity: dict[str, list[dict[str, str]]] = field(default_factory=dict)
    rule_ids: tuple[str, ...] = ()

    @property
    def findings(self) -> list[Finding]:
        return [f for t in self.targets for f in t.findings]

    @property
    def blocking(self) -> list[Finding]:
        return [f for f in self.findings if f.blocking]

    @property
    def exit_code(self) -> int:
        if self.errors:
            return EXIT_GATE_ERROR
        if self.blocking or self.waiver_problems:
            return EXIT_VIOLATIONS
        return EXIT_PASS

    @property
    def verdict(self) -> str:
        return {EXIT_PASS: "pass", EXIT_VIOLATIONS: "fail", EXIT_GATE_ERROR: "error"}[
            self.exit_code
        ]


def count(findings: Sequence[Finding], **where: object) -> int:
    return sum(1 for f in findings if all(getattr(f, k) == v for k, v in where.items()))
