"""`phase-mirror l0`: check L0 invariant states, and show the policy in force."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from service.oracle import l0
from service.oracle.engine import l0_policy
from service.oracle.report_schema import PINNED_SCHEMA_HASH, SCHEMA_HASH_HEX

from .analyze import load_inputs
from .common import EXIT_FAIL, EXIT_OK, UsageError


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "l0",
        help="check L0 invariant states (schema hash, permission bits, drift, key freshness, FPR witness)",
        description=(
            "L0 invariants are the checks nothing can soften: the report schema hash, reserved "
            "permission bits (0xF000 must be clear), drift within the hard ceiling, redaction-key "
            "length and age, and a witness of at least N reviewed events for any claimed FPR "
            "decrease. `analyze` runs them on every analysis; this command checks states you "
            "give it (e.g. a calibration claim) with the same code."
        ),
    )
    actions = parser.add_subparsers(dest="l0_command", metavar="ACTION", required=True)
    check = actions.add_parser(
        "check",
        help="check one state (JSON object) or many (JSON array or JSON lines)",
        description=(
            "Read L0 states from FILE ('-' for stdin): fields schema_hash (hex), permission_bits, "
            "drift_magnitude, key_bytes, key_age_seconds, fpr_before, fpr_after, "
            "reviewed_events. Prints each violation; exit 1 if any state violates an invariant."
        ),
    )
    check.add_argument("file", type=Path, metavar="FILE")
    check.add_argument(
        "--config", type=Path, metavar="FILE", help="oracle config whose thresholds set the policy"
    )
    check.set_defaults(func=run_check)
    show = actions.add_parser(
        "show",
        help="print the L0 policy in force",
        description="Print the L0 policy and the report schema hash.",
    )
    show.add_argument(
        "--config", type=Path, metavar="FILE", help="oracle config whose thresholds set the policy"
    )
    show.set_defaults(func=run_show)


def _policy(args: argparse.Namespace) -> l0.L0Policy:
    args.path = "."
    args.context = None
    _, config, _ = load_inputs(args)
    return l0_policy(config)


def _states(text: str) -> list[l0.L0State]:
    stripped = text.strip()
    try:
        if stripped.startswith("["):
            raw = json.loads(stripped)
        elif "\n" in stripped:
            raw = [json.loads(line) for line in stripped.splitlines() if line.strip()]
        else:
            raw = [json.loads(stripped)]
    except json.JSONDecodeError as error:
        raise UsageError(f"L0 states are not JSON: {error.msg} (line {error.lineno})") from None
    states = []
    for index, item in enumerate(raw if isinstance(raw, list) else [raw], start=1):
        try:
            states.append(l0.state_from_json(item))
        except ValueError as error:
            raise UsageError(f"state {index}: {error}") from None
    return states


def run_check(args: argparse.Namespace) -> int:
    policy = _policy(args)
    try:
        text = sys.stdin.read() if str(args.file) == "-" else args.file.read_text(encoding="utf-8")
    except OSError as error:
        raise UsageError(f"cannot read {args.file}: {error.strerror}") from None
    states = _states(text)
    failed = 0
    for index, (state, bits) in enumerate(
        zip(states, l0.check_batch(states, policy), strict=True), start=1
    ):
        if bits:
            failed += 1
            for violation in l0.describe(bits, state, policy):
                print(f"state {index}: VIOLATION {violation.invariant}: {violation.detail}")
    print(f"{len(states) - failed} of {len(states)} state(s) hold every L0 invariant")
    return EXIT_FAIL if failed else EXIT_OK


def run_show(args: argparse.Namespace) -> int:
    policy = _policy(args)
    print(
        json.dumps(
            {
                "schema_hash": f"{policy.schema_hash:016x}",
                "running_schema_hash": SCHEMA_HASH_HEX,
                "schema_hash_matches": int(SCHEMA_HASH_HEX, 16) == PINNED_SCHEMA_HASH,
                "reserved_permission_mask": f"0x{l0.RESERVED_PERMISSION_MASK:04x}",
                "drift_ceiling": policy.drift_ceiling,
                "min_key_bytes": policy.min_key_bytes,
                "max_key_age_days": policy.max_key_age_seconds / 86400,
                "min_witness_events": policy.min_witness_events,
            },
            indent=2,
        )
    )
    return EXIT_OK
