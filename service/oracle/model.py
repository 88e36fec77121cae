"""The oracle's vocabulary: severities, outcomes, modes, findings and their fingerprints."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, replace
from enum import StrEnum

from .redaction import Redacted


class Severity(StrEnum):
    CRITICAL = "critical"
    HIGH = "high"
    MEDIUM = "medium"
    LOW = "low"

    @property
    def rank(self) -> int:
        return _RANK[self]

    @property
    def acted_on(self) -> bool:
        """Severities that count toward the decision (low findings are informational)."""
        return self is not Severity.LOW


_RANK = {Severity.CRITICAL: 3, Severity.HIGH: 2, Severity.MEDIUM: 1, Severity.LOW: 0}


class Outcome(StrEnum):
    PASS = "pass"  # noqa: S105 - an outcome, not a password
    WARN = "warn"
    BLOCK = "block"


class Mode(StrEnum):
    PULL_REQUEST = "pull_request"
    MERGE_GROUP = "merge_group"
    DRIFT = "drift"


#: The check id every rule gets when its evaluation raises: critical, never suppressible.
EVALUATION_ERROR = "evaluation-error"


@dataclass(frozen=True)
class Finding:
    """One problem a rule found. `message` and `evidence` went through the redactor (their type
    says so), so a report can never carry unredacted text by accident."""

    rule_id: str
    rule_version: str
    check: str
    severity: Severity
    message: Redacted
    evidence: Redacted
    remediation: str
    path: str | None
    line: int | None
    fingerprint: str
    #: Where the finding lives when it is not a file (a repository setting from --context).
    logical_location: str | None = None
    #: Set when the circuit breaker degraded this finding's rule to warn.
    circuit_breaker: bool = False

    @property
    def check_id(self) -> str:
        return f"{self.rule_id}.{self.check}"

    @property
    def is_evaluation_error(self) -> bool:
        return self.check == EVALUATION_ERROR

    def degraded_by_breaker(self) -> Finding:
        return replace(self, circuit_breaker=True)

    def with_fingerprint(self, fingerprint: str) -> Finding:
        return replace(self, fingerprint=fingerprint)


def fingerprint(repo: str, rule_id: str, check: str, path: str | None, key: str) -> str:
    """A finding's stable identity: repository, rule, check, file and a rule-chosen key that
    never includes line numbers (lines move when unrelated code changes; the finding does not).
    FP marks and FP events are keyed by this value, never by the rule id."""
    material = "\x00".join(("pm-finding-v1", repo, rule_id, check, path or "", key))
    return hashlib.sha256(material.encode()).hexdigest()[:32]


class Fail(StrEnum):
    """How a degraded dependency affects the decision."""

    OPEN = "open"  # analysis continues and the report says what could not be checked
    CLOSED = "closed"  # the oracle blocks and exits 2: it cannot vouch for the result


@dataclass(frozen=True)
class Degradation:
    reason: str  # stable snake_case code, e.g. "baseline_missing"
    detail: str
    fail: Fail
    rule: str | None = None
