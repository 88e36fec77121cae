"""`phase-mirror`: the command-line entry point.

Each subcommand lives in its own module exposing `register(subparsers)`; this module only wires
them together and turns adapter errors into one-line messages with documented exit codes.
Reports go to stdout; everything else (progress, logs) goes to stderr.

Start-up is kept short: `--version` imports nothing beyond the standard library, and a command
line naming a subcommand imports only that subcommand's module (`--help` and usage errors still
load them all, so the help lists every command).
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

#: sysexits EX_USAGE (also `common.EXIT_USAGE`; repeated so `--version` imports nothing).
EXIT_USAGE = 64
#: `adapters.config.ENV_BACKEND`, for the epilog (a test keeps them equal).
ENV_BACKEND = "PHASE_MIRROR_BACKEND"

#: Subcommand modules, in `--help` order.
COMMAND_MODULES = (
    "service.cli.doctor",
    "service.cli.bootstrap",
    "service.cli.demo",
    "service.cli.sweep",
    "service.cli.rotate",
    "service.cli.ops",
    "service.cli.serve",
    "service.cli.smoke",
    "service.cli.keys",
    "service.cli.consent",
    "service.cli.anonymize",
    "service.cli.context",
    "service.cli.analyze",
    "service.cli.fp",
    "service.cli.baseline",
    "service.cli.verify_report",
    "service.cli.l0",
)
#: The subcommands each module registers, so one command line imports one module.
COMMANDS = {
    "rotate-secret": "service.cli.rotate",
    "rotate-nonce": "service.cli.rotate",
    "verify-pitr": "service.cli.ops",
    "verify-alarms": "service.cli.ops",
    "drift": "service.cli.baseline",
    "verify-report": "service.cli.verify_report",
    **{module.rsplit(".", 1)[1]: module for module in COMMAND_MODULES},
}


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # type: ignore[override]
        self.print_usage(sys.stderr)
        print(f"{self.prog}: error: {message}", file=sys.stderr)
        raise SystemExit(EXIT_USAGE)


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("phase-mirror")
    except PackageNotFoundError:
        return "unknown"


def _command(argv: Sequence[str]) -> str | None:
    """The subcommand a command line names (the first word after the global options)."""
    words = iter(argv)
    for word in words:
        if word == "--backend":
            next(words, None)
        elif not word.startswith("-"):
            return word
    return None


def build_parser(argv: Sequence[str] | None = None) -> argparse.ArgumentParser:
    parser = _Parser(
        prog="phase-mirror",
        description=(
            "Phase Mirror: governance oracle and privacy-preserving false-positive calibration "
            "service. Storage is chosen by one backend setting; the embedded local backend is "
            "the default."
        ),
        epilog=(
            f"Backend setting: --backend, else ${ENV_BACKEND}, else local:// in the default data "
            "directory. Exit codes: 0 ok, 1 failed/blocked, 2 degraded, 64 usage, 66 not found, "
            "69 backend unavailable, 78 misconfigured. See docs/cli.md."
        ),
    )
    parser.add_argument("--version", action="version", version=f"phase-mirror {_version()}")
    parser.add_argument(
        "--backend",
        metavar="URL",
        help="backend setting, e.g. local:///var/lib/phase-mirror or "
        "aws://?region=us-east-1&prefix=phase-mirror-staging",
    )
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    module = COMMANDS.get(_command(argv) or "") if argv is not None else None
    for module_name in (module,) if module else dict.fromkeys(COMMANDS.values()):
        importlib.import_module(module_name).register(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    words = list(sys.argv[1:] if argv is None else argv)
    if words[:1] == ["--version"]:
        print(f"phase-mirror {_version()}")
        return 0
    parser = build_parser(words)
    args = parser.parse_args(words)
    if args.command is None:
        parser.print_help(sys.stderr)
        return EXIT_USAGE
    from adapters.errors import StoreError

    from .common import UsageError, exit_code_for

    try:
        code: int = args.func(args)
        return code
    except (StoreError, UsageError) as error:
        print(f"phase-mirror: error: {error}", file=sys.stderr)
        return exit_code_for(error)
    except KeyboardInterrupt:
        print("phase-mirror: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    raise SystemExit(main())
