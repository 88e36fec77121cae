"""The default branch's effective protection: classic branch protection and rulesets combined.

GitHub enforces both, so a setting counts as on when either source turns it on. Inputs are the
REST shapes of `context.py`; missing fields read as GitHub's defaults for a new rule.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .context import GitHubContext

#: GitHub's built-in repository role id for "admin" in ruleset bypass actors.
ADMIN_ROLE_ID = 5
#: The GitHub Actions app; required checks bound to another app cannot be traced to workflows.
GITHUB_ACTIONS_APP_ID = 15368


@dataclass(frozen=True)
class RequiredCheck:
    context: str
    app_id: int | None = None

    @property
    def from_actions(self) -> bool:
        return self.app_id in (None, -1, GITHUB_ACTIONS_APP_ID)


@dataclass(frozen=True)
class Protection:
    protected: bool
    pr_required: bool = False
    required_approvals: int = 0
    dismiss_stale_reviews: bool = False
    admins_enforced: bool = False
    admin_bypass_actors: tuple[str, ...] = ()
    force_pushes_allowed: bool = True
    deletions_allowed: bool = True
    required_checks: tuple[RequiredCheck, ...] = ()
    strict_checks: bool = False
    linear_history: bool = False
    merge_queue: bool = False
    sources: tuple[str, ...] = field(default=())


def effective_protection(context: GitHubContext) -> Protection:
    classic = context.branch_protection
    rules = context.rules
    rule_types = {str(rule.get("type")): rule for rule in rules}
    if classic is None and not rules:
        return Protection(protected=False)

    reviews = (classic or {}).get("required_pull_request_reviews")
    reviews = reviews if isinstance(reviews, dict) else None
    pr_rule = _params(rule_types.get("pull_request"))
    approvals = max(
        _int(reviews, "required_approving_review_count") if reviews is not None else 0,
        _int(pr_rule, "required_approving_review_count") if pr_rule is not None else 0,
    )
    stale = bool(reviews and reviews.get("dismiss_stale_reviews")) or bool(
        pr_rule and pr_rule.get("dismiss_stale_reviews_on_push")
    )

    checks: list[RequiredCheck] = []
    strict = False
    classic_checks = (classic or {}).get("required_status_checks")
    if isinstance(classic_checks, dict):
        strict = strict or bool(classic_checks.get("strict"))
        seen = set()
        for check in classic_checks.get("checks") or []:
            if isinstance(check, dict) and isinstance(check.get("context"), str):
                checks.append(RequiredCheck(check["context"], _opt_int(check.get("app_id"))))
                seen.add(check["context"])
        for name in classic_checks.get("contexts") or []:
            if isinstance(name, str) and name not in seen:
                checks.append(RequiredCheck(name))
    status_rule = _params(rule_types.get("required_status_checks"))
    if status_rule is not None:
        strict = strict or bool(status_rule.get("strict_required_status_checks_policy"))
        for check in status_rule.get("required_status_checks") or []:
            if isinstance(check, dict) and isinstance(check.get("context"), str):
                checks.append(
                    RequiredCheck(check["context"], _opt_int(check.get("integration_id")))
                )

    bypass = tuple(_admin_bypass(context))
    enforce_admins = _enabled(classic, "enforce_admins") if classic is not None else True
    return Protection(
        protected=True,
        pr_required=reviews is not None or pr_rule is not None,
        required_approvals=approvals,
        dismiss_stale_reviews=stale,
        admins_enforced=enforce_admins and not bypass,
        admin_bypass_actors=bypass,
        force_pushes_allowed=(
            _enabled(classic, "allow_force_pushes") if classic is not None else True
        )
        and "non_fast_forward" not in rule_types,
        deletions_allowed=(_enabled(classic, "allow_deletions") if classic is not None else True)
        and "deletion" not in rule_types,
        required_checks=_unique(checks),
        strict_checks=strict,
        linear_history=_enabled(classic, "required_linear_history")
        or "required_linear_history" in rule_types,
        merge_queue="merge_queue" in rule_types,
        sources=tuple(
            s
            for s, on in (("branch_protection", classic is not None), ("rules", bool(rules)))
            if on
        ),
    )


def _admin_bypass(context: GitHubContext) -> list[str]:
    found = []
    for ruleset in context.rulesets:
        if ruleset.get("enforcement", "active") != "active":
            continue
        for actor in ruleset.get("bypass_actors") or []:
            if not isinstance(actor, dict) or actor.get("bypass_mode", "always") != "always":
                continue
            kind = actor.get("actor_type")
            if kind == "OrganizationAdmin" or (
                kind == "RepositoryRole" and actor.get("actor_id") == ADMIN_ROLE_ID
            ):
                found.append(f"{ruleset.get('name', ruleset.get('id', '?'))}: {kind}")
    return found


def _params(rule: dict[str, Any] | None) -> dict[str, Any] | None:
    if rule is None:
        return None
    params = rule.get("parameters")
    return params if isinstance(params, dict) else {}


def _enabled(section: dict[str, Any] | None, key: str) -> bool:
    value = (section or {}).get(key)
    if isinstance(value, dict):
        return bool(value.get("enabled"))
    return bool(value)


def _int(section: dict[str, Any] | None, key: str) -> int:
    value = (section or {}).get(key)
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


def _opt_int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _unique(checks: list[RequiredCheck]) -> tuple[RequiredCheck, ...]:
    seen: dict[str, RequiredCheck] = {}
    for check in checks:
        seen.setdefault(check.context, check)
    return tuple(seen.values())
