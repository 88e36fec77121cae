"""Building the `--context` file from a GitHub Actions event payload and the GitHub REST API.

One code path for `phase-mirror context` and the GitHub Action. What it asks GitHub, with the
workflow's token:

    GET /repos/{repo}                                   repository (default branch)
    GET /repos/{repo}/pulls/{number}                    pull_request (author, head SHA, base)
    GET /repos/{repo}/branches/{branch}/protection      branch_protection (classic)
    GET /repos/{repo}/rules/branches/{branch}           rules (rulesets in force; paginated)
    GET /repos/{repo}/rulesets/{id}                     rulesets (bypass actors), per rule source

A request the token may not make (403, or a 404 that is not GitHub's "Branch not protected")
never fails the build: the key is left out, listed under `phase_mirror.unreadable` with the
reason, and `analyze` reports it as a fail-open degradation (`context_incomplete`). A
GITHUB_TOKEN can never read classic branch protection (it needs the administration
permission, which workflow tokens cannot have), so in Actions MD-001 is evaluated only when a
token with that permission is given.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Final
from urllib.parse import quote, urlsplit

from .context import META_KEY
from .http import HttpAnswer, request_json

DEFAULT_API_URL: Final = "https://api.github.com"
API_VERSION: Final = "2022-11-28"
#: Pages followed per paginated endpoint (100 items each): a bound, not an expectation.
MAX_PAGES: Final = 20
#: GitHub's 404 body when a branch has no classic protection (not a permission problem).
NOT_PROTECTED: Final = "Branch not protected"

_NEXT = re.compile(r'<([^>]+)>\s*;\s*rel="next"')

#: Event names and the analysis mode they imply.
EVENT_MODES: Final = {
    "pull_request": "pull_request",
    "pull_request_target": "pull_request",
    "pull_request_review": "pull_request",
    "merge_group": "merge_group",
}
#: The mode of every other event (push, schedule, workflow_dispatch, ...).
DEFAULT_EVENT_MODE: Final = "drift"

Get = Callable[[str], HttpAnswer]


class GitHubApi:
    """GET-only REST client for one API base URL (`https://api.github.com`, or a GHES
    `https://HOST/api/v3`). Pagination follows `Link: rel="next"` only on the same host, so the
    token is never sent anywhere else."""

    def __init__(self, base_url: str, token: str | None, *, timeout: float = 10.0) -> None:
        self.base_url = base_url.rstrip("/")
        self.token = token
        self.timeout = timeout
        self._origin = _origin(self.base_url)

    def get(self, path_or_url: str) -> HttpAnswer:
        url = path_or_url if "://" in path_or_url else self.base_url + path_or_url
        headers = {"Accept": "application/vnd.github+json", "X-GitHub-Api-Version": API_VERSION}
        if self.token and _origin(url) == self._origin:
            headers["Authorization"] = f"Bearer {self.token}"
        return request_json("GET", url, headers=headers, timeout=self.timeout)

    def get_all(self, path: str) -> tuple[HttpAnswer, list[Any]]:
        """Every item of a paginated list (per_page=100). The answer is the first one that was
        not a 2xx list, or the last page's."""
        separator = "&" if "?" in path else "?"
        url = f"{self.base_url}{path}{separator}per_page=100"
        items: list[Any] = []
        answer = HttpAnswer(None, error="no request made")
        for _ in range(MAX_PAGES):
            answer = self.get(url)
            if not answer.ok or not isinstance(answer.body, list):
                return answer, items
            items.extend(answer.body)
            found = _NEXT.search(answer.headers.get("link", ""))
            if found is None or _origin(found.group(1)) != self._origin:
                return answer, items
            url = found.group(1)
        return answer, items


@dataclass
class BuiltContext:
    """The context document and what could not be read."""

    data: dict[str, Any]
    event_name: str | None = None
    #: The analysis mode the event implies (`analyze --mode auto`).
    mode: str = DEFAULT_EVENT_MODE
    #: key -> why it is missing (permission, not found, unreachable).
    unreadable: dict[str, str] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    def document(self) -> dict[str, Any]:
        return {
            **self.data,
            META_KEY: {
                "event_name": self.event_name,
                "mode": self.mode,
                "unreadable": dict(self.unreadable),
                "notes": list(self.notes),
            },
        }


def mode_for_event(event_name: str | None, event: dict[str, Any] | None) -> str:
    if event_name in EVENT_MODES:
        return EVENT_MODES[event_name]
    if event_name is None and event is not None:
        if isinstance(event.get("merge_group"), dict):
            return "merge_group"
        if isinstance(event.get("pull_request"), dict):
            return "pull_request"
    return DEFAULT_EVENT_MODE


def build_context(
    *,
    event: dict[str, Any] | None,
    event_name: str | None,
    repo: str | None,
    api: GitHubApi | None,
    pull_number: int | None = None,
) -> BuiltContext:
    """The context for `analyze`: the event payload's `repository`, `pull_request` and
    `merge_group`, refreshed and completed from the API when `api` is given."""
    event = event or {}
    data: dict[str, Any] = {}
    for key in ("repository", "pull_request", "merge_group"):
        if isinstance(event.get(key), dict):
            data[key] = event[key]
    built = BuiltContext(data, event_name, mode_for_event(event_name, event))
    full_name = repo or _full_name(data.get("repository"))
    if full_name is None:
        built.notes.append("no repository named (event payload, GITHUB_REPOSITORY or --repo)")
        return built
    if api is None:
        built.notes.append("no GitHub API access: context from the event payload only")
        return built
    if not api.token:
        built.notes.append(
            "no token (GITHUB_TOKEN or GH_TOKEN): unauthenticated requests, public data only"
        )
    _Fetcher(api, built, full_name).run(pull_number or _pull_number(event))
    return built


class _Fetcher:
    def __init__(self, api: GitHubApi, built: BuiltContext, full_name: str) -> None:
        self.api = api
        self.built = built
        self.repo_path = "/repos/" + "/".join(quote(part, safe="") for part in full_name.split("/"))

    def run(self, pull_number: int | None) -> None:
        data = self.built.data
        answer = self.api.get(self.repo_path)
        if answer.ok and isinstance(answer.body, dict):
            data["repository"] = answer.body
        else:
            self._unreadable("repository", answer, keep_event_copy=True)
            if answer.status is None:
                return  # the API is unreachable: nothing else will work either
        if pull_number is not None:
            answer = self.api.get(f"{self.repo_path}/pulls/{pull_number}")
            if answer.ok and isinstance(answer.body, dict):
                data["pull_request"] = answer.body
            else:
                self._unreadable("pull_request", answer, keep_event_copy=True)
        branch = _default_branch(data.get("repository"))
        if branch is None:
            self.built.notes.append("default branch unknown: protection and rules not read")
            return
        branch_path = quote(branch, safe="")
        self._protection(branch_path)
        self._rules(branch_path)

    def _protection(self, branch: str) -> None:
        answer = self.api.get(f"{self.repo_path}/branches/{branch}/protection")
        if answer.ok and isinstance(answer.body, dict):
            self.built.data["branch_protection"] = answer.body
        elif answer.status == 404 and answer.message == NOT_PROTECTED:
            self.built.data["branch_protection"] = None
        else:
            self._unreadable("branch_protection", answer)

    def _rules(self, branch: str) -> None:
        answer, rules = self.api.get_all(f"{self.repo_path}/rules/branches/{branch}")
        if not answer.ok:
            self._unreadable("rules", answer)
            return
        self.built.data["rules"] = rules
        ids = sorted({r["ruleset_id"] for r in rules if isinstance(r.get("ruleset_id"), int)})
        rulesets = []
        hidden = []
        for ruleset_id in ids:
            answer = self.api.get(f"{self.repo_path}/rulesets/{ruleset_id}?includes_parents=true")
            if not answer.ok or not isinstance(answer.body, dict):
                self._unreadable(f"rulesets/{ruleset_id}", answer)
                continue
            if "bypass_actors" not in answer.body:
                hidden.append(str(ruleset_id))
            rulesets.append(answer.body)
        self.built.data["rulesets"] = rulesets
        if hidden:
            self.built.notes.append(
                f"ruleset(s) {', '.join(hidden)}: bypass actors not visible to this token "
                "(GitHub shows them to tokens that may edit the ruleset); admin bypass not checked"
            )

    def _unreadable(self, key: str, answer: HttpAnswer, *, keep_event_copy: bool = False) -> None:
        reason = _reason(answer)
        self.built.unreadable[key] = reason
        if keep_event_copy and key in self.built.data:
            self.built.notes.append(f"{key}: {reason}; the event payload's copy is used")
        else:
            self.built.notes.append(f"{key}: {reason}")


def _reason(answer: HttpAnswer) -> str:
    if answer.status is None:
        return f"GitHub API unreachable ({answer.error})"
    text = f"HTTP {answer.status} {answer.message}"
    needed = answer.headers.get("x-accepted-github-permissions")
    if needed:
        text += f" (needs {needed})"
    elif answer.status in (403, 404):
        text += " (the token lacks the permission, or cannot see the resource)"
    return text


def _full_name(repository: Any) -> str | None:
    name = repository.get("full_name") if isinstance(repository, dict) else None
    return name if isinstance(name, str) and "/" in name else None


def _default_branch(repository: Any) -> str | None:
    branch = repository.get("default_branch") if isinstance(repository, dict) else None
    return branch if isinstance(branch, str) and branch else None


def _pull_number(event: dict[str, Any]) -> int | None:
    pull = event.get("pull_request")
    number = pull.get("number") if isinstance(pull, dict) else None
    return number if isinstance(number, int) and not isinstance(number, bool) else None


def _origin(url: str) -> tuple[str, str]:
    parts = urlsplit(url)
    return parts.scheme, parts.netloc.lower()
