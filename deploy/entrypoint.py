"""The container image's command: `phase-mirror serve` on `$PORT` (Cloud Run's contract).

A Dockerfile's exec-form CMD cannot expand `$PORT`, and a shell-form one would put a shell in
front of the server (signals, PID 1), so this script reads the environment and replaces itself
with the server (`os.execvp`): the server is PID 1 and receives the platform's SIGTERM.

| variable | default | meaning |
|---|---|---|
| `PORT` | 8080 | TCP port (set by Cloud Run; `AWS_LWA_PORT` must match it on Lambda) |
| `PHASE_MIRROR_HOST` | 0.0.0.0 | address to bind (0.0.0.0 is right inside a container; tests pass 127.0.0.1) |
| `PHASE_MIRROR_WORKERS` | 1 | uvicorn worker processes |
| `PHASE_MIRROR_LOG_LEVEL` | info | debug, info, warning, error |
| `FORWARDED_ALLOW_IPS` | (the image sets it) | peers whose X-Forwarded-For/-Proto uvicorn trusts |

Every other setting (the backend, `PHASE_MIRROR_*` service settings) is read by the service
itself, exactly as `phase-mirror serve` reads it. Standard library only: the image copies this
file alone (`/app/entrypoint.py`) next to the installed project.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping

ENV_PORT = "PORT"
ENV_HOST = "PHASE_MIRROR_HOST"
ENV_WORKERS = "PHASE_MIRROR_WORKERS"
ENV_LOG_LEVEL = "PHASE_MIRROR_LOG_LEVEL"
DEFAULT_PORT = "8080"
DEFAULT_HOST = "0.0.0.0"  # noqa: S104 - inside a container the platform's proxy connects from outside
LOG_LEVELS = ("debug", "info", "warning", "error")
EXIT_USAGE = 64


class EntryError(Exception):
    """A bad environment value, reported as one line."""


def _number(environ: Mapping[str, str], name: str, default: str, low: int, high: int) -> str:
    value = environ.get(name, "").strip() or default
    if not value.isascii() or not value.isdigit() or not low <= int(value) <= high:
        raise EntryError(f"{name}={value!r} is not a number from {low} to {high}")
    return str(int(value))


def command(environ: Mapping[str, str]) -> list[str]:
    """The server's argv for this environment."""
    port = _number(environ, ENV_PORT, DEFAULT_PORT, 1, 65535)
    workers = _number(environ, ENV_WORKERS, "1", 1, 64)
    host = environ.get(ENV_HOST, "").strip() or DEFAULT_HOST
    level = environ.get(ENV_LOG_LEVEL, "").strip().lower() or "info"
    if level not in LOG_LEVELS:
        raise EntryError(f"{ENV_LOG_LEVEL}={level!r} is not one of {', '.join(LOG_LEVELS)}")
    serve = ["serve", "--host", host, "--port", port, "--workers", workers, "--log-level", level]
    # The console script next to this interpreter (the image's venv), else the one on PATH.
    beside = os.path.join(os.path.dirname(sys.executable), "phase-mirror")
    return [beside if os.path.isfile(beside) else "phase-mirror", *serve]


def main() -> int:
    try:
        argv = command(os.environ)
    except EntryError as error:
        print(f"entrypoint: error: {error}", file=sys.stderr)
        return EXIT_USAGE
    try:
        os.execvp(argv[0], argv)  # noqa: S606 - replaces this process: no shell, fixed argv
    except OSError as error:
        print(f"entrypoint: error: cannot start {argv[0]}: {error.strerror}", file=sys.stderr)
    return 1


if __name__ == "__main__":
    raise SystemExit(main())
