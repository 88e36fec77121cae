"""`phase-mirror bootstrap [--verify-only]`: create a cloud backend's resources from the catalog.

For emulators and dev accounts; production stacks come from `pulumi up`. The command is
generic: it calls the backend operator's `bootstrap(verify_only)` (aws, gcp; the AWS one
refuses where the stack's tables already exist), and says there is nothing to do on the local
backend, which has no operator: its schema is created whenever it opens.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from .common import EXIT_FAIL, EXIT_OK, backend_from, print_checks


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
        operator = backend.operator
        if operator is None:
            print(
                f"{backend.name} backend ({backend.setting.url}): nothing to bootstrap; its "
                "schema is created automatically whenever it opens"
            )
            return EXIT_OK
        action = "verifying" if args.verify_only else "bootstrapping"
        print(f"{action} {backend.setting.url} ...", file=sys.stderr, flush=True)
        checks = operator.bootstrap(args.verify_only)
    finally:
        backend.close()
    failed = [c for c in checks if not c.ok]
    if args.json:
        report = {
            "backend": backend.setting.url,
            "verify_only": args.verify_only,
            "ok": not failed,
            "checks": [c.as_dict() for c in checks],
        }
        print(json.dumps(report, indent=2))
    else:
        print_checks(backend, checks)
        print(f"{len(checks) - len(failed)} of {len(checks)} steps and checks ok")
    return EXIT_FAIL if failed else EXIT_OK
