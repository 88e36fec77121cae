"""Repository-relative path globs for governed paths: `*` within a segment, `**` across segments,
`?` one character, a trailing `/` everything below. A pattern with a `/` (leading or inner) is
anchored at the repository root; one without matches a file name at any depth."""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import lru_cache


def glob_to_regex(body: str, *, anchored: bool) -> str:
    """The regex (without `^`/`$`) of a glob body; shared with CODEOWNERS patterns."""
    out = [] if anchored else ["(?:.*/)?"]
    index = 0
    while index < len(body):
        if body.startswith("**/", index):
            out.append("(?:.*/)?")
            index += 3
        elif body.startswith("**", index):
            out.append(".*")
            index += 2
        elif body[index] == "*":
            out.append("[^/]*")
            index += 1
        elif body[index] == "?":
            out.append("[^/]")
            index += 1
        else:
            out.append(re.escape(body[index]))
            index += 1
    return "".join(out)


@lru_cache(maxsize=512)
def compile_glob(pattern: str) -> re.Pattern[str]:
    anchored = "/" in pattern.strip().rstrip("/")
    body = pattern.strip().lstrip("/")
    regex = glob_to_regex(body, anchored=anchored)
    if body.endswith("/"):
        regex += ".*"
    return re.compile(f"^{regex}$")


def matches_any(path: str, patterns: Iterable[str]) -> bool:
    return any(compile_glob(pattern).match(path) for pattern in patterns)
