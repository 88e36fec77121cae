"""MD-002 Workflow permissions boundary: every workflow states the least GITHUB_TOKEN access it
needs, and privileged triggers never run untrusted code."""

from __future__ import annotations

from ..model import Severity
from ..workflows import Workflow, write_scopes
from .base import CheckSpec, Emitter, Rule, RuleContext, RuleSpec
from .expressions import FORK_TRIGGERS, UNTRUSTED_CHECKOUT_COMMAND, UNTRUSTED_REF

SPEC = RuleSpec(
    id="MD-002",
    name="WorkflowPermissionsBoundary",
    title="Workflow permissions boundary",
    version="1.0.0",
    description=(
        "Workflows must declare least-privilege GITHUB_TOKEN permissions, must not grant write "
        "access to fork pull requests, and privileged triggers (pull_request_target, "
        "workflow_run) must never check out the untrusted head."
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
            "Write scopes on a pull_request workflow",
            "Pull request workflows run code from forks; keep them read-only and move writes "
            "(comments, labels, releases) to a separate workflow that never runs PR code.",
        ),
        CheckSpec(
            "untrusted-checkout",
            Severity.CRITICAL,
            "Privileged trigger checks out untrusted code",
            "Do not check out or run the pull request head in pull_request_target or "
            "workflow_run workflows. Use `pull_request` for building PR code, and pass results "
            "to privileged workflows as artifacts treated as data.",
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
    for workflow in ctx.repo.workflows:
        if workflow.root is None or (workflow.problem is not None and not workflow.jobs):
            continue  # MD-003 reports unparseable workflows
        _permissions(workflow, emit)
        _untrusted_checkout(workflow, emit)


def _permissions(workflow: Workflow, emit: Emitter) -> None:
    path = workflow.path
    if not workflow.has_permissions and not all(job.has_permissions for job in workflow.jobs):
        emit.finding(
            "missing-permissions",
            message=f"{path} has no top-level `permissions:`; jobs without their own block get "
            "the repository's default token permissions.",
            evidence=", ".join(j.id for j in workflow.jobs if not j.has_permissions),
            path=path,
            line=1,
        )
    scopes = [
        ("workflow", workflow.permissions, workflow.permissions_line, workflow.has_permissions)
    ]
    scopes += [
        (f"job {job.id}", job.permissions, job.permissions_line, job.has_permissions)
        for job in workflow.jobs
    ]
    fork_triggered = sorted(FORK_TRIGGERS & workflow.triggers.keys())
    for where, permissions, line, present in scopes:
        if not present:
            continue
        writes = write_scopes(permissions)
        if writes == ["*"]:
            emit.finding(
                "write-all",
                message=f"{where} in {path} grants `write-all` to the GITHUB_TOKEN.",
                evidence="permissions: write-all",
                path=path,
                line=line,
                key=where,
            )
        elif writes and fork_triggered:
            emit.finding(
                "fork-pr-write",
                message=f"{where} in {path} grants write scopes ({', '.join(writes)}) to a "
                f"workflow triggered by {', '.join(fork_triggered)}.",
                evidence=", ".join(f"{scope}: write" for scope in writes),
                path=path,
                line=line,
                key=where,
            )
    top = workflow.permissions
    if isinstance(top, dict) and top.get("id-token") == "write" and len(workflow.jobs) > 0:
        emit.finding(
            "id-token-workflow-wide",
            message=f"{path} grants `id-token: write` to every job; any step of any job can "
            "mint cloud credentials.",
            evidence="permissions: id-token: write (top level)",
            path=path,
            line=workflow.permissions_line,
        )


def _untrusted_checkout(workflow: Workflow, emit: Emitter) -> None:
    privileged = sorted({"pull_request_target", "workflow_run"} & workflow.triggers.keys())
    if not privileged:
        return
    for job in workflow.jobs:
        for step in job.steps:
            evidence = None
            line = step.line
            if step.uses is not None and step.uses.split("@", 1)[0].lower() == "actions/checkout":
                for name in ("ref", "repository"):
                    value = step.with_value(name)
                    if isinstance(value, str) and UNTRUSTED_REF.search(value):
                        evidence = f"uses: {step.uses} with {name}: {value}"
                        line = getattr(value, "line", line)
                        break
            if evidence is None and step.run is not None:
                match = UNTRUSTED_CHECKOUT_COMMAND.search(step.run)
                if match:
                    evidence = match.group(0)
                    line = workflow.locate(
                        match.group(0).split("\n", 1)[0][:40], step.run.line, step.run.end_line
                    )
            if evidence is not None:
                emit.finding(
                    "untrusted-checkout",
                    message=f"Job '{job.id}' of {workflow.path} ({', '.join(privileged)}) checks "
                    "out untrusted pull request code while holding a privileged token and "
                    "secrets.",
                    evidence=evidence,
                    path=workflow.path,
                    line=line,
                    key=f"{job.id}:{step.label}",
                )


RULE = Rule(SPEC, evaluate)
