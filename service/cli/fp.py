"""`phase-mirror fp`: mark, list, measure, export and import false-positive events."""

from __future__ import annotations

import argparse
import json
import re
import sys
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from adapters.ports import FpEvent, Review
from service.oracle import fp as fp_logic

from .common import EXIT_OK, UsageError, backend_from


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "fp",
        help="review findings as false positives and measure false-positive rates",
        description=(
            "False-positive tracking. The oracle records every finding it acted on (warn or "
            "block) as an FP event keyed by the finding's fingerprint; marking a finding false "
            "positive suppresses it in later analyses of the same repository."
        ),
    )
    commands = parser.add_subparsers(dest="fp_command", metavar="ACTION", required=True)

    mark = commands.add_parser(
        "mark",
        help="mark a finding (fingerprint) or one FP event (event id) as a false positive",
        description=(
            "Mark ID as a false positive. ID is a finding fingerprint from a report (every "
            "pending event of that finding is marked) or an FP event id from `fp list`. "
            "Use --confirm to record that the finding was a true positive instead."
        ),
    )
    mark.add_argument("id", metavar="ID", help="finding fingerprint or FP event id")
    mark.add_argument("--reason", required=True, help="why (kept with the review)")
    mark.add_argument("--reviewer", required=True, help="who reviewed it")
    mark.add_argument(
        "--confirm", action="store_true", help="record a confirmed true positive instead"
    )
    mark.set_defaults(func=run_mark)

    listing = commands.add_parser(
        "list",
        help="list FP events, newest first",
        description="List FP events, newest first, optionally for one rule, finding or review state.",
    )
    listing.add_argument("--rule", help="only this rule, e.g. MD-003")
    listing.add_argument("--finding", metavar="FINGERPRINT", help="only this finding")
    listing.add_argument(
        "--review", choices=[r.value for r in Review], help="only this review state"
    )
    listing.add_argument("--limit", type=int, default=100, help="at most this many (default 100)")
    listing.add_argument("--json", action="store_true", help="JSON lines instead of a table")
    listing.set_defaults(func=run_list)

    stats = commands.add_parser(
        "stats",
        help="observed false-positive rate of a rule with a Wilson 95%% interval",
        description=(
            "Observed FPR = false positives / (total - pending) over the rule's last N events or "
            "those since a time, with a Wilson score 95%% confidence interval."
        ),
    )
    stats.add_argument("--rule", required=True, help="rule id, e.g. MD-002")
    window = stats.add_mutually_exclusive_group(required=True)
    window.add_argument("--last", type=int, metavar="N", help="the rule's last N events")
    window.add_argument(
        "--since", metavar="WHEN", help="events since: 7d, 24h, 30m or an ISO 8601 time"
    )
    stats.add_argument("--json", action="store_true", help="print JSON")
    stats.set_defaults(func=run_stats)

    export = commands.add_parser(
        "export",
        help="write every FP event as JSON lines",
        description="Write every FP event as one JSON object per line (oldest first).",
    )
    export.add_argument("--output", "-o", type=Path, help="file to write (default: stdout)")
    export.set_defaults(func=run_export)

    imp = commands.add_parser(
        "import",
        help="load FP events from JSON lines (existing event ids are skipped)",
        description=(
            "Load FP events written by `fp export`. Every line is validated first; an invalid "
            "line imports nothing. Events whose id already exists are skipped."
        ),
    )
    imp.add_argument("file", type=Path, metavar="FILE", help="JSON lines file ('-' for stdin)")
    imp.set_defaults(func=run_import)


def run_mark(args: argparse.Namespace) -> int:
    verdict = Review.CONFIRMED if args.confirm else Review.FALSE_POSITIVE
    backend = backend_from(args)
    try:
        result = fp_logic.mark(
            backend.fp_events,
            args.id,
            verdict,
            reviewer=args.reviewer,
            reason=args.reason,
            at=backend.clock.now(),
        )
    finally:
        backend.close()
    print(
        f"marked {len(result.marked)} event(s) of finding {result.finding_id} as {verdict.value}: "
        + ", ".join(result.marked)
    )
    return EXIT_OK


def run_list(args: argparse.Namespace) -> int:
    if args.limit < 1:
        raise UsageError("--limit must be at least 1")
    backend = backend_from(args)
    try:
        if args.finding:
            events = backend.fp_events.by_finding(args.finding)
        elif args.rule:
            events = backend.fp_events.window(args.rule)
        else:
            events = sorted(backend.fp_events.scan(), key=lambda e: e.timestamp, reverse=True)
    finally:
        backend.close()
    events = [
        e
        for e in events
        if (not args.rule or e.rule_id == args.rule)
        and (not args.review or e.review.value == args.review)
    ][: args.limit]
    if args.json:
        for event in events:
            print(json.dumps(fp_logic.to_json(event), sort_keys=True))
        return EXIT_OK
    if not events:
        print("no FP events", file=sys.stderr)
        return EXIT_OK
    print(
        f"{'EVENT ID':32}  {'RULE':7}  {'DECISION':8}  {'REVIEW':14}  {'WHEN (UTC)':19}  FINDING / PATH"
    )
    for event in events:
        print(_row(event))
    return EXIT_OK


def _row(event: FpEvent) -> str:
    when = event.timestamp.strftime("%Y-%m-%d %H:%M:%S")
    where = event.context.get("path", "")
    return (
        f"{event.event_id:32}  {event.rule_id:7}  {event.decision:8}  {event.review.value:14}  "
        f"{when:19}  {event.finding_id} {where}"
    )


def run_stats(args: argparse.Namespace) -> int:
    if args.last is not None and args.last < 1:
        raise UsageError("--last must be at least 1")
    backend = backend_from(args)
    try:
        since = parse_since(args.since, backend.clock.now()) if args.since else None
        rate = fp_logic.rate(backend.fp_events, args.rule, last=args.last, since=since)
    finally:
        backend.close()
    if args.json:
        print(
            json.dumps(
                {
                    **rate.as_dict(),
                    "window": {"last": args.last, "since": since.isoformat() if since else None},
                },
                indent=2,
            )
        )
        return EXIT_OK
    window = f"last {args.last} events" if args.last else f"since {since:%Y-%m-%d %H:%M} UTC"
    print(
        f"{args.rule} ({window}): {rate.total} events, {rate.false_positives} false positive, {rate.confirmed} confirmed, {rate.pending} pending"
    )
    interval = rate.wilson()
    if rate.fpr is None or interval is None:
        print("observed FPR: n/a (no reviewed events)")
    else:
        print(
            f"observed FPR: {rate.fpr:.3f} (95% Wilson interval {interval[0]:.3f}-{interval[1]:.3f}, n={rate.reviewed})"
        )
    return EXIT_OK


_RELATIVE = re.compile(r"^(\d+)([dhm])$")


def parse_since(value: str, now: datetime) -> datetime:
    match = _RELATIVE.match(value.strip())
    if match:
        amount, unit = int(match.group(1)), match.group(2)
        delta = {
            "d": timedelta(days=amount),
            "h": timedelta(hours=amount),
            "m": timedelta(minutes=amount),
        }[unit]
        return now - delta
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise UsageError(
            f"--since {value!r}: use 7d, 24h, 30m or an ISO 8601 time such as 2026-01-31T00:00:00+00:00"
        ) from None
    if moment.tzinfo is None:
        raise UsageError(f"--since {value!r} has no timezone; add +00:00 for UTC")
    return moment


def run_export(args: argparse.Namespace) -> int:
    backend = backend_from(args)
    try:
        lines = list(fp_logic.export_lines(backend.fp_events))
    finally:
        backend.close()
    text = "".join(line + "\n" for line in lines)
    if args.output is None:
        sys.stdout.write(text)
    else:
        try:
            args.output.write_text(text, encoding="utf-8")
        except OSError as error:
            raise UsageError(f"cannot write {args.output}: {error.strerror}") from None
    print(f"exported {len(lines)} FP event(s)", file=sys.stderr)
    return EXIT_OK


def run_import(args: argparse.Namespace) -> int:
    if str(args.file) == "-":
        lines = sys.stdin.read().splitlines()
    else:
        try:
            lines = args.file.read_text(encoding="utf-8").splitlines()
        except OSError as error:
            raise UsageError(f"cannot read {args.file}: {error.strerror}") from None
    backend = backend_from(args)
    try:
        imported, skipped = fp_logic.import_lines(backend.fp_events, lines)
    except fp_logic.FpImportError as error:
        raise UsageError(f"{args.file}: {error}") from None
    finally:
        backend.close()
    print(f"imported {imported} FP event(s), skipped {skipped} already present")
    return EXIT_OK
