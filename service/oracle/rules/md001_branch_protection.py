"""MD-001 Branch protection: the default branch must be protected the way reviews assume.

Reads the default branch's classic protection and rulesets from `--context` (see context.py).
"""

from __future__ import annotations

from functools import partial

from ..model import Mode, Severity
from ..protection import effective_protection
from .base import CheckSpec, Emitter, NotApplicable, Rule, RuleContext, RuleSpec

SPEC = RuleSpec(
    id="MD-001",
    name="BranchProtection",
    title="Default branch protection",
    version="1.0.0",
    description=(
        "The default branch must require reviewed pull requests, dismiss stale approvals, bind "
        "administrators, forbid force pushes and deletion, and require status checks."
    ),
    tags=("security", "governance", "branch-protection"),
    checks=(
        CheckSpec(
            "unprotected",
            Severity.CRITICAL,
            "The default branch is not protected",
            "Protect the default branch (Settings > Branches, or a ruleset targeting "
            "~DEFAULT_BRANCH) with required pull request reviews and status checks.",
        ),
        CheckSpec(
            "insufficient-reviews",
            Severity.HIGH,
            "Too few required approving reviews",
            "Require pull requests before merging with at least the configured number of "
            "approving reviews (thresholds.min_approvals; strict_min_approvals in strict mode).",
        ),
        CheckSpec(
            "stale-reviews-kept",
            Severity.MEDIUM,
            "Stale approvals are not dismissed",
            "Enable 'Dismiss stale pull request approvals when new commits are pushed' "
            "(rulesets: dismiss_stale_reviews_on_push).",
        ),
        CheckSpec(
            "admins-not-enforced",
            Severity.MEDIUM,
            "Administrators are exempt",
            "Enable 'Do not allow bypassing the above settings' (enforce_admins) and remove "
            "admin roles from ruleset bypass lists.",
            strict_severity=Severity.HIGH,
        ),
        CheckSpec(
            "force-push-allowed",
            Severity.HIGH,
            "Force pushes are allowed",
            "Disable 'Allow force pushes' (rulesets: add the non_fast_forward rule).",
        ),
        CheckSpec(
            "deletion-allowed",
            Severity.HIGH,
            "The branch can be deleted",
            "Disable 'Allow deletions' (rulesets: add the deletion rule).",
        ),
        CheckSpec(
            "no-status-checks",
            Severity.HIGH,
            "No status checks are required",
            "Require the CI jobs that must pass before merging (required_status_checks).",
        ),
        CheckSpec(
            "non-strict-status-checks",
            Severity.MEDIUM,
            "Status checks do not require an up-to-date branch",
            "Enable 'Require branches to be up to date before merging' (strict) so a merge "
            "group is tested against the branch it will land on.",
        ),
    ),
)


def evaluate(ctx: RuleContext, emit: Emitter) -> None:
    context = ctx.context
    if context is not None and context.protection_gap is not None:
        raise NotApplicable(f"branch protection unreadable ({context.protection_gap})")
    if context is None or not context.knows_protection:
        raise NotApplicable(
            "no branch protection in --context: add the GET .../branches/{branch}/protection "
            "response as 'branch_protection' (and the branch rules as 'rules')"
        )
    branch = context.default_branch
    logical = f"github://{ctx.repo_name}/branches/{branch}/protection"
    # Every finding here points at the same context document and logical location.
    on_branch = partial(emit.finding, key=branch, path=context.source, logical=logical)
    protection = effective_protection(context)
    if not protection.protected:
        on_branch(
            "unprotected",
            message=f"Default branch '{branch}' has no branch protection and no ruleset.",
            evidence="branch_protection: null, rules: []",
            line=context.line_of("branch_protection") or 1,
        )
        return

    minimum = (
        ctx.config.thresholds.strict_min_approvals
        if ctx.strict
        else ctx.config.thresholds.min_approvals
    )
    if protection.required_approvals < minimum:
        on_branch(
            "insufficient-reviews",
            message=(
                f"'{branch}' requires {protection.required_approvals} approving review(s); "
                f"at least {minimum} required."
                + ("" if protection.pr_required else " Pull requests are not required at all.")
            ),
            evidence=f"required_approving_review_count: {protection.required_approvals}",
            line=context.line_of("branch_protection", "required_pull_request_reviews"),
        )
    if protection.pr_required and not protection.dismiss_stale_reviews:
        on_branch(
            "stale-reviews-kept",
            message=f"Approvals on '{branch}' survive new pushes.",
            evidence="dismiss_stale_reviews: false",
            line=context.line_of("branch_protection", "dismiss_stale_reviews"),
        )
    if not protection.admins_enforced:
        bypass = ", ".join(protection.admin_bypass_actors) or "enforce_admins: false"
        on_branch(
            "admins-not-enforced",
            message=f"Administrators can merge into '{branch}' without meeting its protection.",
            evidence=bypass,
            line=context.line_of("branch_protection", "enforce_admins")
            or context.line_of("bypass_actors"),
        )
    if protection.force_pushes_allowed:
        on_branch(
            "force-push-allowed",
            message=f"Force pushes can rewrite '{branch}' history.",
            evidence="allow_force_pushes: true",
            line=context.line_of("branch_protection", "allow_force_pushes"),
        )
    if protection.deletions_allowed:
        on_branch(
            "deletion-allowed",
            message=f"'{branch}' can be deleted.",
            evidence="allow_deletions: true",
            line=context.line_of("branch_protection", "allow_deletions"),
        )
    if not protection.required_checks:
        on_branch(
            "no-status-checks",
            message=f"Nothing has to pass before a change lands on '{branch}'.",
            evidence="required_status_checks: none",
            line=context.line_of("branch_protection", "required_status_checks"),
        )
    elif ctx.mode is Mode.MERGE_GROUP and not protection.strict_checks:
        on_branch(
            "non-strict-status-checks",
            message=f"Required checks on '{branch}' do not require an up-to-date branch.",
            evidence="required_status_checks.strict: false",
            line=context.line_of("branch_protection", "strict"),
        )


RULE = Rule(SPEC, evaluate)
