"""`phase-mirror doctor`: is the selected backend reachable and shaped as the catalog says?"""

from __future__ import annotations

import argparse
import json
from typing import Any

from adapters.operations import Check

from .common import EXIT_FAIL, EXIT_OK, backend_from, print_checks


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "doctor",
        help="check the selected backend and print what to fix",
        description=(
            "Print the selected backend, then check every store, key, secret and bucket it "
            "needs: reachable and shaped as the store catalog declares. Exits 1 if any check "
            "fails, with the fix for each; 78 if the backend setting itself is wrong."
        ),
    )
    parser.add_argument("--json", action="store_true", help="print the checks as JSON")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    backend = backend_from(args)
    try:
        checks = backend.doctor()
    finally:
        backend.close()
    failed = [c for c in checks if not c.ok]
    if args.json:
        print(json.dumps(_as_json(backend.setting.url, backend.setting.source, checks), indent=2))
    else:
        print_checks(backend, checks)
        print(f"{len(checks) - len(failed)} of {len(checks)} checks passed")
    return EXIT_FAIL if failed else EXIT_OK


def _as_json(url: str, source: str, checks: list[Check]) -> dict[str, Any]:
    return {
        "backend": url,
        "source": source,
        "ok": all(c.ok for c in checks),
        "checks": [c.as_dict() for c in checks],
    }
