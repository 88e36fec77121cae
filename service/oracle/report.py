"""The report model: one typed record per part of the JSON report.

The engine fills these records; `Report.as_json()` renders the dict every format (json, sarif,
text, github) reads. Its shape is pinned by `report_schema.py`: each record's fields are, in
order, the `required` keys of its schema object, and a test holds them together.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime
from enum import Enum
from typing import Any, Final

from .baseline import Drift
from .l0 import Violation
from .model import Degradation, Finding, Mode, Outcome
from .redaction import redact
from .report_schema import SCHEMA_HASH_HEX, SCHEMA_ID

TOOL_NAME: Final = "phase-mirror"


@dataclass(frozen=True)
class Tool:
    name: str
    version: str


@dataclass(frozen=True)
class RepositoryInfo:
    name: str
    #: None outside git and without a pull request or merge group in the context.
    head_sha: str | None
    base_ref: str | None
    author: str | None


@dataclass(frozen=True)
class RunInfo:
    mode: Mode
    strict: bool
    dry_run: bool
    #: The configuration file read, or None for the built-in defaults.
    config: str | None
    backend: str
    permission_bits: int


@dataclass(frozen=True)
class MachineDecision:
    outcome: Outcome
    exit_code: int
    reasons: list[str]
    counts: dict[str, int]
    limits: dict[str, int]
    suppressed: int
    unable_to_vouch: bool
    would_block: bool


@dataclass(frozen=True)
class NotEvaluated:
    rule: str
    reason: str


@dataclass(frozen=True)
class RuleRow:
    id: str
    version: str
    title: str
    enabled: bool
    evaluated: bool
    findings: int
    ms: float


@dataclass(frozen=True)
class FpEvents:
    recorded: int
    already_recorded: int


@dataclass(frozen=True)
class CircuitBreaker:
    threshold_per_hour: int
    counts: dict[str, int]
    tripped: list[str]


@dataclass(frozen=True)
class L0Result:
    ok: bool
    bits: int
    violations: list[Violation]


@dataclass(frozen=True)
class Timings:
    total_ms: float
    parse_ms: float
    storage_ms: float


@dataclass(frozen=True)
class Report:
    tool: Tool
    generated_at: datetime
    repository: RepositoryInfo
    run: RunInfo
    machine_decision: MachineDecision
    #: Active findings, in any order: rendering lists them in report order.
    findings: list[Finding]
    suppressed: list[Finding]
    degraded: list[Degradation]
    not_evaluated: list[NotEvaluated]
    rules: list[RuleRow]
    #: None when MD-005 measured nothing (disabled or no usable baseline).
    drift: Drift | None
    #: None when nothing was recorded: dry run, nothing acted on, or the write failed.
    fp_events: FpEvents | None
    circuit_breaker: CircuitBreaker
    l0: L0Result
    timings: Timings

    def as_json(self) -> dict[str, Any]:
        """The unsealed report; `integrity` is filled when a format seals it (integrity.py)."""
        return {
            "schema": SCHEMA_ID,
            "schema_hash": SCHEMA_HASH_HEX,
            "tool": record_json(self.tool),
            "generated_at": self.generated_at.isoformat(),
            "repository": record_json(self.repository),
            "run": record_json(self.run),
            "machine_decision": record_json(self.machine_decision),
            "findings": [finding_json(f) for f in report_order(self.findings)],
            "suppressed": [
                {**finding_json(f), "suppression": {"kind": "false_positive"}}
                for f in report_order(self.suppressed)
            ],
            "degraded": [degradation_json(d) for d in self.degraded],
            "not_evaluated": [record_json(row) for row in self.not_evaluated],
            "rules": [record_json(row) for row in self.rules],
            "drift": self.drift.as_dict() if self.drift is not None else None,
            "fp_events": record_json(self.fp_events) if self.fp_events is not None else None,
            "circuit_breaker": record_json(self.circuit_breaker),
            "l0": record_json(self.l0),
            "timings": record_json(self.timings),
            "integrity": None,
        }


def record_json(record: Any) -> dict[str, Any]:
    """A record as a JSON object in field order (nested records too), enums as their values."""
    return asdict(record, dict_factory=_plain_fields)


def _plain_fields(fields: list[tuple[str, Any]]) -> dict[str, Any]:
    return {name: value.value if isinstance(value, Enum) else value for name, value in fields}


def finding_json(f: Finding) -> dict[str, Any]:
    # Not `record_json`: the report orders a finding's keys differently from the dataclass and
    # turns the `Redacted` brand back into plain strings.
    return {
        "rule_id": f.rule_id,
        "rule_version": f.rule_version,
        "check": f.check,
        "severity": f.severity.value,
        "message": str(f.message),
        "evidence": str(f.evidence),
        "remediation": f.remediation,
        "path": f.path,
        "line": f.line,
        "logical_location": f.logical_location,
        "fingerprint": f.fingerprint,
        "circuit_breaker": f.circuit_breaker,
    }


def degradation_json(d: Degradation) -> dict[str, Any]:
    # Details quote store errors and inputs verbatim, so they are redacted on the way out.
    return {
        "reason": d.reason,
        "detail": str(redact(d.detail)),
        "fail": d.fail.value,
        "rule": d.rule,
    }


_SEVERITY_ORDER: Final = {"critical": 0, "high": 1, "medium": 2, "low": 3}


def report_order(findings: list[Finding]) -> list[Finding]:
    """Most severe first, then by rule and location; fingerprints break ties so the order is
    stable. Findings without a file (repository settings) come first within their rule."""
    return sorted(
        findings,
        key=lambda f: (
            _SEVERITY_ORDER[f.severity.value],
            f.rule_id,
            f.path or "",
            f.line or 0,
            f.fingerprint,
        ),
    )
