"""MD-002 Workflow permissions boundary: every workflow states the least GITHUB_TOKEN access it
needs, and privileged triggers never run untrusted code."""

from __future__ import annotations

from ..model import Severity
from ..workflows import Job, Step, Workflow, write_scopes
from .base import CheckSpec, Emitter, Rule, RuleContext, RuleSpec, evidence_list
from .conditions import runs_for
from .expressions import (
    FORK_TRIGGERS,
    PRIVILEGED_CHECKOUT_TRIGGERS,
    STEP_OUTPUT,
    UNTRUSTED_CHECKOUT_COMMAND,
    UNTRUSTED_REF,
    pr_head_steps,
)

#: The code-scanning upload actions (`github/codeql-action/analyze`, `.../upload-sarif`).
CODE_SCANNING = "github/codeql-action/"

SPEC = RuleSpec(
    id="MD-002",
    name="WorkflowPermissionsBoundary",
    title="Workflow permissions boundary",
    version="1.1.0",
    description=(
        "Workflows must declare least-privilege GITHUB_TOKEN permissions, must not grant write "
        "access to fork pull requests, and privileged triggers (pull_request_target, "
        "workflow_run, issue_comment) must never check out the untrusted head."
    ),
    tags=("security", "github-actions", "permissions"),
    checks=(
        CheckSpec(
            "missing-permissions",
            Severity.MEDIUM,
            "No top-level permissions",
            "Add a top-level `permissions:` block (start from `contents: read`) so the token does "
            "not inherit the repository default, and widen it per job only where needed.",
        ),
        CheckSpec(
            "write-all",
            Severity.HIGH,
            "permissions: write-all",
            "Replace `write-all` with the specific scopes the job needs, e.g. "
            "`permissions: {contents: read, pull-requests: write}`.",
        ),
        CheckSpec(
            "fork-pr-write",
            Severity.HIGH,
            "Write scopes on a pull_request workflow of a private repository",
            "Pull request workflows run code from forks; keep them read-only and move writes "
            "(comments, labels, releases) to a separate workflow that never runs PR code, or "
            "turn off 'Send write tokens to workflows from fork pull requests'.",
        ),
        CheckSpec(
            "untrusted-checkout",
            Severity.CRITICAL,
            "Privileged trigger checks out untrusted code",
            "Do not check out or run the pull request head in pull_request_target, "
            "workflow_run or issue_comment workflows. Use `pull_request` for building PR code, "
            "and pass results to privileged workflows as artifacts treated as data.",
        ),
        CheckSpec(
            "workflow-write-scopes",
            Severity.MEDIUM,
            "Write scopes granted to every job",
            "Keep the top-level `permissions:` read-only and grant write scopes in the "
            "`permissions:` of the one job that needs them.",
        ),
        CheckSpec(
            "id-token-workflow-wide",
            Severity.MEDIUM,
            "id-token: write granted to every job",
            "Grant `id-token: write` only to the job that federates to the cloud (job-level "
            "`permissions:`), not at the top of the workflow.",
        ),
    ),
)


def evaluate(ctx: RuleContext, emit: Emitter) -> None:
    unknown_visibility: list[str] = []
    for workflow in ctx.repo.workflows:
        if workflow.root is None or (workflow.problem is not None and not workflow.jobs):
            continue  # MD-003 reports unparseable workflows
        if not workflow.reusable_only:
            # A reusable workflow's token is the caller's (it can only narrow it), so its
            # permissions are judged where it is called.
            _permissions(workflow, emit)
            unknown_visibility += _fork_writes(workflow, ctx, emit)
        _untrusted_checkout(workflow, emit)
    if unknown_visibility:
        emit.not_evaluated(
            "fork-pr-write",
            "repository visibility unknown (no `repository.private` in --context); GitHub "
            "gives fork pull requests a read-only token on public repositories, so write scopes "
            "on " + evidence_list(unknown_visibility) + " matter only if the repository is "
            "private and sends write tokens to fork pull request workflows",
        )


def _permissions(workflow: Workflow, emit: Emitter) -> None:
    path = workflow.path
    if not workflow.has_permissions and not all(job.has_permissions for job in workflow.jobs):
        emit.finding(
            "missing-permissions",
            message=f"{path} has no top-level `permissions:`; jobs without their own block get "
            "the repository's default token permissions.",
            evidence=[j.id for j in workflow.jobs if not j.has_permissions],
            path=path,
            line=1,
        )
    for where, permissions, line, present in _scopes(workflow):
        if present and write_scopes(permissions) == ["*"]:
            emit.finding(
                "write-all",
                message=f"{where} in {path} grants `write-all` to the GITHUB_TOKEN.",
                evidence="permissions: write-all",
                path=path,
                line=line,
                key=where,
            )
    # Top-level grants reach every job without its own `permissions:`; with one such job a
    # workflow-level grant is the same as a job-level one.
    inheriting = [job.id for job in workflow.jobs if not job.has_permissions]
    if len(inheriting) < 2:
        return
    top = workflow.permissions
    writes = [scope for scope in write_scopes(top) if scope not in ("*", "id-token")]
    if writes:
        emit.finding(
            "workflow-write-scopes",
            message=f"{path} grants {', '.join(f'{s}: write' for s in writes)} at the top "
            f"level, so {len(inheriting)} jobs ({', '.join(inheriting)}) and every action they "
            "run hold a token that can write.",
            evidence=[f"{scope}: write" for scope in writes],
            path=path,
            line=workflow.permissions_line,
        )
    if isinstance(top, dict) and top.get("id-token") == "write":
        emit.finding(
            "id-token-workflow-wide",
            message=f"{path} grants `id-token: write` to {len(inheriting)} jobs "
            f"({', '.join(inheriting)}); any step of any of them can mint cloud credentials.",
            evidence="permissions: id-token: write (top level)",
            path=path,
            line=workflow.permissions_line,
        )


def _scopes(workflow: Workflow) -> list[tuple[str, object, int, bool]]:
    scopes: list[tuple[str, object, int, bool]] = [
        ("workflow", workflow.permissions, workflow.permissions_line, workflow.has_permissions)
    ]
    scopes += [
        (f"job {job.id}", job.permissions, job.permissions_line, job.has_permissions)
        for job in workflow.jobs
    ]
    return scopes


def _fork_writes(workflow: Workflow, ctx: RuleContext, emit: Emitter) -> list[str]:
    """fork-pr-write per job, for the pull-request events the job's `if:` lets it run for.
    Returns the jobs it could not judge because the repository's visibility is unknown."""
    fork_triggered = FORK_TRIGGERS & workflow.triggers.keys()
    if not fork_triggered:
        return []
    private = ctx.context.repository_private if ctx.context is not None else None
    undecided = []
    for job in workflow.jobs:
        where, permissions = _effective(workflow, job)
        writes = [scope for scope in write_scopes(permissions) if scope != "*"]
        if _code_scanning(job, writes):
            writes = []  # uploading results is what the standard code-scanning job is for
        events = sorted(runs_for(job.condition, fork_triggered))
        if not writes or not events:
            continue
        if private is None:
            undecided.append(f"{workflow.path} job {job.id}")
            continue
        if not private:
            continue  # public: fork pull requests always get a read-only token
        emit.finding(
            "fork-pr-write",
            message=f"{where} in {workflow.path} grants write scopes ({', '.join(writes)}) to "
            f"job '{job.id}', which runs for {', '.join(events)} in a private repository, where "
            "fork pull requests get write tokens if the repository sends them.",
            evidence=[f"{scope}: write" for scope in writes],
            path=workflow.path,
            line=job.permissions_line if job.has_permissions else workflow.permissions_line,
            key=f"job {job.id}",
        )
    return undecided


def _effective(workflow: Workflow, job: Job) -> tuple[str, object]:
    if job.has_permissions:
        return f"job {job.id}", job.permissions
    return "workflow", workflow.permissions if workflow.has_permissions else None


def _code_scanning(job: Job, writes: list[str]) -> bool:
    uploads = any(
        step.uses is not None and step.uses.split("@", 1)[0].lower().startswith(CODE_SCANNING)
        for step in job.steps
    )
    return uploads and set(writes) <= {"security-events"}


def _untrusted_checkout(workflow: Workflow, emit: Emitter) -> None:
    privileged = PRIVILEGED_CHECKOUT_TRIGGERS & workflow.triggers.keys()
    if not privileged:
        return
    for job in workflow.jobs:
        triggers = sorted(runs_for(job.condition, privileged))
        if not triggers:
            continue
        tainted = pr_head_steps(job)
        for step in job.steps:
            found = _checkout_of_pr_code(workflow, step, tainted)
            if found is None:
                continue
            evidence, line = found
            emit.finding(
                "untrusted-checkout",
                message=f"Job '{job.id}' of {workflow.path} ({', '.join(triggers)}) checks "
                "out pull request code while holding the base repository's token and "
                "secrets; whatever that code runs (build scripts, package hooks, local "
                "actions) runs with them.",
                evidence=evidence,
                path=workflow.path,
                line=line,
                key=f"{job.id}:{step.label}",
            )


def _checkout_of_pr_code(
    workflow: Workflow, step: Step, tainted: set[str]
) -> tuple[str, int] | None:
    if step.uses is not None and step.uses.split("@", 1)[0].lower() == "actions/checkout":
        for name in ("ref", "repository"):
            value = step.with_value(name)
            if isinstance(value, str) and (
                UNTRUSTED_REF.search(value)
                or any(m.group(1) in tainted for m in STEP_OUTPUT.finditer(value))
            ):
                return f"uses: {step.uses} with {name}: {value}", getattr(value, "line", step.line)
    if step.run is not None:
        match = UNTRUSTED_CHECKOUT_COMMAND.search(step.run)
        if match:
            line = workflow.locate(
                match.group(0).split("\n", 1)[0][:40], step.run.line, step.run.end_line
            )
            return match.group(0), line
    return None


RULE = Rule(SPEC, evaluate)
