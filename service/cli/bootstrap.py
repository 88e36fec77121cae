"""`phase-mirror bootstrap [--verify-only]`: create a cloud backend's resources from the catalog.

For emulators and dev accounts; production stacks come from `pulumi up`. The command is
generic: it calls the selected driver's `bootstrap(verify_only)` when the driver has one
(the driver refuses where the stack's tables already exist), and says there is nothing to do
on the local backend, whose schema is created whenever it opens.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from typing import Any

from adapters.backend import Check

from .common import EXIT_FAIL, EXIT_OK, backend_from


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "bootstrap",
        help="create the backend's tables, key, secrets and bucket (emulators, dev accounts)",
        description=(
            "Create every store, the encryption key, the secret slots and the baselines bucket "
            "that the store catalog declares, on the selected cloud backend, then check them "
            "as 'doctor' does. Meant for emulators and dev accounts: production stacks come "
            "from 'pulumi up'. Refuses to run where the stack's tables already exist; "
            "--verify-only only checks. Exits 1 if a check fails, 78 if it refuses."
        ),
    )
    parser.add_argument(
        "--verify-only",
        action="store_true",
        help="create nothing; check that everything exists as the catalog declares",
    )
    parser.add_argument("--json", action="store_true", help="print the steps and checks as JSON")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    backend = backend_from(args)
    try:
        bootstrap: Callable[[bool], list[Check]] | None = getattr(backend.driver, "bootstrap", None)
        if bootstrap is None:
            print(_nothing_to_do(backend.name, backend.setting.url))
            return EXIT_OK
        action = "verifying" if args.verify_only else "bootstrapping"
        print(f"{action} {backend.setting.url} ...", file=sys.stderr, flush=True)
        checks = bootstrap(args.verify_only)
    finally:
        backend.close()
    failed = [c for c in checks if not c.ok]
    if args.json:
        report = {
            "backend": backend.setting.url,
            "verify_only": args.verify_only,
            "ok": not failed,
            "checks": [c.__dict__ for c in checks],
        }
        print(json.dumps(report, indent=2))
    else:
        print(f"backend: {backend.setting.url}  (from {backend.setting.source})")
        for check in checks:
            print(f"  [{'ok' if check.ok else 'FAIL'}] {check.name}: {check.detail}")
            if not check.ok and check.fix:
                print(f"         fix: {check.fix}")
        print(f"{len(checks) - len(failed)} of {len(checks)} steps and checks ok")
    return EXIT_FAIL if failed else EXIT_OK


def _nothing_to_do(name: str, url: str) -> str:
    if name == "local":
        return (
            f"local backend ({url}): nothing to bootstrap; its schema is created automatically "
            "whenever it opens"
        )
    return f"{name} backend ({url}): this backend has no bootstrap step; see docs/backends/"
