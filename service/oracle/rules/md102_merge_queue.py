"""MD-102 Merge-queue trust chain: what the queue tests is what lands, and nobody goes around it.

Evaluated when the default branch has a merge queue (a `merge_queue` rule in --context) or the
oracle runs in merge_group mode.
"""

from __future__ import annotations

import re
from functools import partial

from ..model import Mode, Severity
from ..protection import effective_protection
from ..workflows import Job, Workflow
from .base import CheckSpec, Emitter, NotApplicable, Rule, RuleContext, RuleSpec

SPEC = RuleSpec(
    id="MD-102",
    name="MergeQueueTrustChain",
    title="Merge-queue trust chain",
    version="1.0.0",
    description=(
        "With a merge queue, protection must be on, admins must not bypass it, direct pushes "
        "must be impossible, history must stay linear, and every required check must be "
        "produced by a workflow job that also runs for merge_group events."
    ),
    tags=("security", "governance", "merge-queue"),
    checks=(
        CheckSpec(
            "protection-disabled",
            Severity.CRITICAL,
            "Merge queue without branch protection",
            "Protect the default branch (ruleset or classic protection) so the merge queue is "
            "the only way in.",
        ),
        CheckSpec(
            "admin-bypass",
            Severity.HIGH,
            "Administrators can bypass the queue",
            "Remove admin roles from ruleset bypass lists (or set bypass_mode: pull_request) "
            "and enable enforce_admins.",
        ),
        CheckSpec(
            "direct-push-allowed",
            Severity.HIGH,
            "Direct pushes bypass the queue",
            "Require pull requests (ruleset `pull_request` rule or required reviews) so every "
            "change goes through the queue.",
        ),
        CheckSpec(
            "linear-history-off",
            Severity.MEDIUM,
            "Linear history not required",
            "Enable 'Require linear history' so the queue's tested commits are the ones merged.",
        ),
        CheckSpec(
            "orphaned-required-check",
            Severity.HIGH,
            "Required check no workflow produces",
            "Rename the required check to a job name that exists (the check name is the job's "
            "`name:` or id), or add the job; an orphaned check blocks the queue or gets "
            "bypassed by admins.",
        ),
        CheckSpec(
            "check-skips-merge-group",
            Severity.HIGH,
            "Required check does not run for merge_group",
            "Add `merge_group:` to the `on:` triggers of the workflow producing this check, so "
            "the queue tests the merged result.",
        ),
        CheckSpec(
            "no-merge-queue",
            Severity.MEDIUM,
            "merge_group evaluation without a merge queue",
            "Enable the merge queue on the default branch (ruleset `merge_queue` rule), or "
            "evaluate in pull_request mode.",
        ),
    ),
)


def evaluate(ctx: RuleContext, emit: Emitter) -> None:
    context = ctx.context
    if context is not None and context.protection_gap is not None:
        raise NotApplicable(f"branch protection unreadable ({context.protection_gap})")
    if context is None or not context.knows_protection:
        if ctx.mode is Mode.MERGE_GROUP:
            raise NotApplicable(
                "merge_group mode needs the branch protection and rules in --context"
            )
        raise NotApplicable("no branch protection or rules in --context")
    protection = effective_protection(context)
    if not protection.merge_queue and ctx.mode is not Mode.MERGE_GROUP:
        raise NotApplicable("the default branch has no merge queue")
    branch = context.default_branch
    logical = f"github://{ctx.repo_name}/branches/{branch}/queue"
    # Every finding here points at the same context document and logical location.
    on_branch = partial(emit.finding, key=branch, path=context.source, logical=logical)
    on_check = partial(emit.finding, path=context.source, logical=logical)
    if not protection.merge_queue:
        on_branch(
            "no-merge-queue",
            message=f"Evaluating a merge group, but '{branch}' has no merge_queue rule.",
            evidence="rules: no merge_queue",
            line=context.line_of("rules"),
        )
    if not protection.protected:
        on_branch(
            "protection-disabled",
            message=f"'{branch}' has no protection: the merge queue can be bypassed entirely.",
            evidence="branch_protection: null, rules: []",
            line=context.line_of("branch_protection"),
        )
        return
    if not protection.admins_enforced:
        on_branch(
            "admin-bypass",
            message=f"Administrators can merge into '{branch}' around the merge queue.",
            evidence=", ".join(protection.admin_bypass_actors) or "enforce_admins: false",
            line=context.line_of("bypass_actors") or context.line_of("enforce_admins"),
        )
    if not protection.pr_required:
        on_branch(
            "direct-push-allowed",
            message=f"Changes can be pushed to '{branch}' without a pull request or the queue.",
            evidence="no required pull request reviews / pull_request rule",
            line=context.line_of("branch_protection") or context.line_of("rules"),
        )
    if not protection.linear_history:
        on_branch(
            "linear-history-off",
            message=f"'{branch}' does not require linear history.",
            evidence="required_linear_history: false",
            line=context.line_of("required_linear_history") or context.line_of("branch_protection"),
        )
    producers = _producers(ctx.repo.workflows)
    for check in protection.required_checks:
        if not check.from_actions:
            continue  # produced by another app (an external CI): not traceable to workflows
        workflows = [w for w, pattern in producers if pattern.fullmatch(check.context)]
        line = context.line_of(check.context)
        if not workflows:
            on_check(
                "orphaned-required-check",
                message=f"Required check '{check.context}' is not produced by any workflow job "
                "in this repository.",
                evidence=f"required check: {check.context}",
                line=line,
                key=check.context,
            )
        elif protection.merge_queue and not any("merge_group" in w.triggers for w in workflows):
            on_check(
                "check-skips-merge-group",
                message=f"Required check '{check.context}' comes from "
                + ", ".join(sorted({w.path for w in workflows}))
                + ", which does not run on merge_group: the queue waits for it forever.",
                evidence=f"required check: {check.context}",
                line=line,
                key=check.context,
            )


def _producers(workflows: tuple[Workflow, ...]) -> list[tuple[Workflow, re.Pattern[str]]]:
    """(workflow, check-name pattern) for every job: its check run name is `name:` or the job
    id; expressions in the name match anything; matrix jobs add ` (<values>)`; reusable
    workflow calls add ` / <called job>`."""
    found = []
    for workflow in workflows:
        for job in workflow.jobs:
            found.append((workflow, _check_pattern(job)))
    return found


def _check_pattern(job: Job) -> re.Pattern[str]:
    parts = re.split(r"\$\{\{.*?\}\}", job.name)
    base = ".*".join(re.escape(part) for part in parts)
    if job.has_matrix and len(parts) == 1:
        base += r"(?: \(.*\))?"
    if job.uses is not None:
        base += r"(?: / .*)?"
    return re.compile(base)


RULE = Rule(SPEC, evaluate)
