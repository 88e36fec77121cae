"""Shared knowledge about workflow expressions: which event fields an attacker controls, which
triggers run with secrets on untrusted input, and how checkouts name untrusted code."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ..workflows import Job

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
#: Triggers whose code under test comes from the pull request head. For a fork's pull request
#: GitHub gives these a read-only GITHUB_TOKEN and no secrets, whatever `permissions:` says
#: (private repositories can opt in to write tokens for fork pull requests).
FORK_TRIGGERS = frozenset({"pull_request", "pull_request_review", "pull_request_review_comment"})
#: Triggers that run with the base repository's token and secrets and can be made to run a pull
#: request's code: by checking it out, fetching it, or building what a checkout brought in.
#: (`pull_request_review(_comment)` are not here: for forks they are as unprivileged as
#: `pull_request`; `issues`/`discussion` events never carry pull request code.)
PRIVILEGED_CHECKOUT_TRIGGERS = frozenset({"pull_request_target", "workflow_run", "issue_comment"})

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
    r"|github\.event\.workflow_run\.pull_requests|github\.event\.number\b"
)
#: Text showing that a step computes a pull request's head (an API lookup of the PR, or a
#: helper action that returns it), so its outputs name untrusted code or carry untrusted text.
PR_HEAD_LOOKUP = re.compile(
    r"\bhead[._](?:sha|ref)\b|\.head\.(?:sha|ref|repo)\b|refs/pull/|"
    + UNTRUSTED_REF.pattern
    + "|"
    + UNTRUSTED_FIELD.pattern
)
#: Actions whose outputs are a pull request's head (ref/sha) by design.
PR_HEAD_ACTIONS = frozenset(
    {"xt0rted/pull-request-comment-branch", "alessbell/pull-request-comment-branch"}
)
#: `steps.<id>.outputs.<name>` inside an expression.
STEP_OUTPUT = re.compile(r"\bsteps\.([A-Za-z_][\w-]*)\.outputs\b")
#: Manually supplied inputs: `inputs.<name>` / `github.event.inputs.<name>`.
DISPATCH_INPUT = re.compile(r"(?<![\w.])(?:github\.event\.)?inputs\.[A-Za-z_][\w-]*")
#: Shell commands that fetch or check out pull request code.
UNTRUSTED_CHECKOUT_COMMAND = re.compile(
    r"\bgh\s+pr\s+checkout\b|\bgit\s+(?:fetch|checkout|switch|pull)\b[^\n]*(?:refs/pull/|pull/\S+/(?:head|merge)|\$\{\{[^}]*(?:"
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


def pr_head_steps(job: Job) -> set[str]:
    """Ids of the job's steps whose outputs carry a pull request's head or other text an
    outsider controls: they read untrusted event fields, look the pull request up, or are
    actions that return its head by design."""
    tainted = set()
    for step in job.steps:
        if step.id is None:
            continue
        action = step.uses.split("@", 1)[0].lower() if step.uses is not None else ""
        if action in PR_HEAD_ACTIONS or PR_HEAD_LOOKUP.search(step.text()):
            tainted.add(step.id)
    return tainted
