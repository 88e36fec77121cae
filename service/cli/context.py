"""`phase-mirror context`: build the `analyze --context` file from the Actions event payload and
the GitHub REST API (the same code the GitHub Action runs)."""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path
from typing import Any

from .common import UsageError, write_report

TOKEN_VARIABLES = ("GITHUB_TOKEN", "GH_TOKEN")

EPILOG = (
    "The token is read from $GITHUB_TOKEN, else $GH_TOKEN (never from the command line, where "
    "it would show in `ps`). A request the token may not make (e.g. classic branch protection, "
    "which needs the administration permission a workflow token cannot have) is left out and "
    "listed under phase_mirror.unreadable; `analyze` reports it as a fail-open degradation. "
    "Exit codes: 0 context written (possibly incomplete, see stderr); 64 bad option or event "
    "file. See docs/oracle.md."
)


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "context",
        help="build the analyze --context file from the event payload and the GitHub API",
        description=(
            "Write the JSON context `phase-mirror analyze --context` reads: the event payload's "
            "repository, pull request and merge group, completed from the GitHub REST API "
            "(pull request author and head SHA, classic branch protection, rulesets in force "
            "and their bypass actors, merge-queue rule)."
        ),
        epilog=EPILOG,
    )
    parser.add_argument(
        "--event",
        metavar="FILE",
        type=Path,
        help="event payload JSON (default: $GITHUB_EVENT_PATH when set)",
    )
    parser.add_argument(
        "--event-name",
        metavar="NAME",
        help="event name, e.g. pull_request, merge_group, push (default: $GITHUB_EVENT_NAME)",
    )
    parser.add_argument(
        "--repo",
        metavar="OWNER/NAME",
        help="repository (default: $GITHUB_REPOSITORY, else the event payload's)",
    )
    parser.add_argument("--pr", metavar="N", type=int, help="pull request number to read")
    parser.add_argument(
        "--api-url",
        metavar="URL",
        help="REST API base URL; GitHub Enterprise Server: https://HOST/api/v3 "
        "(default: $GITHUB_API_URL, else https://api.github.com)",
    )
    parser.add_argument(
        "--offline", action="store_true", help="no API requests: the event payload only"
    )
    parser.add_argument(
        "--timeout", metavar="S", type=float, default=10.0, help="per-request timeout (default 10)"
    )
    parser.add_argument(
        "--output", "-o", metavar="FILE", type=Path, help="write here instead of stdout"
    )
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from service.oracle.github import DEFAULT_API_URL, GitHubApi, build_context

    event = _event(args.event or _env_path("GITHUB_EVENT_PATH"))
    repo = args.repo or os.environ.get("GITHUB_REPOSITORY") or None
    if repo is not None and repo.count("/") != 1:
        raise UsageError(f"--repo must be OWNER/NAME, not {repo!r}")
    if event is None and repo is None:
        raise UsageError(
            "nothing to build a context from: give --event (or set GITHUB_EVENT_PATH) or --repo"
        )
    if args.timeout <= 0:
        raise UsageError("--timeout must be positive")
    api = None
    if not args.offline:
        base = args.api_url or os.environ.get("GITHUB_API_URL") or DEFAULT_API_URL
        if not base.startswith(("http://", "https://")):
            raise UsageError(f"--api-url must be an http(s) URL, not {base!r}")
        api = GitHubApi(base, _token(), timeout=args.timeout)
    built = build_context(
        event=event,
        event_name=args.event_name or os.environ.get("GITHUB_EVENT_NAME") or None,
        repo=repo,
        api=api,
        pull_number=args.pr,
    )
    text = json.dumps(built.document(), indent=2, ensure_ascii=False) + "\n"
    write_report(text, args.output)
    for note in built.notes:
        print(f"phase-mirror: context: {note}", file=sys.stderr)
    return 0


def _token() -> str | None:
    for name in TOKEN_VARIABLES:
        value = os.environ.get(name, "").strip()
        if value:
            return value
    return None


def _env_path(name: str) -> Path | None:
    value = os.environ.get(name)
    return Path(value) if value else None


def _event(path: Path | None) -> dict[str, Any] | None:
    if path is None:
        return None
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except OSError as error:
        raise UsageError(f"cannot read the event payload {path}: {error.strerror}") from None
    except ValueError as error:
        raise UsageError(f"event payload {path} is not valid JSON: {error}") from None
    if not isinstance(data, dict):
        raise UsageError(f"event payload {path} must be a JSON object")
    return data
