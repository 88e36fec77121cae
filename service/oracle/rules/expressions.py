"""Shared knowledge about workflow expressions: which event fields an attacker controls, which
triggers run with secrets on untrusted input, and how checkouts name untrusted code."""

from __future__ import annotations

import re

#: Triggers that run in the base repository's privileged context while reacting to input that
#: anyone (a fork's pull request, an issue, a comment) controls.
PRIVILEGED_UNTRUSTED_TRIGGERS = frozenset(
    {
        "pull_request_target",
        "workflow_run",
        "issue_comment",
        "issues",
        "discussion",
        "discussion_comment",
        "pull_request_review",
        "pull_request_review_comment",
    }
)
#: Triggers whose code under test comes from the pull request head.
FORK_TRIGGERS = frozenset({"pull_request", "pull_request_review", "pull_request_review_comment"})

_ITEM = r"(?:\.\*|\[\s*\d+\s*\]|\.\d+|\[\s*\*\s*\])"
#: Event fields an outsider can set (GitHub's security hardening guide lists these).
UNTRUSTED_FIELD = re.compile(
    r"\bgithub\.(?:head_ref\b|event\.(?:"
    r"issue\.(?:title|body)"
    r"|pull_request\.(?:title|body|head\.(?:ref|label|repo\.default_branch))"
    r"|(?:comment|review|review_comment)\.body"
    r"|discussion\.(?:title|body)"
    r"|pages" + _ITEM + r"\.page_name"
    r"|commits" + _ITEM + r"\.(?:message|author\.(?:email|name))"
    r"|head_commit\.(?:message|author\.(?:email|name))"
    r"|workflow_run\.(?:head_branch|display_title|head_commit\.(?:message|author\.(?:email|name)))"
    r"|merge_group\.head_commit\.message"
    r"))"
)
EXPRESSION = re.compile(r"\$\{\{(.*?)\}\}", re.S)

#: References to the untrusted head of a pull request or of the run that triggered workflow_run.
UNTRUSTED_REF = re.compile(
    r"github\.event\.pull_request\.head\.(?:sha|ref)|github\.head_ref"
    r"|github\.event\.pull_request\.merge_commit_sha|github\.event\.workflow_run\.head_(?:sha|branch)"
    r"|github\.event\.pull_request\.head\.repo\.full_name|refs/pull/"
    r"|github\.event\.workflow_run\.head_repository\.full_name|github\.event\.issue\.number"
)
#: Shell commands that fetch or check out pull request code.
UNTRUSTED_CHECKOUT_COMMAND = re.compile(
    r"\bgh\s+pr\s+checkout\b|\bgit\s+(?:fetch|checkout|switch|pull)\b[^\n]*(?:refs/pull/|pull/\S+/head|\$\{\{[^}]*(?:"
    + UNTRUSTED_REF.pattern
    + r"))"
)


def untrusted_expressions(script: str) -> list[str]:
    """The `${{ ... }}` expressions in `script` that read attacker-controlled fields."""
    return [
        match.group(0)
        for match in EXPRESSION.finditer(script)
        if UNTRUSTED_FIELD.search(match.group(1))
    ]
