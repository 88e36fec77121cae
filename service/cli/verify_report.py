"""`phase-mirror verify-report`: check a report's redaction brand and MAC."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from service.oracle.integrity import SealError, verify_document, verify_text
from service.oracle.keys import RedactionKeyUnavailable, load_keyring

from .common import EXIT_DEGRADED, EXIT_FAIL, EXIT_OK, UsageError, backend_from


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "verify-report",
        help="verify the brand and MAC of a report (json, sarif, text, github, drift)",
        description=(
            "Recompute the HMAC-SHA256 of a report's redacted content and compare it, in constant "
            "time, with the MAC it carries. The current redaction key and, within the rotation "
            "grace window, the previous one are accepted. Exit 0 valid, 1 altered, unsealed or "
            "sealed with a retired key, 2 when the redaction key cannot be read."
        ),
    )
    parser.add_argument("file", type=Path, metavar="FILE", help="report file ('-' for stdin)")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    try:
        text = sys.stdin.read() if str(args.file) == "-" else args.file.read_text(encoding="utf-8")
    except OSError as error:
        raise UsageError(f"cannot read {args.file}: {error.strerror}") from None
    except UnicodeDecodeError:
        raise UsageError(f"{args.file} is not UTF-8 text") from None
    backend = backend_from(args)
    try:
        try:
            keyring = load_keyring(backend.secrets, backend.metrics, now=backend.clock.now())
        except RedactionKeyUnavailable as error:
            print(f"phase-mirror: cannot verify: {error}", file=sys.stderr)
            return EXIT_DEGRADED
    finally:
        backend.close()
    try:
        document = json.loads(text) if text.lstrip().startswith("{") else None
        if isinstance(document, dict):
            verified = verify_document(document, keyring)
        else:
            verified = verify_text(text, keyring)
    except (SealError, json.JSONDecodeError) as error:
        print(f"INVALID: {args.file}: {error}")
        return EXIT_FAIL
    print(
        f"valid: {args.file}: MAC verified with redaction key version {verified.key_version} ({verified.which})"
    )
    return EXIT_OK
