"""A loopback stand-in for the GitHub REST API serving the recorded responses in github_api/.

Routes map a path (query string included, `per_page` removed) to (status, body file or
object, extra headers); every request is logged with its Authorization header, so tests can
check what the builder asked and that the token went nowhere else."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit

RECORDED = Path(__file__).parent / "github_api"


def recorded(name: str) -> Any:
    return json.loads((RECORDED / name).read_text())


Route = tuple[int, Any, dict[str, str]]


@dataclass
class FakeGitHub:
    routes: dict[str, Route] = field(default_factory=dict)
    requests: list[tuple[str, str | None]] = field(default_factory=list)
    url: str = ""

    def add(self, path: str, body: Any, status: int = 200, **headers: str) -> None:
        self.routes[path] = (status, body, {k.replace("_", "-"): v for k, v in headers.items()})


def _key(raw: str) -> str:
    parts = urlsplit(raw)
    query = [(k, v) for k, v in parse_qsl(parts.query) if k != "per_page"]
    return parts.path + (f"?{urlencode(query)}" if query else "")


@contextmanager
def fake_github() -> Iterator[FakeGitHub]:
    fake = FakeGitHub()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            fake.requests.append((self.path, self.headers.get("Authorization")))
            status, body, headers = fake.routes.get(
                _key(self.path), (404, recorded("not-found-404.json"), {})
            )
            raw = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json; charset=utf-8")
            self.send_header("Content-Length", str(len(raw)))
            for name, value in headers.items():
                self.send_header(name, value.replace("{base}", fake.url))
            self.end_headers()
            self.wfile.write(raw)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    fake.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield fake
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def widgets_api(fake: FakeGitHub, *, admin: bool) -> None:
    """octo-org/widgets as a workflow token (admin False) or an admin token sees it."""
    repo = "/repos/octo-org/widgets"
    fake.add(repo, recorded("repo.json"))
    fake.add(f"{repo}/pulls/1347", recorded("pull.json"))
    if admin:
        fake.add(f"{repo}/branches/main/protection", recorded("protection.json"))
    else:
        fake.add(
            f"{repo}/branches/main/protection",
            recorded("protection-403.json"),
            403,
            x_accepted_github_permissions="administration=read",
        )
    fake.add(
        f"{repo}/rules/branches/main",
        recorded("rules-page1.json"),
        link=f'<{{base}}{repo}/rules/branches/main?per_page=100&page=2>; rel="next", '
        f'<{{base}}{repo}/rules/branches/main?per_page=100&page=2>; rel="last"',
    )
    fake.add(
        f"{repo}/rules/branches/main?page=2",
        recorded("rules-page2.json"),
        link=f'<{{base}}{repo}/rules/branches/main?per_page=100&page=1>; rel="prev", '
        f'<{{base}}{repo}/rules/branches/main?per_page=100&page=1>; rel="first"',
    )
    ruleset = recorded("ruleset-admin.json")
    if not admin:
        ruleset.pop("bypass_actors")
        ruleset["current_user_can_bypass"] = "never"
    fake.add(f"{repo}/rulesets/42?includes_parents=true", ruleset)
    fake.add(f"{repo}/rulesets/7?includes_parents=true", recorded("ruleset-read.json"))
