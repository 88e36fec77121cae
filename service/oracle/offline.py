"""The offline workflow checks (`phase-mirror analyze --workflows FILE...`, the pre-commit hook):
MD-002 and MD-003 on the files given, with no backend, no redaction key and no context.

Nothing is stored and nothing is sealed: this is a fast local check before a commit; the sealed
decision is the CI run's. Files keep the paths they were given with (pre-commit passes them
relative to the repository root), so findings point at them.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import cached_property
from pathlib import Path

from .config import OracleConfig
from .evaluation import evaluate, unique_fingerprints
from .model import Finding, Mode, Severity
from .repo import MAX_FILE_BYTES, Repository
from .rules import RULES
from .rules.base import RuleContext
from .workflows import Problem, Workflow, load_workflow

#: The rules that read nothing but workflow files.
WORKFLOW_RULES = ("MD-002", "MD-003")
OFFLINE_REPO = "local/offline"


class WorkflowFiles(Repository):
    """A `Repository` whose workflows are exactly the given files."""

    def __init__(self, paths: Sequence[Path]) -> None:
        super().__init__(Path("."))
        self._paths = tuple(paths)

    @cached_property
    def workflows(self) -> tuple[Workflow, ...]:
        return tuple(_load(path) for path in self._paths)


def _load(path: Path) -> Workflow:
    name = path.as_posix()
    try:
        with path.open("rb") as handle:
            data = handle.read(MAX_FILE_BYTES + 1)
        if len(data) > MAX_FILE_BYTES:
            raise ValueError(f"larger than {MAX_FILE_BYTES} bytes")
    except (OSError, ValueError) as error:
        workflow = load_workflow(name, "")
        workflow.problem = Problem(1, f"cannot read the workflow: {error}", True)
        return workflow
    return load_workflow(name, data.decode("utf-8", errors="replace"))


def check_workflow_files(
    paths: Sequence[Path], config: OracleConfig | None = None, *, strict: bool = False
) -> list[Finding]:
    ctx = RuleContext(
        repo=WorkflowFiles(paths),
        repo_name=OFFLINE_REPO,
        mode=Mode.PULL_REQUEST,
        strict=strict,
        config=config or OracleConfig(),
    )
    findings: list[Finding] = []
    for rule in RULES:
        if rule.spec.id in WORKFLOW_RULES and ctx.config.enabled(rule.spec.id):
            findings.extend(evaluate(rule, ctx).findings)
    return unique_fingerprints(findings)


def render_offline(findings: Sequence[Finding]) -> str:
    lines = [
        f"{f.path}:{f.line or 1}: {f.severity.value} {f.check_id}: {f.message}\n"
        f"    fix: {f.remediation}"
        for f in sorted(findings, key=lambda f: (f.path or "", f.line or 0, f.check_id))
    ]
    counted = sum(1 for f in findings if f.severity.acted_on)
    lines.append(
        f"phase-mirror: {len(findings)} finding(s) in workflow files, {counted} medium or higher"
    )
    return "\n".join(lines) + "\n"


def offline_exit(findings: Sequence[Finding], fail_on: str) -> int:
    """1 when a finding reaches `fail_on` (a severity; `block`/`warn`: medium or higher)."""
    if fail_on == "never":
        return 0
    floor = Severity(fail_on) if fail_on in {s.value for s in Severity} else Severity.MEDIUM
    return 1 if any(f.severity.rank >= floor.rank for f in findings) else 0
