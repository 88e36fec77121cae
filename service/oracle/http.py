"""A small JSON-over-HTTP client on the standard library, for the two services the oracle talks
to: the GitHub REST API (context.py's builder) and the calibration API (reporting.py, and
`phase-mirror smoke`).

Every answer, 4xx/5xx included, comes back as an `HttpAnswer`; a connection that fails has
`status None` and `error` says why. Nothing here raises on a network problem, so callers decide
what degrades and what fails. The standard library only, so the CLI keeps starting fast.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

USER_AGENT = "phase-mirror-oracle"


@dataclass(frozen=True)
class HttpAnswer:
    status: int | None
    body: Any = None
    #: Header names in lower case.
    headers: dict[str, str] = field(default_factory=dict)
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.status is not None and 200 <= self.status < 300

    @property
    def message(self) -> str:
        """The server's own explanation (`message` of a JSON error body), else the status."""
        if isinstance(self.body, dict) and isinstance(self.body.get("message"), str):
            return str(self.body["message"])
        if self.status is None:
            return self.error or "no answer"
        return f"HTTP {self.status}"

    def retry_after(self, default: float) -> float:
        """`Retry-After` in seconds (GitHub also sends `x-ratelimit-reset`; not used here)."""
        value = self.headers.get("retry-after", "")
        try:
            seconds = float(value)
        except ValueError:
            return default
        return seconds if seconds >= 0 else default


def request_json(
    method: str,
    url: str,
    *,
    body: Any = None,
    headers: dict[str, str] | None = None,
    timeout: float = 10.0,
) -> HttpAnswer:
    import urllib.error
    import urllib.request

    if not url.startswith(("http://", "https://")):
        return HttpAnswer(None, error=f"not an http(s) URL: {url}")
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(  # noqa: S310 - the scheme is checked above
        url,
        data=data,
        method=method,
        headers={
            "Accept": "application/json",
            "User-Agent": USER_AGENT,
            **({"Content-Type": "application/json"} if data is not None else {}),
            **(headers or {}),
        },
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310
            return _answer(response.status, response.headers, response.read())
    except urllib.error.HTTPError as error:
        with error:
            return _answer(error.code, error.headers, error.read())
    except (urllib.error.URLError, OSError, ValueError) as error:
        reason = getattr(error, "reason", error)
        return HttpAnswer(None, error=f"{type(error).__name__}: {reason}")


def _answer(status: int, headers: Any, raw: bytes) -> HttpAnswer:
    try:
        body: Any = json.loads(raw) if raw else None
    except ValueError:
        body = raw[:200].decode("utf-8", "replace")
    return HttpAnswer(status, body, {k.lower(): v for k, v in (headers or {}).items()})
