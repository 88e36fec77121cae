"""The `--context` file: GitHub REST API responses the repository checkout cannot tell us.

Shape (every key optional; each value is the body GitHub returns):

    repository          GET /repos/{owner}/{repo}
    branch_protection   GET /repos/{owner}/{repo}/branches/{default_branch}/protection
                        (null, or the 404 body {"message": "Branch not protected"}, if unprotected)
    rules               GET /repos/{owner}/{repo}/rules/branches/{default_branch}
    rulesets            [GET /repos/{owner}/{repo}/rulesets/{id}, ...] (for bypass actors)
    pull_request        GET /repos/{owner}/{repo}/pulls/{number}
    merge_group         the `merge_group` object of a merge_group webhook event
    phase_mirror        written by `phase-mirror context`: {event_name, mode, unreadable: {key:
                        why}, notes: [...]}, what the builder could not read and why

A GitHub Actions event payload (`$GITHUB_EVENT_PATH`) already has `repository`, `pull_request`
and `merge_group` in these shapes, so it can be merged in as is. Unknown keys are ignored.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

_SHAPES: dict[str, tuple[type, ...]] = {
    "repository": (dict,),
    "branch_protection": (dict, type(None)),
    "rules": (list,),
    "rulesets": (list,),
    "pull_request": (dict, type(None)),
    "merge_group": (dict, type(None)),
    "phase_mirror": (dict,),
}

#: The key `phase-mirror context` writes its own notes under (see github.py).
META_KEY = "phase_mirror"


#: The branch the protection rules check when the context's `repository` does not name its
#: default branch (GitHub's default for new repositories).
ASSUMED_DEFAULT_BRANCH = "main"


class ContextError(ValueError):
    """The context file is unreadable or not shaped as documented."""


@dataclass(frozen=True)
class GitHubContext:
    source: str
    text: str
    data: dict[str, Any]

    def has(self, key: str) -> bool:
        return key in self.data

    # ------------------------------------------------------------ repository

    @property
    def repository_name(self) -> str | None:
        return _str(_get(self.data, "repository", "full_name"))

    @property
    def repository_private(self) -> bool | None:
        """`repository.private` (or `visibility`), None when the context does not say."""
        private = _get(self.data, "repository", "private")
        if isinstance(private, bool):
            return private
        visibility = _str(_get(self.data, "repository", "visibility"))
        return None if visibility is None else visibility != "public"

    @property
    def default_branch(self) -> str:
        named = _str(_get(self.data, "repository", "default_branch"))
        return named if named is not None else ASSUMED_DEFAULT_BRANCH

    # ------------------------------------------------------------ protection

    @property
    def branch_protection(self) -> dict[str, Any] | None:
        value = self.data.get("branch_protection")
        if not isinstance(value, dict) or (
            "message" in value and "url" not in value and len(value) <= 3
        ):
            return None  # null, or GitHub's 404 body: the branch is not protected
        return value

    @property
    def rules(self) -> list[dict[str, Any]]:
        return [rule for rule in self.data.get("rules") or [] if isinstance(rule, dict)]

    @property
    def rulesets(self) -> list[dict[str, Any]]:
        return [rs for rs in self.data.get("rulesets") or [] if isinstance(rs, dict)]

    @property
    def knows_protection(self) -> bool:
        """Protection can be judged: some of it is given, and none of it was unreadable (a
        ruleset-only view of a branch whose classic protection could not be read would report
        protections that may well be on)."""
        given = self.has("branch_protection") or self.has("rules") or self.has("rulesets")
        return given and self.protection_gap is None

    @property
    def protection_gap(self) -> str | None:
        """Why the protection is incomplete, when `phase-mirror context` could not read it."""
        gaps = [
            f"{key}: {why}"
            for key, why in self.unreadable.items()
            if key in ("branch_protection", "rules")
        ]
        return "; ".join(gaps) if gaps else None

    # ------------------------------------------------------------ builder notes

    @property
    def unreadable(self) -> dict[str, str]:
        found = _get(self.data, META_KEY, "unreadable")
        if not isinstance(found, dict):
            return {}
        return {str(k): str(v) for k, v in found.items()}

    @property
    def notes(self) -> list[str]:
        found = _get(self.data, META_KEY, "notes")
        return [str(n) for n in found] if isinstance(found, list) else []

    @property
    def suggested_mode(self) -> str | None:
        """The mode the event implies, as `phase-mirror context` recorded it."""
        return _str(_get(self.data, META_KEY, "mode"))

    # ------------------------------------------------------------ change under review

    @property
    def author(self) -> str | None:
        return _str(_get(self.data, "pull_request", "user", "login"))

    @property
    def head_sha(self) -> str | None:
        return _str(_get(self.data, "pull_request", "head", "sha")) or _str(
            _get(self.data, "merge_group", "head_sha")
        )

    @property
    def base_ref(self) -> str | None:
        return _str(_get(self.data, "pull_request", "base", "ref")) or _str(
            _get(self.data, "merge_group", "base_ref")
        )

    def line_of(self, *keys: str) -> int | None:
        """Approximate line of a nested key in the context file (its first quoted occurrence
        after its parent's), for report locations."""
        position = 0
        for key in keys:
            found = self.text.find(f'"{key}"', position)
            if found < 0:
                return None if position == 0 else self.text.count("\n", 0, position) + 1
            position = found
        return self.text.count("\n", 0, position) + 1


def load_context(path: Path) -> GitHubContext:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as error:
        raise ContextError(f"cannot read context file {path}: {error.strerror}") from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as error:
        raise ContextError(
            f"context file {path} is not valid JSON: {error.msg} at line {error.lineno}, "
            f"column {error.colno}"
        ) from None
    return context_from(data, source=path.name, text=text)


def context_from(
    data: Any, *, source: str = "context.json", text: str | None = None
) -> GitHubContext:
    if not isinstance(data, dict):
        raise ContextError(f"context {source} must be a JSON object of GitHub API responses")
    for key, shapes in _SHAPES.items():
        if key in data and not isinstance(data[key], shapes):
            wanted = " or ".join(
                "null"
                if s is type(None)
                else s.__name__.replace("dict", "object").replace("list", "array")
                for s in shapes
            )
            raise ContextError(f"context {source}: key {key!r} must be {wanted}")
    return GitHubContext(source, text if text is not None else json.dumps(data, indent=2), data)


def _get(data: Any, *keys: str) -> Any:
    for key in keys:
        if not isinstance(data, dict):
            return None
        data = data.get(key)
    return data


def _str(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None
