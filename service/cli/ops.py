"""`phase-mirror verify-pitr` and `verify-alarms`: is the stack recoverable and watched?

Generic like `bootstrap`: each calls the backend's operator (`adapters.operations.Operator`:
aws, gcp), and says there is nothing to verify on the local backend, which has none. A fact an
emulator cannot report comes back with the status NOT_REPORTED: it is shown as "n/a" and
counted apart, never as verified and never as failed.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from typing import Any

from adapters.backend import Backend
from adapters.errors import Unsupported
from adapters.operations import Check, CheckStatus, Operator

from .common import (
    EXIT_FAIL,
    EXIT_OK,
    UsageError,
    add_stack_option,
    backend_from,
    print_checks,
)

_EXIT_CODES = (
    "Exit codes: 0 nothing failed, 1 a check failed, 69 backend unreachable, 78 misconfigured."
)


def register(subparsers: Any) -> None:
    pitr = subparsers.add_parser(
        "verify-pitr",
        help="check point-in-time recovery on every durable table / the Firestore database",
        description=(
            "Check that every durable store of the catalog can be restored to a point in time: "
            "on aws, DescribeContinuousBackups of each durable DynamoDB table reports "
            "point-in-time recovery ENABLED; on gcp, the Firestore database reports "
            "point-in-time recovery enabled. Lists every failing store with the command that "
            "fixes it. The local backend has nothing to verify. " + _EXIT_CODES
        ),
        epilog="Runbook: docs/runbooks/pitr-verification.md",
    )
    _common(pitr)
    pitr.set_defaults(func=run_pitr)

    alarms = subparsers.add_parser(
        "verify-alarms",
        help="check every alarm / alert policy exists and is not firing (--simulate: a drill)",
        description=(
            "Check that every alarm the catalog names exists on the stack, watches what the "
            "catalog says, notifies someone and is not in alarm, and that the 'system health' "
            "alarm (an AWS composite alarm; a GCP policy combining every condition) watches "
            "all of them. --simulate (aws) forces one alarm to ALARM, checks that the "
            "composite follows, then sets the alarm back to OK: the alarms' actions fire, so "
            "announce the drill. On the moto emulator, which has no composite alarms, the "
            "composite is reported as not reported by this endpoint and its rule is evaluated "
            "locally. The local backend has nothing to verify. " + _EXIT_CODES
        ),
        epilog="Runbook: docs/runbooks/alarms.md",
    )
    alarms.add_argument(
        "--simulate",
        action="store_true",
        help="drill: set one alarm to ALARM, check the composite reacts, set it back to OK",
    )
    alarms.add_argument(
        "--timeout",
        type=_seconds,
        default=120.0,
        metavar="SECONDS",
        help="how long --simulate waits for the composite to react (default 120)",
    )
    _common(alarms)
    alarms.set_defaults(func=run_alarms)


def _common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--json", action="store_true", help="print the checks as JSON")
    # Also accepted after the subcommand; SUPPRESS keeps a value given before it.
    parser.add_argument(
        "--backend",
        metavar="URL",
        default=argparse.SUPPRESS,
        help="backend setting, e.g. aws://?region=us-east-1&prefix=phase-mirror-staging "
        "(also accepted before the command)",
    )
    add_stack_option(parser)


def _seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of seconds") from None
    if not 0 <= value <= 3600:
        raise argparse.ArgumentTypeError("use 0 to 3600 seconds")
    return value


def run_pitr(args: argparse.Namespace) -> int:
    return _verify(
        args,
        "verify-pitr",
        lambda operator: operator.verify_pitr(),
        "the embedded backend has no point-in-time recovery to verify; back up its data "
        "directory instead (docs/runbooks/pitr-verification.md)",
    )


def run_alarms(args: argparse.Namespace) -> int:
    return _verify(
        args,
        "verify-alarms",
        lambda operator: operator.verify_alarms(args.simulate, args.timeout),
        "the embedded backend has no alarms; its metrics go to stderr as log lines",
    )


def _verify(
    args: argparse.Namespace,
    command: str,
    call: Callable[[Operator], list[Check]],
    nothing: str,
) -> int:
    backend = backend_from(args)
    try:
        operator = backend.operator
        if operator is None:
            return _nothing_to_verify(args, command, backend, nothing)
        print(f"{command}: checking {backend.setting.url} ...", file=sys.stderr, flush=True)
        try:
            checks = call(operator)
        except Unsupported as error:
            raise UsageError(str(error)) from None
    finally:
        backend.close()
    failed = [c for c in checks if c.status is CheckStatus.FAILED]
    unreported = [c for c in checks if c.status is CheckStatus.NOT_REPORTED]
    if args.json:
        print(json.dumps(_report(command, backend, checks), indent=2))
    else:
        print_checks(backend, checks, title=command)
        verified = len(checks) - len(failed) - len(unreported)
        summary = f"{verified} verified, {len(failed)} failed"
        if unreported:
            summary += f", {len(unreported)} not reported by this endpoint (an emulator)"
        print(summary)
    return EXIT_FAIL if failed else EXIT_OK


def _report(command: str, backend: Backend, checks: list[Check]) -> dict[str, Any]:
    return {
        "command": command,
        "backend": backend.setting.url,
        "source": backend.setting.source,
        "ok": all(check.ok for check in checks),
        # True only if every check was answered by the endpoint (never on an emulator gap).
        "verified": all(check.status is CheckStatus.OK for check in checks),
        "checks": [{"status": check.status.value, **check.as_dict()} for check in checks],
    }


def _nothing_to_verify(args: argparse.Namespace, command: str, backend: Backend, why: str) -> int:
    message = f"{backend.name} backend ({backend.setting.url}): nothing to verify; {why}"
    if args.json:
        report = {
            "command": command,
            "backend": backend.setting.url,
            "source": backend.setting.source,
            "ok": True,
            "verified": False,
            "checks": [],
            "note": message,
        }
        print(json.dumps(report, indent=2))
    else:
        print(message)
    return EXIT_OK
