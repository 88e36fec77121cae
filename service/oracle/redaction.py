"""Redaction of secret-looking text, and the `Redacted` brand that proves it happened.

Anything a report carries from the repository (script snippets, context values) passes through
`redact` first: it replaces token-shaped substrings with `[REDACTED:<kind>]`. The result's type,
`Redacted`, can only be produced here, so the report model refuses raw strings at type-check time.
The report's MAC (see `integrity`) then brands the redacted content as a whole.
"""

from __future__ import annotations

import re
from typing import Final

#: Secret shapes, most specific first. Each is anchored on a distinctive prefix or structure so
#: that ordinary workflow text (action names, SHAs, expressions) is left alone.
_PATTERNS: Final[tuple[tuple[str, re.Pattern[str]], ...]] = (
    (
        "private-key",
        re.compile(
            r"-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY-----.*?(?:-----END (?:[A-Z0-9]+ )*PRIVATE KEY-----|$)",
            re.S,
        ),
    ),
    (
        "github-token",
        re.compile(r"\b(?:gh[pousr]_[A-Za-z0-9]{36,255}|github_pat_[A-Za-z0-9_]{22,255})"),
    ),
    ("aws-access-key-id", re.compile(r"\b(?:AKIA|ASIA|ABIA|ACCA)[0-9A-Z]{16}\b")),
    ("slack-token", re.compile(r"\bxox[abposr]-[A-Za-z0-9-]{10,}")),
    ("google-api-key", re.compile(r"\bAIza[0-9A-Za-z_-]{35}\b")),
    ("jwt", re.compile(r"\beyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}")),
    ("url-credentials", re.compile(r"(?<=://)[^/\s:@]+:[^/\s@]+(?=@)")),
    (
        "assignment",
        re.compile(
            r"(?i)(?<![A-Za-z0-9_])((?:[A-Za-z0-9_]*_)?(?:password|passwd|secret|token|api_?key|access_?key)"
            r"[A-Za-z0-9_]*\s*[:=]\s*)([\"']?)(?!\$\{\{)(?!\$)([^\s\"']{8,})\2"
        ),
    ),
    ("bearer", re.compile(r"(?i)(?<=\bbearer )[A-Za-z0-9._~+/-]{16,}=*")),
)

REDACTION_MARK = "[REDACTED:{}]"


class Redacted(str):
    """Text that went through `redact`. Construct it only through `redact` (or `trusted` for
    text the oracle wrote itself)."""

    __slots__ = ()


def redact(text: str) -> Redacted:
    """Replace every secret-looking substring of `text` with a `[REDACTED:<kind>]` mark."""
    for kind, pattern in _PATTERNS:
        # An assignment keeps its name and quotes; every other shape is replaced whole.
        text = pattern.sub(
            _keep_name if kind == "assignment" else REDACTION_MARK.format(kind), text
        )
    return Redacted(text)


def _keep_name(match: re.Match[str]) -> str:
    quote = match.group(2)
    return f"{match.group(1)}{quote}{REDACTION_MARK.format('assignment')}{quote}"


def trusted(text: str) -> Redacted:
    """Text the oracle composed from its own constants and already-redacted parts. Still
    scrubbed: a rule author who interpolates raw input by mistake is covered too."""
    return redact(text)


def excerpt(text: str, limit: int = 200) -> Redacted:
    """A one-line, length-limited, redacted excerpt for evidence (redacted before cutting, so a
    secret is never split into an unrecognizable fragment)."""
    flat = " ".join(redact(text).split())
    return Redacted(flat if len(flat) <= limit else flat[: limit - 1] + "…")
