"""Reading AWS IAM policy documents: statements, wildcards, the GitHub OIDC trust condition.

Documents arrive as JSON strings (what `pulumi_aws` sends) or already-parsed mappings. Nothing
here raises on odd input: a malformed document yields a problem string the rule reports.
"""

from __future__ import annotations

import fnmatch
import json
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from .props import plain

GITHUB_ISSUER = "token.actions.githubusercontent.com"
#: AWS-managed policies that grant (near) everything.
ADMIN_MANAGED_POLICIES = ("AdministratorAccess", "PowerUserAccess", "IAMFullAccess")
_REPO_SUBJECT = re.compile(r"^repo:(?P<repo>[^:]+/[^:]+):.+$")


@dataclass(frozen=True)
class Statement:
    sid: str
    effect: str
    actions: tuple[str, ...]
    not_actions: tuple[str, ...]
    resources: tuple[str, ...]
    not_resources: tuple[str, ...]
    principal: Any
    condition: Mapping[str, Any]

    @property
    def label(self) -> str:
        return f"statement {self.sid!r}" if self.sid else "a statement"


def parse(document: Any) -> tuple[dict[str, Any] | None, str | None]:
    """(document, None) or (None, problem)."""
    if isinstance(document, Mapping):
        return plain(document), None
    if not isinstance(document, str):
        return None, f"the policy document is a {type(document).__name__}, not JSON"
    try:
        parsed = json.loads(document)
    except ValueError as error:
        return None, f"the policy document is not valid JSON ({error})"
    if not isinstance(parsed, dict):
        return None, "the policy document is not a JSON object"
    return parsed, None


def _strings(value: Any) -> tuple[str, ...]:
    if isinstance(value, str):
        return (value,)
    if isinstance(value, list):
        return tuple(str(item) for item in value)
    return ()


def statements(document: Mapping[str, Any]) -> Iterator[Statement]:
    raw = document.get("Statement", [])
    for item in [raw] if isinstance(raw, dict) else raw if isinstance(raw, list) else []:
        if not isinstance(item, dict):
            continue
        condition = item.get("Condition")
        yield Statement(
            sid=str(item.get("Sid", "")),
            effect=str(item.get("Effect", "")),
            actions=_strings(item.get("Action")),
            not_actions=_strings(item.get("NotAction")),
            resources=_strings(item.get("Resource")),
            not_resources=_strings(item.get("NotResource")),
            principal=item.get("Principal"),
            condition=condition if isinstance(condition, dict) else {},
        )


def is_wildcard_action(action: str) -> bool:
    """`*`, `*:*` or a whole service (`s3:*`)."""
    return action == "*" or action.endswith(":*")


def is_wildcard_resource(resource: str) -> bool:
    """`*`, or an ARN whose region/account/resource part is a bare wildcard (`table/*`,
    `arn:aws:s3:::*`). A path under one named resource (`arn:aws:s3:::bucket/*`) is fine."""
    if resource == "*":
        return True
    parts = resource.split(":", 5)
    if len(parts) < 6 or parts[0] != "arn":
        return "*" in resource.split("/")[0]
    _, _, service, region, account, rest = parts
    if "*" in (region, account):
        return True
    head = re.split(r"[/:]", rest, maxsplit=1)
    if service == "s3":
        return "*" in head[0]
    return rest == "*" or (len(head) == 2 and head[1] == "*")


def wildcard_problems(document: Mapping[str, Any]) -> list[str]:
    """Why an identity policy is not least privilege (Allow statements only)."""
    problems = []
    for st in statements(document):
        if st.effect != "Allow":
            continue
        if st.not_actions:
            problems.append(f"{st.label} allows NotAction (everything but a list)")
        bad_actions = [a for a in st.actions if is_wildcard_action(a)]
        if bad_actions:
            problems.append(f"{st.label} allows wildcard action(s) {', '.join(bad_actions)}")
        if st.not_resources:
            problems.append(f"{st.label} uses NotResource (every resource but a list)")
        bad_resources = [r for r in st.resources if is_wildcard_resource(r)]
        if bad_resources:
            problems.append(
                f"{st.label} applies to wildcard resource(s) {', '.join(bad_resources)}"
            )
    return problems


def _federated(principal: Any) -> tuple[str, ...]:
    return _strings(principal.get("Federated")) if isinstance(principal, dict) else ()


def _condition_values(condition: Mapping[str, Any], key: str) -> dict[str, tuple[str, ...]]:
    """{operator: values} for every operator constraining `key`."""
    found = {}
    for operator, block in condition.items():
        if isinstance(block, dict):
            for name, values in block.items():
                if name.lower() == key.lower():
                    found[str(operator)] = _strings(values)
    return found


def github_trust_problems(document: Mapping[str, Any], *, exact: bool = False) -> list[str]:
    """Why a role's trust policy lets more than one GitHub repository assume it; with `exact`
    (production), also any subject that is a pattern rather than one ref or environment."""
    problems = []
    for st in statements(document):
        trusts_github = any(GITHUB_ISSUER in f for f in _federated(st.principal)) or any(
            GITHUB_ISSUER in key
            for block in st.condition.values()
            if isinstance(block, dict)
            for key in block
        )
        if st.effect != "Allow" or not trusts_github:
            continue
        subjects = _condition_values(st.condition, f"{GITHUB_ISSUER}:sub")
        audiences = _condition_values(st.condition, f"{GITHUB_ISSUER}:aud")
        if not subjects:
            problems.append(
                f"{st.label} trusts GitHub's OIDC provider without a `{GITHUB_ISSUER}:sub` "
                "condition: any repository on GitHub could assume the role"
            )
            continue
        repos: set[str] = set()
        for operator, values in subjects.items():
            if not operator.startswith(("StringEquals", "StringLike", "ForAnyValue:String")):
                problems.append(
                    f"{st.label} constrains `sub` with {operator}, not StringEquals/StringLike"
                )
            for subject in values:
                match = _REPO_SUBJECT.match(subject)
                if not match or any(ch in match.group("repo") for ch in "*?"):
                    problems.append(
                        f"{st.label} allows subject {subject!r}: it must name one repository "
                        "as repo:<owner>/<name>:..."
                    )
                else:
                    repos.add(match.group("repo").lower())
                    if exact and any(ch in subject for ch in "*?"):
                        problems.append(
                            f"{st.label} allows the pattern {subject!r}: production trusts "
                            "exact refs, pull requests or environments only"
                        )
        if len(repos) > 1:
            problems.append(
                f"{st.label} trusts {len(repos)} repositories: {', '.join(sorted(repos))}"
            )
        if not any("sts.amazonaws.com" in values for values in audiences.values()):
            problems.append(f"{st.label} does not pin `{GITHUB_ISSUER}:aud` to sts.amazonaws.com")
    return problems


# --------------------------------------------------------------------------- principals


def principal_values(principal: Any) -> tuple[str, ...]:
    """Every principal a statement names (`"*"`, ARNs, service names, federated providers)."""
    if isinstance(principal, str):
        return (principal,)
    if isinstance(principal, dict):
        return tuple(value for values in principal.values() for value in _strings(values))
    return ()


def is_public_principal(principal: Any) -> bool:
    """`"*"` or `{"AWS": "*"}`: anyone, in any account."""
    if principal == "*":
        return True
    return isinstance(principal, dict) and "*" in _strings(principal.get("AWS"))


def aws_principals(principal: Any) -> tuple[str, ...]:
    return _strings(principal.get("AWS")) if isinstance(principal, dict) else ()


_ACCOUNT = re.compile(r"^(arn:[^:]+:[^:]*:[^:]*:(?P<arn_account>\d{12}):.*|(?P<bare>\d{12}))$")


def account_of(text: str) -> str | None:
    """The 12-digit account of an ARN or a bare account id; None otherwise."""
    match = _ACCOUNT.match(text)
    if not match:
        return None
    return match.group("arn_account") or match.group("bare")


def is_account_root(principal: str) -> bool:
    return principal.endswith(":root") or bool(re.fullmatch(r"\d{12}", principal))


#: Condition keys that bind *who* calls (the caller's account, organization or source
#: resource), as opposed to *how* (TLS, a Null test).
SOURCE_CONDITION_KEYS = frozenset(
    {
        "aws:sourcearn",
        "aws:sourceaccount",
        "aws:sourceowner",
        "aws:principalorgid",
        "aws:principalaccount",
        "aws:principalarn",
        "aws:sourcevpce",
        "kms:calleraccount",
    }
)


def condition_keys(condition: Mapping[str, Any]) -> set[str]:
    return {
        str(key).lower() for block in condition.values() if isinstance(block, dict) for key in block
    }


def scoped_to_caller(st: Statement) -> bool:
    return bool(condition_keys(st.condition) & SOURCE_CONDITION_KEYS)


def public_allow_problems(document: Mapping[str, Any], *, unless_scoped: bool) -> list[str]:
    """Allow statements open to every principal (`*`); with `unless_scoped`, a condition on
    the caller's account, organization or source resource makes one acceptable."""
    problems = []
    for st in statements(document):
        if st.effect != "Allow" or not is_public_principal(st.principal):
            continue
        if unless_scoped and scoped_to_caller(st):
            continue
        why = " without a condition on the caller" if unless_scoped else ""
        problems.append(f"{st.label} allows every principal (`*`){why}")
    return problems


def key_policy_problems(document: Mapping[str, Any]) -> list[str]:
    """A KMS key policy: no public Allow without conditions, no `kms:*` to anyone but the
    account root (which delegates to IAM)."""
    problems = []
    for st in statements(document):
        if st.effect != "Allow":
            continue
        if is_public_principal(st.principal) and not st.condition:
            problems.append(f"{st.label} allows every principal (`*`) without a condition")
        everything = [a for a in st.actions if a in ("*", "kms:*")] or (
            ["NotAction"] if st.not_actions else []
        )
        if not everything:
            continue
        others = [p for p in principal_values(st.principal) if not is_account_root(p)]
        if others:
            problems.append(
                f"{st.label} grants {everything[0]} to {', '.join(others)} "
                "(only the account root may hold every key permission)"
            )
    return problems


def cross_account_problems(document: Mapping[str, Any]) -> list[str]:
    """Allow statements naming AWS principals of another account than the resource's own
    (taken from the statements' resource ARNs), without a condition on the caller."""
    owners = {
        account
        for st in statements(document)
        for resource in st.resources
        if (account := account_of(resource))
    }
    problems: list[str] = []
    if not owners:
        return problems
    for st in statements(document):
        if st.effect != "Allow" or scoped_to_caller(st):
            continue
        foreign = sorted(
            {
                account
                for p in aws_principals(st.principal)
                if (account := account_of(p)) and account not in owners
            }
        )
        if foreign:
            problems.append(
                f"{st.label} lets account(s) {', '.join(foreign)} act without a condition on the "
                "source (aws:SourceArn, aws:SourceAccount or aws:PrincipalOrgID)"
            )
    return problems


# --------------------------------------------------------------------------- escalation


#: Actions that let a principal grant itself (or a principal it controls) more permissions.
PERMISSION_ACTIONS = (
    "iam:AddUserToGroup",
    "iam:AttachGroupPolicy",
    "iam:AttachRolePolicy",
    "iam:AttachUserPolicy",
    "iam:CreateAccessKey",
    "iam:CreateLoginProfile",
    "iam:CreatePolicy",
    "iam:CreatePolicyVersion",
    "iam:CreateRole",
    "iam:CreateUser",
    "iam:PutGroupPolicy",
    "iam:PutRolePolicy",
    "iam:PutUserPolicy",
    "iam:SetDefaultPolicyVersion",
    "iam:UpdateAssumeRolePolicy",
    "iam:UpdateLoginProfile",
)
#: Conditions that bound what a permission-management action may create or attach.
PERMISSION_BOUNDS = frozenset({"iam:permissionsboundary", "iam:policyarn"})
#: Acting as another identity: harmless on one named role, escalation on `*`.
IMPERSONATION_ACTIONS = ("iam:PassRole", "sts:AssumeRole")
#: Key and secret administration: belongs to the key policy's account root and to humans,
#: never to a runtime or CI identity.
ADMIN_ACTIONS = (
    "kms:CreateKey",
    "kms:DisableKey",
    "kms:DisableKeyRotation",
    "kms:PutKeyPolicy",
    "kms:ScheduleKeyDeletion",
    "secretsmanager:DeleteResourcePolicy",
    "secretsmanager:DeleteSecret",
    "secretsmanager:PutResourcePolicy",
    "ssm:DeleteParameter",
    "ssm:DeleteParameters",
)


def _granted(patterns: tuple[str, ...], actions: tuple[str, ...]) -> list[str]:
    """The `actions` an Allow of `patterns` (globs such as `iam:Put*`) grants."""
    lowered = [p.lower() for p in patterns]
    return [a for a in actions if any(fnmatch.fnmatchcase(a.lower(), p) for p in lowered)]


def escalation_problems(document: Mapping[str, Any]) -> list[str]:
    """Privilege escalation and key/secret administration in an identity policy."""
    problems = []
    for st in statements(document):
        if st.effect != "Allow":
            continue
        wildcard = any("*" in r for r in st.resources) or bool(st.not_resources)
        for action in _granted(st.actions, IMPERSONATION_ACTIONS):
            if wildcard:
                problems.append(f"{st.label} allows {action} on any role (`*` resource)")
        managing = _granted(st.actions, PERMISSION_ACTIONS)
        if managing and not condition_keys(st.condition) & PERMISSION_BOUNDS:
            problems.append(
                f"{st.label} allows {', '.join(managing)} without an iam:PermissionsBoundary "
                "or iam:PolicyARN condition (privilege escalation)"
            )
        admin = _granted(st.actions, ADMIN_ACTIONS)
        if admin:
            problems.append(f"{st.label} allows key/secret administration: {', '.join(admin)}")
    return problems
