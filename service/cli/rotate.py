"""`phase-mirror rotate-secret` and `rotate-nonce`: rotation with a grace window on any backend."""

from __future__ import annotations

import argparse
import json
from typing import Any

from adapters.catalog import SECRETS, Secret
from service.ops.rotation import InvalidSecretValue, retire_only, rotate

from .common import EXIT_OK, UsageError, add_stack_option, backend_from

_GRACE = {s.value: spec.grace_period for s, spec in SECRETS.items()}


def register(subparsers: Any) -> None:
    description = (
        "Write a new version of a secret (64 hex characters; random unless --value is given). "
        "It becomes current; the version it replaces stays valid as 'previous' for the grace "
        "window ({grace}), and every run retires what that window no longer covers (disabled, "
        "never destroyed). Re-running with the value that is already current changes nothing."
    )
    secret = subparsers.add_parser(
        "rotate-secret",
        help="rotate the redaction key or the anonymizer salt",
        description=description.format(grace=", ".join(f"{k}: {v}" for k, v in _GRACE.items())),
    )
    secret.add_argument("secret", choices=[s.value for s in Secret], help="which secret")
    _common_options(secret)
    secret.set_defaults(func=run_secret)

    nonce = subparsers.add_parser(
        "rotate-nonce",
        help="rotate the redaction key (the seed's 'nonce'); same as rotate-secret redaction-key",
        description=description.format(grace=_GRACE[Secret.REDACTION_KEY.value]),
    )
    _common_options(nonce)
    nonce.set_defaults(func=run_nonce)


def _common_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--value", metavar="HEX", help="the new value (64 hex characters)")
    parser.add_argument(
        "--retire-only",
        action="store_true",
        help="write nothing new; only retire versions whose grace window is over (for cron)",
    )
    parser.add_argument("--json", action="store_true", help="print the result as JSON")
    add_stack_option(parser)


def run_nonce(args: argparse.Namespace) -> int:
    args.secret = Secret.REDACTION_KEY.value
    return run_secret(args)


def run_secret(args: argparse.Namespace) -> int:
    secret = Secret(args.secret)
    if args.retire_only and args.value:
        raise UsageError("--retire-only writes nothing: drop --value")
    backend = backend_from(args)
    try:
        now = backend.clock.now()
        if args.retire_only:
            result = retire_only(backend.secrets, secret, now=now)
        else:
            try:
                result = rotate(backend.secrets, secret, now=now, value=args.value)
            except InvalidSecretValue as error:
                raise UsageError(str(error)) from None
    finally:
        backend.close()
    if args.json:
        print(json.dumps(result.as_dict(), indent=2))
    else:
        verb = "rotated" if result.rotated else "unchanged (value already current)"
        print(f"{secret.value}: {verb}; current v{result.current_version}", end="")
        print(
            f", previous v{result.previous_version} valid for the grace window"
            if result.previous_version
            else "",
            end="",
        )
        print(f"; retired {', '.join('v' + v for v in result.retired)}" if result.retired else "")
    return EXIT_OK
