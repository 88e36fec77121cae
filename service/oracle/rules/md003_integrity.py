"""MD-003 Workflow integrity: what a workflow runs must be exactly what was reviewed.

Third-party actions pinned to full commit SHAs, container images pinned by digest, no attacker
text spliced into shell scripts, no piping downloads into a shell, and every workflow parseable.
"""

from __future__ import annotations

import re

from ..model import Severity
from ..workflows import Job, Step, Workflow, is_local_reference
from .base import CheckSpec, Emitter, Rule, RuleContext, RuleSpec
from .expressions import (
    DISPATCH_INPUT,
    EXPRESSION,
    PRIVILEGED_UNTRUSTED_TRIGGERS,
    STEP_OUTPUT,
    UNTRUSTED_FIELD,
    pr_head_steps,
    untrusted_expressions,
)

FULL_SHA = re.compile(r"^[0-9a-f]{40}$")
DIGEST = re.compile(r"@sha256:[0-9a-f]{64}$")
PIPE_TO_SHELL = re.compile(
    r"\b(?:curl|wget)\b[^\n|;&]*\|\s*(?:sudo\s+(?:-\S+\s+)*)?(?:ba|z|da|k)?sh\b"
    r"|\b(?:ba|z)?sh\s+<\(\s*(?:curl|wget)\b"
    r"|\b(?:ba|z)?sh\s+-c\s+[\"']?\$\((?:curl|wget)\b"
)

SPEC = RuleSpec(
    id="MD-003",
    name="WorkflowIntegrity",
    title="Workflow integrity",
    version="1.1.0",
    description=(
        "Workflows must run exactly the code that was reviewed: actions pinned to commit SHAs, "
        "images pinned by digest, no untrusted event text interpolated into scripts, no "
        "download-and-execute, and valid YAML."
    ),
    tags=("security", "github-actions", "supply-chain"),
    checks=(
        CheckSpec(
            "unpinned-action",
            Severity.HIGH,
            "Third-party action not pinned to a commit SHA",
            "Pin the action to a full 40-character commit SHA and keep the tag in a comment, "
            "e.g. `uses: owner/action@<sha> # v1.2.3`; let Dependabot or Renovate update it.",
        ),
        CheckSpec(
            "unpinned-first-party-action",
            Severity.LOW,
            "First-party action not pinned to a commit SHA",
            "Pin actions/* and github/* actions to full commit SHAs too (tags are mutable).",
            strict_severity=Severity.MEDIUM,
        ),
        CheckSpec(
            "unpinned-image",
            Severity.HIGH,
            "Container image not pinned by digest",
            "Reference the image by digest: `docker://image@sha256:<digest>` in a step, "
            "`container: image@sha256:<digest>` for a job (keep the tag in a comment).",
        ),
        CheckSpec(
            "unpinned-service-image",
            Severity.MEDIUM,
            "Service container image not pinned by digest",
            "Reference the service image by digest (`image: postgres@sha256:<digest>`); a "
            "moved tag changes what the job's steps talk to and can reach the job's network.",
        ),
        CheckSpec(
            "script-injection",
            Severity.HIGH,
            "Untrusted event data interpolated into a script",
            "Pass the value through an environment variable (`env: TITLE: ${{ "
            'github.event.issue.title }}`) and use "$TITLE" in the script; never splice '
            "`${{ }}` expressions of untrusted fields into `run:`.",
            strict_severity=Severity.CRITICAL,
        ),
        CheckSpec(
            "step-output-injection",
            Severity.MEDIUM,
            "Untrusted data reaches a script through a step output",
            "Pass the step output through an environment variable (`env: VALUE: ${{ "
            'steps.<id>.outputs.<name> }}`) and quote "$VALUE" in the script; the step it '
            "comes from reads text an outsider controls.",
            strict_severity=Severity.HIGH,
        ),
        CheckSpec(
            "dispatch-input-injection",
            Severity.LOW,
            "Manual workflow input interpolated into a script",
            "Pass `inputs.<name>` through an environment variable and quote it in the script; "
            "whoever can run the workflow (write access) controls the text.",
            strict_severity=Severity.MEDIUM,
        ),
        CheckSpec(
            "pipe-to-shell",
            Severity.HIGH,
            "Downloaded script piped into a shell",
            "Download to a file, verify its checksum or signature, then execute it; or use a "
            "pinned action or package instead.",
        ),
        CheckSpec(
            "malformed-workflow",
            Severity.HIGH,
            "Workflow is not valid YAML",
            "Fix the YAML syntax at the reported line (GitHub will not run this workflow, and "
            "the oracle cannot check it).",
        ),
        CheckSpec(
            "invalid-workflow",
            Severity.MEDIUM,
            "File in .github/workflows is not a workflow",
            "Give the workflow `on:` triggers and `jobs:`, or move the file out of "
            ".github/workflows.",
        ),
    ),
)


def evaluate(ctx: RuleContext, emit: Emitter) -> None:
    trusted_owners = ctx.config.trusted_action_owners
    for workflow in ctx.repo.workflows:
        if workflow.problem is not None:
            emit.finding(
                "malformed-workflow" if workflow.problem.malformed else "invalid-workflow",
                message=f"{workflow.path}: {workflow.problem.message}",
                evidence=_line_text(workflow, workflow.problem.line),
                path=workflow.path,
                line=workflow.problem.line,
            )
            if workflow.root is None:
                continue
        for problem in workflow.step_problems:
            emit.finding(
                "invalid-workflow",
                message=f"{workflow.path}: {problem.message}",
                evidence=_line_text(workflow, problem.line),
                path=workflow.path,
                line=problem.line,
                key=f"step@{problem.message}",
            )
        privileged = bool(PRIVILEGED_UNTRUSTED_TRIGGERS & workflow.triggers.keys())
        dispatched = "workflow_dispatch" in workflow.triggers
        for job in workflow.jobs:
            _images(emit, workflow, job)
            tainted = pr_head_steps(job)
            if job.uses is not None:
                _pinning(
                    emit, workflow, job.uses, job.node.line_of("uses"), f"{job.id}", trusted_owners
                )
            seen: dict[str, int] = {}
            for step in job.steps:
                if step.uses is not None:
                    count = seen[step.uses] = seen.get(step.uses, 0) + 1
                    key = f"{job.id}:{step.uses}" + (f"#{count}" if count > 1 else "")
                    _pinning(
                        emit, workflow, step.uses, step.node.line_of("uses"), key, trusted_owners
                    )
                _scripts(emit, workflow, job.id, step, privileged)
                _indirect(emit, workflow, job.id, step, tainted, dispatched)


def _pinning(
    emit: Emitter, workflow: Workflow, uses: str, line: int, key: str, trusted: frozenset[str]
) -> None:
    reference = uses.strip()
    if not reference or is_local_reference(reference):
        return  # local action or workflow (`./`, `$/`): reviewed with the repository
    if reference.startswith("docker://"):
        if not DIGEST.search(reference):
            emit.finding(
                "unpinned-image",
                message=f"{workflow.path} runs container image {reference} by a mutable tag.",
                evidence=f"uses: {reference}",
                path=workflow.path,
                line=line,
                key=key,
            )
        return
    target, _, ref = reference.partition("@")
    if FULL_SHA.match(ref):
        return
    owner = target.split("/", 1)[0].lower()
    first_party = owner in trusted
    emit.finding(
        "unpinned-first-party-action" if first_party else "unpinned-action",
        message=f"{workflow.path} uses {target}@{ref or '(no ref)'}; "
        + ("a tag or branch can be moved to other code." if ref else "no version is pinned."),
        evidence=f"uses: {reference}",
        path=workflow.path,
        line=line,
        key=key,
    )


def _images(emit: Emitter, workflow: Workflow, job: Job) -> None:
    for image in job.images():
        reference = image.reference.strip()
        if not reference or "${{" in reference or DIGEST.search(reference):
            continue  # an expression is resolved at run time: nothing to judge here
        service = image.where.startswith("services.")
        emit.finding(
            "unpinned-service-image" if service else "unpinned-image",
            message=f"Job '{job.id}' of {workflow.path} starts {image.where} image "
            f"{reference} by a mutable tag.",
            evidence=f"{image.where}: {reference}",
            path=workflow.path,
            line=image.line,
            key=f"{job.id}:{image.where}",
        )


def _indirect(
    emit: Emitter,
    workflow: Workflow,
    job_id: str,
    step: Step,
    tainted: set[str],
    dispatched: bool,
) -> None:
    """Untrusted text that reaches a script one hop away: a step output computed from it, or
    (lower severity) an input of a manually dispatched workflow."""
    for kind, script in _step_scripts(step):
        start = getattr(script, "line", step.line)
        end = getattr(script, "end_line", start)
        for match in dict.fromkeys(m.group(0) for m in EXPRESSION.finditer(script)):
            body = match[3:-2]
            if UNTRUSTED_FIELD.search(body):
                continue  # script-injection already reports it
            sources = [m.group(1) for m in STEP_OUTPUT.finditer(body) if m.group(1) in tainted]
            if sources:
                check, origin = (
                    "step-output-injection",
                    f"step '{sources[0]}' computes it from untrusted text",
                )
            elif dispatched and DISPATCH_INPUT.search(body):
                check, origin = (
                    "dispatch-input-injection",
                    "whoever dispatches the workflow chooses it",
                )
            else:
                continue
            emit.finding(
                check,
                message=f"Step '{step.label}' of job '{job_id}' in {workflow.path} splices "
                f"{match} into its {kind} script ({origin}).",
                evidence=match,
                path=workflow.path,
                line=workflow.locate(match, start, end),
                key=f"{job_id}:{step.label}:{match}",
            )


def _step_scripts(step: Step) -> list[tuple[str, str]]:
    scripts: list[tuple[str, str]] = []
    if step.run is not None:
        scripts.append(("run", step.run))
    if step.uses is not None and step.uses.split("@", 1)[0].lower() == "actions/github-script":
        script = step.with_value("script")
        if isinstance(script, str):
            scripts.append(("script", script))
    return scripts


def _scripts(emit: Emitter, workflow: Workflow, job_id: str, step: Step, privileged: bool) -> None:
    for kind, script in _step_scripts(step):
        start = getattr(script, "line", step.line)
        end = getattr(script, "end_line", start)
        for expression in dict.fromkeys(untrusted_expressions(script)):
            emit.finding(
                "script-injection",
                message=f"Step '{step.label}' of job '{job_id}' in {workflow.path} splices "
                f"{expression} into its {kind} script: whoever controls that text controls the "
                "shell" + (" of a privileged workflow." if privileged else "."),
                evidence=expression,
                path=workflow.path,
                line=workflow.locate(expression, start, end),
                key=f"{job_id}:{step.label}:{expression}",
                escalate_to=Severity.CRITICAL if privileged else None,
            )
        if kind == "run":
            match = PIPE_TO_SHELL.search(script)
            if match:
                emit.finding(
                    "pipe-to-shell",
                    message=f"Step '{step.label}' of job '{job_id}' in {workflow.path} pipes a "
                    "download straight into a shell.",
                    evidence=match.group(0),
                    path=workflow.path,
                    line=workflow.locate(match.group(0)[:30], start, end),
                    key=f"{job_id}:{step.label}",
                )


def _line_text(workflow: Workflow, line: int) -> str:
    lines = workflow.lines()
    return lines[line - 1] if 0 < line <= len(lines) else ""


RULE = Rule(SPEC, evaluate)
