"""Reading AWS IAM policy documents: statements, wildcards, the GitHub OIDC trust condition.

Documents arrive as JSON strings (what `pulumi_aws` sends) or already-parsed mappings. Nothing
here raises on odd input: a malformed document yields a problem string the rule reports.
"""

from __future__ import annotations

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


def github_trust_problems(document: Mapping[str, Any]) -> list[str]:
    """Why a role's trust policy lets more than one GitHub repository assume it."""
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
        if len(repos) > 1:
            problems.append(
                f"{st.label} trusts {len(repos)} repositories: {', '.join(sorted(repos))}"
            )
        if not any("sts.amazonaws.com" in values for values in audiences.values()):
            problems.append(f"{st.label} does not pin `{GITHUB_ISSUER}:aud` to sts.amazonaws.com")
    return problems
