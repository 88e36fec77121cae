"""Repository-relative path globs for governed paths: `*` within a segment, `**` across segments,
`?` one character, a trailing `/` everything below. A pattern with a `/` (leading or inner) is
anchored at the repository root; one without matches a file name at any depth."""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import lru_cache


@lru_cache(maxsize=512)
def compile_glob(pattern: str) -> re.Pattern[str]:
    anchored = "/" in pattern.strip().rstrip("/")
    body = pattern.strip().lstrip("/")
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
    if body.endswith("/"):
        out.append(".*")
    return re.compile("^" + "".join(out) + "$")


def matches_any(path: str, patterns: Iterable[str]) -> bool:
    return any(compile_glob(pattern).match(path) for pattern in patterns)
