"""`phase-mirror anonymize`: raw events -> k-anonymous daily aggregates (once or scheduled)."""

from __future__ import annotations

import argparse
import json
import sys
import time
from typing import Any

from adapters.catalog import SECRETS, Secret
from service.calibration.aggregate import RunReport, run_anonymizer
from service.calibration.anonymizer import Pseudonymizer
from service.calibration.bootstrap import ensure_secret

from .common import EXIT_OK, UsageError, backend_from

SALT = Secret.ANONYMIZER_SALT


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "anonymize",
        help="aggregate raw calibration events into pseudonymous daily counts",
        description=(
            "Reads the raw events, pseudonymises each org with HMAC-SHA256 keyed by the "
            "anonymizer salt, and adds each event once to its daily aggregate. Idempotent: "
            "re-running changes nothing. Prints a JSON report on stdout, progress on stderr."
        ),
    )
    parser.add_argument(
        "--every", type=int, metavar="SECONDS", help="keep running, once every SECONDS"
    )
    parser.add_argument("--max-runs", type=int, metavar="N", help="with --every: stop after N runs")
    parser.add_argument(
        "--rotate-salt",
        action="store_true",
        help="add a new salt version first (the previous one stays valid for "
        f"{int(SECRETS[SALT].grace_period.total_seconds() // 3600)} h for de-duplication)",
    )
    parser.add_argument(
        "--retire-previous-salt",
        action="store_true",
        help="disable the previous salt version now (after its grace window)",
    )
    parser.add_argument("--quiet", action="store_true", help="no progress on stderr")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    if args.every is not None and args.every < 1:
        raise UsageError("--every must be at least 1 second")
    if args.max_runs is not None and (args.every is None or args.max_runs < 1):
        raise UsageError("--max-runs needs --every and must be at least 1")
    backend = backend_from(args)
    try:
        _salt_actions(backend, args)
        runs = 0
        while True:
            pseudonyms = Pseudonymizer(backend.secrets, backend.clock, cache_seconds=0)
            report = run_anonymizer(backend, pseudonyms, progress=None if args.quiet else _progress)
            print(json.dumps(report.as_dict()), flush=True)
            runs += 1
            if args.every is None or (args.max_runs is not None and runs >= args.max_runs):
                return EXIT_OK
            time.sleep(args.every)
    finally:
        backend.close()


def _salt_actions(backend: Any, args: argparse.Namespace) -> None:
    if ensure_secret(backend, SALT):
        print("created the first anonymizer salt", file=sys.stderr)
    if args.rotate_salt:
        import secrets

        version = backend.secrets.put(SALT, secrets.token_hex(32))
        print(f"anonymizer salt rotated to version {version.version}", file=sys.stderr)
    if args.retire_previous_salt:
        previous = backend.secrets.previous(SALT)
        if previous is None:
            raise UsageError("there is no previous salt version to retire")
        backend.secrets.disable(SALT, previous.version)
        print(f"retired anonymizer salt version {previous.version}", file=sys.stderr)


def _progress(report: RunReport) -> None:
    print(
        f"anonymize: {report.scanned} scanned, {report.contributed} added, "
        f"{report.already_counted} already counted, {report.skipped_revoked} skipped (revoked), "
        f"{report.unreadable} unreadable",
        file=sys.stderr,
        flush=True,
    )
