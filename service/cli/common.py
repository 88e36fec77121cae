"""What every CLI command shares: exit codes, backend opening, error reporting."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import NoReturn

from adapters.backend import Backend, open_backend
from adapters.config import from_stack_outputs
from adapters.errors import (
    Conflict,
    IntegrityError,
    Misconfigured,
    NotFound,
    StoreError,
    Throttled,
    Unavailable,
)
from adapters.operations import Check, CheckStatus

# Exit codes (documented in docs/cli.md). 0-2 are the oracle's decision codes.
EXIT_OK = 0
EXIT_FAIL = 1  # a check failed / the oracle blocks
EXIT_DEGRADED = 2  # the oracle is degraded and cannot vouch for the result
EXIT_USAGE = 64  # bad command line or bad input file (sysexits EX_USAGE)
EXIT_NOT_FOUND = 66  # the thing named does not exist (EX_NOINPUT)
EXIT_UNAVAILABLE = 69  # the backend is unreachable (EX_UNAVAILABLE)
EXIT_CONFIG = 78  # the backend setting or the backend's resources are wrong (EX_CONFIG)


class UsageError(Exception):
    """Bad input from the user: printed as one line, exit code 64."""


def exit_code_for(error: BaseException) -> int:
    if isinstance(error, UsageError):
        return EXIT_USAGE
    if isinstance(error, Misconfigured):
        return EXIT_CONFIG
    if isinstance(error, Unavailable | Throttled):
        return EXIT_UNAVAILABLE
    if isinstance(error, NotFound):
        return EXIT_NOT_FOUND
    if isinstance(error, Conflict | IntegrityError | StoreError):
        return EXIT_FAIL
    return EXIT_FAIL


def fail(message: str, code: int = EXIT_USAGE) -> NoReturn:
    print(f"phase-mirror: error: {message}", file=sys.stderr)
    raise SystemExit(code)


def write_report(text: str, output: Path | None) -> None:
    """A report (or any command's document) to stdout, or to `output` (UsageError if it cannot)."""
    if output is None:
        sys.stdout.write(text)
        sys.stdout.flush()
        return
    try:
        output.write_text(text, encoding="utf-8")
    except OSError as error:
        raise UsageError(f"cannot write the report to {output}: {error.strerror}") from None


def add_stack_option(parser: argparse.ArgumentParser) -> None:
    """`--stack FILE`: take the backend from `pulumi stack output --json` saved to FILE."""
    parser.add_argument(
        "--stack",
        metavar="OUTPUTS_JSON",
        type=Path,
        help="use the backend of a deployed stack: the file written by "
        "'pulumi stack output --json > FILE' (its backendUrl output)",
    )


def backend_from(args: argparse.Namespace) -> Backend:
    """Open the backend named by `--stack`, `--backend` or the environment (docs/configuration.md)."""
    stack: Path | None = getattr(args, "stack", None)
    if stack is not None:
        return open_backend(from_stack_outputs(stack))
    return open_backend(getattr(args, "backend", None))


_LABELS = {CheckStatus.OK: "ok", CheckStatus.FAILED: "FAIL", CheckStatus.NOT_REPORTED: "n/a"}


def print_checks(backend: Backend, checks: list[Check], title: str = "backend") -> None:
    """The text report of doctor, bootstrap and verify-*: one line per check, its fix below a
    failure. An unreported check (an emulator gap) is "n/a", neither ok nor FAIL."""
    print(f"{title}: {backend.setting.url}  (from {backend.setting.source})")
    for check in checks:
        print(f"  [{_LABELS[check.status]}] {check.name}: {check.detail}")
        if not check.ok and check.fix:
            print(f"         fix: {check.fix}")
