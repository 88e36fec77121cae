"""CODEOWNERS: where GitHub looks for it, how its patterns match, and placeholder owners.

Patterns follow GitHub's documented subset of gitignore: a leading or inner `/` anchors to the
repository root, otherwise a pattern matches at any depth; a trailing `/` matches a directory's
contents; `*` stays within one path segment, `**` crosses them; a pattern naming a directory
covers everything below it, except `dir/*`, which GitHub limits to the directory's own files.
The last matching line wins, and a matching line without owners leaves the path unowned.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cached_property

from .globs import glob_to_regex

#: GitHub reads the first of these that exists.
LOCATIONS = (".github/CODEOWNERS", "CODEOWNERS", "docs/CODEOWNERS")

_USER = re.compile(r"^@[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})$")
_TEAM = re.compile(r"^@[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})/[A-Za-z0-9._-]+$")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")

#: Names that documentation, templates and generators use in place of a real owner (the
#: predecessor shipped a CODEOWNERS made of exactly these).
PLACEHOLDER_NAMES = frozenset(
    {
        "username",
        "user",
        "user1",
        "user2",
        "your-username",
        "yourusername",
        "your-user",
        "github-username",
        "githubusername",
        "owner",
        "owners",
        "your-org",
        "yourorg",
        "your-organization",
        "org",
        "organization",
        "my-org",
        "myorg",
        "your-team",
        "team",
        "team-name",
        "teamname",
        "my-team",
        "example",
        "example-org",
        "example-user",
        "todo",
        "tbd",
        "fixme",
        "changeme",
        "change-me",
        "placeholder",
        "someone",
        "somebody",
        "nobody",
        "octocat",
        "doctocat",
        "octo-org",
        "replace-me",
        "replaceme",
        "xxx",
    }
)
_PLACEHOLDER_EMAIL_DOMAINS = (
    "example.com",
    "example.org",
    "example.net",
    "email.com",
    "domain.com",
)


@dataclass(frozen=True)
class Entry:
    line: int
    pattern: str
    owners: tuple[str, ...]

    @cached_property
    def _matcher(self) -> tuple[re.Pattern[str], bool, bool]:
        return compile_pattern(self.pattern)

    def matches(self, path: str) -> bool:
        regex, dir_only, propagate = self._matcher
        if not dir_only and regex.match(path):
            return True
        if not propagate:
            return False
        parts = path.split("/")
        return any(regex.match("/".join(parts[:depth])) for depth in range(1, len(parts)))


@dataclass(frozen=True)
class CodeOwners:
    path: str
    entries: tuple[Entry, ...]

    def owners_of(self, path: str) -> tuple[str, ...]:
        for entry in reversed(self.entries):
            if entry.matches(path):
                return entry.owners
        return ()


def parse_codeowners(path: str, text: str) -> CodeOwners:
    entries = []
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        line = re.split(r"(?<!\\)\s#", line, maxsplit=1)[0]  # trailing comment
        pattern, *owners = line.split()
        entries.append(Entry(number, pattern.replace("\\#", "#"), tuple(owners)))
    return CodeOwners(path, tuple(entries))


def compile_pattern(pattern: str) -> tuple[re.Pattern[str], bool, bool]:
    """(regex over a file or directory path, directory-only, covers what is below a match)."""
    dir_only = pattern.endswith("/")
    body = pattern.rstrip("/")
    anchored = "/" in body
    body = body.lstrip("/")
    regex = glob_to_regex(body, anchored=anchored)
    last_segment = body.rsplit("/", 1)[-1]
    propagate = dir_only or last_segment != "*"
    return re.compile(f"^{regex}$"), dir_only, propagate


def owner_problem(owner: str) -> str | None:
    """Why `owner` is not a real owner (placeholder or invalid syntax), or None if it is fine."""
    if _EMAIL.match(owner) and not owner.startswith("@"):
        domain = owner.rsplit("@", 1)[1].lower()
        if domain in _PLACEHOLDER_EMAIL_DOMAINS:
            return f"{owner} is a placeholder e-mail address"
        return None
    if not (_USER.match(owner) or _TEAM.match(owner)):
        return f"{owner!r} is not a valid owner (use @user, @org/team or an e-mail address)"
    names = owner[1:].lower().split("/")
    if any(name in PLACEHOLDER_NAMES for name in names):
        return f"{owner} is a placeholder, not a real GitHub user or team"
    return None
