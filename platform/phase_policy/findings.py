"""Gate results: findings per target, waiver problems, and the exit code they imply.

A finding's identity is (rule id, resource URN, property path): the same identity keys the
baseline file and the SARIF fingerprints, so both survive unrelated edits (another resource
added, resources reordered, a message reworded around the same property).
"""

from __future__ import annotations

import hashlib
import re
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


#: A rule may name the property it judged by ending its message with `[at <path>]`
#: (e.g. "encryption is off [at serverSideEncryption.enabled]"); see `at_path`.
_AT = " [at "
_QUOTED = re.compile(r"'[^']*'|\"[^\"]*\"|`[^`]*`")
_NUMBER = re.compile(r"\d+(?:\.\d+)?")
#: Version of the identity scheme, part of every fingerprint (bump it if the scheme changes).
IDENTITY_VERSION = "v1"


def at_path(message: str, path: str) -> str:
    """A violation message that names the property path it is about (for the finding's identity)."""
    return f"{message} [at {path}]"


def split_path(message: str) -> tuple[str, str]:
    """(message without the `[at path]` suffix, property path).

    Without an explicit path, the path is `msg:` plus the message with its values masked
    (quoted text -> `*`, numbers -> `#`), so a changed value (a 5-day window becoming 6) keeps
    the identity while two different problems of one rule on one resource stay distinct."""
    text = message.rstrip()
    head, at, tail = text.rpartition(_AT)
    if at and tail.endswith("]") and tail[:-1].strip():
        return head, tail[:-1].strip()
    masked = _NUMBER.sub("#", _QUOTED.sub("*", message.strip().lower()))
    return message, "msg:" + " ".join(masked.split())


def fingerprint(rule_id: str, urn: str, path: str) -> str:
    """The stable identity hash of a finding (SARIF partialFingerprints, baseline entries)."""
    key = "\x1f".join((IDENTITY_VERSION, rule_id, urn, path))
    return hashlib.sha256(key.encode()).hexdigest()[:32]


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
    #: The property the finding is about (see `split_path`); with rule id and URN, its identity.
    path: str = ""
    #: Already recorded in the baseline given with `--baseline` (reported, never blocking).
    baselined: bool = False

    @property
    def fingerprint(self) -> str:
        return fingerprint(self.rule_id, self.urn, self.path)

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
            self.enforcement == "mandatory"
            and not self.unknown_at_preview
            and not self.suppressed
            and not self.baselined
        )

    @property
    def level(self) -> str:
        """SARIF level: error (mandatory), warning (advisory), note (undecidable at preview)."""
        if self.unknown_at_preview:
            return "note"
        return "error" if self.enforcement == "mandatory" else "warning"


@dataclass(frozen=True)
class BaselineEntry:
    """One recorded finding of a baseline file: its identity plus where and what, for people."""

    rule: str
    cloud: str
    stack: str
    urn: str
    path: str
    message: str = ""

    @property
    def fingerprint(self) -> str:
        return fingerprint(self.rule, self.urn, self.path)

    @classmethod
    def of(cls, finding: Finding) -> BaselineEntry:
        return cls(
            finding.rule_id,
            finding.cloud,
            finding.stack,
            finding.urn,
            finding.path,
            finding.message,
        )


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
    #: The baseline file applied (`--baseline`), and its entries no finding matched any more.
    baseline: str = ""
    stale: tuple[BaselineEntry, ...] = ()

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
