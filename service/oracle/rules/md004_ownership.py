"""MD-004 Ownership and audit trail: governed files have real owners who must review changes,
and a pull request names who changed what."""

from __future__ import annotations

from ..codeowners import LOCATIONS, owner_problem
from ..governance import governed_categories, governed_files
from ..model import Mode, Severity
from .base import CheckSpec, Emitter, Rule, RuleContext, RuleSpec

SPEC = RuleSpec(
    id="MD-004",
    name="OwnershipAuditTrail",
    title="Ownership and audit trail",
    version="1.1.0",
    description=(
        "A CODEOWNERS file must assign real owners to workflows, the Pulumi program, policy "
        "packs and configured governed paths; pull-request evaluations must know the author "
        "and head commit they vouch for."
    ),
    tags=("governance", "codeowners", "audit"),
    checks=(
        CheckSpec(
            "no-codeowners",
            Severity.HIGH,
            "No CODEOWNERS file",
            "Add .github/CODEOWNERS assigning owners to workflows, infrastructure and policy "
            "paths, and require code owner review in branch protection.",
        ),
        CheckSpec(
            "uncovered-governed-paths",
            Severity.MEDIUM,
            "Governed files without an owner",
            "Add CODEOWNERS lines covering these paths (e.g. `/.github/workflows/ @org/platform`); "
            "remember the last matching line wins.",
        ),
        CheckSpec(
            "placeholder-owner",
            Severity.HIGH,
            "Placeholder or invalid owner",
            "Replace placeholder owners (@username, @org/team-name, example.com addresses) with "
            "real users or teams that have write access.",
        ),
        CheckSpec(
            "missing-change-identity",
            Severity.HIGH,
            "Pull request context lacks author or head SHA",
            "Pass the pull request (GET /repos/{owner}/{repo}/pulls/{n}, or the Actions event "
            "payload) as --context so the decision is bound to an author and a commit.",
            strict_severity=Severity.CRITICAL,
        ),
        CheckSpec(
            "link-outside-repository",
            Severity.CRITICAL,
            "Governance file links outside the repository",
            "Replace the symbolic link with the file itself or point it inside the repository. "
            "The oracle never reads through a link that leaves the checkout (or loops), so it "
            "cannot vouch for what the link stands for.",
        ),
    ),
)


def evaluate(ctx: RuleContext, emit: Emitter) -> None:
    _change_identity(ctx, emit)
    _refused_links(ctx, emit)
    owners = ctx.repo.codeowners
    if owners is None:
        emit.finding(
            "no-codeowners",
            message="No CODEOWNERS file in " + ", ".join(LOCATIONS) + ".",
            evidence="",
            path=LOCATIONS[0],
            line=None,
        )
        for check in ("uncovered-governed-paths", "placeholder-owner"):
            emit.not_evaluated(check, "no CODEOWNERS file, so no owners to check")
        return
    for entry in owners.entries:
        for owner in entry.owners:
            problem = owner_problem(owner)
            if problem:
                emit.finding(
                    "placeholder-owner",
                    message=f"{owners.path} line {entry.line}: {problem}.",
                    evidence=f"{entry.pattern} {' '.join(entry.owners)}",
                    path=owners.path,
                    line=entry.line,
                    key=f"{entry.pattern}:{owner}",
                )
    for category, paths in governed_categories(ctx.repo, ctx.config).items():
        uncovered = [path for path in paths if not _owned(owners.owners_of(path))]
        if uncovered:
            shown = ", ".join(uncovered[:5]) + (
                f" and {len(uncovered) - 5} more" if len(uncovered) > 5 else ""
            )
            emit.finding(
                "uncovered-governed-paths",
                message=f"{len(uncovered)} of {len(paths)} {category} file(s) have no owner in "
                f"{owners.path}: {shown}.",
                evidence=shown,
                path=uncovered[0],
                line=None,
                key=category,
            )


def _refused_links(ctx: RuleContext, emit: Emitter) -> None:
    """Everything the oracle reads from the checkout went through the guarded reader; report
    each link it refused (the link and its target as written, never the content)."""
    repo = ctx.repo
    _ = repo.workflows, repo.codeowners  # the reads other rules make, whatever their order
    for path in governed_files(repo, ctx.config):
        repo.exists(path)
    for refusal in repo.refusals:
        emit.finding(
            "link-outside-repository",
            message=f"{refusal.describe()}.",
            evidence=f"{refusal.link} -> {refusal.target}" if refusal.target else refusal.link,
            path=refusal.link,
            line=None,
            key=refusal.link,
        )


def _owned(owners: tuple[str, ...]) -> bool:
    return any(owner_problem(owner) is None for owner in owners)


def _change_identity(ctx: RuleContext, emit: Emitter) -> None:
    if ctx.mode is not Mode.PULL_REQUEST:
        return
    context = ctx.context
    if context is None and not ctx.strict:
        # A plain local run was never asked for a pull request: saying so is not a finding.
        emit.not_evaluated(
            "missing-change-identity",
            "no pull request context; pass --context (`phase-mirror context` writes it, or the "
            "Actions event payload) to bind the decision to an author and head commit, or "
            "--strict to treat its absence as a critical finding",
        )
        return
    missing = [
        name
        for name, value in (
            ("pull_request.user.login (author)", context.author if context else None),
            ("pull_request.head.sha", context.head_sha if context else None),
        )
        if not value
    ]
    if missing:
        emit.finding(
            "missing-change-identity",
            message="Pull-request evaluation without "
            + " and ".join(missing)
            + (" (no --context given)." if context is None else f" in {context.source}."),
            evidence=", ".join(missing),
            path=context.source if context else None,
            line=context.line_of("pull_request") if context else None,
            logical=f"github://{ctx.repo_name}/pull_request",
        )


RULE = Rule(SPEC, evaluate)
