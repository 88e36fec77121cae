"""`phase-mirror consent grant|revoke|show --org ORG`: an org's calibration consent."""

from __future__ import annotations

import argparse
import json
from datetime import UTC, datetime, timedelta
from typing import Any

from service.calibration.consent import decide, record_as_json, scope_from

from .common import EXIT_OK, UsageError, backend_from


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "consent",
        help="grant, revoke or show an org's consent to calibration data collection",
        description=(
            "Submission through a certified implementation is implicit consent unless the org "
            "revokes it. A revocation makes the API refuse the org's events (403 "
            "CONSENT_REVOKED) and the anonymizer skip its stored ones."
        ),
    )
    actions = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    for name, help_text in (
        ("grant", "record explicit consent"),
        ("revoke", "revoke consent"),
        ("show", "show the effective consent and its history"),
    ):
        action = actions.add_parser(name, help=help_text)
        action.add_argument("--org", required=True, help="the org id")
        action.add_argument("--repo", help="owner/name: repository scope instead of the whole org")
        if name != "show":
            action.add_argument("--actor", default="cli", help="who made the change (audit)")
        if name == "grant":
            action.add_argument(
                "--expires-in-days", type=int, help="the grant lapses after this many days"
            )
        action.add_argument("--json", action="store_true", help="print JSON")
        action.set_defaults(func=run, consent_action=name)


def run(args: argparse.Namespace) -> int:
    org = args.org.strip()
    if not org or len(org) > 128:
        raise UsageError("--org must be 1-128 characters")
    try:
        scope = scope_from(args.repo)
    except ValueError as error:
        raise UsageError(f"--repo: {error}") from None
    backend = backend_from(args)
    try:
        now = backend.clock.now()
        if args.consent_action == "grant":
            expires = None
            if args.expires_in_days is not None:
                if args.expires_in_days < 1:
                    raise UsageError("--expires-in-days must be at least 1")
                expires = now + timedelta(days=args.expires_in_days)
            backend.consent.grant(org, scope=scope, actor=args.actor, at=now, expires_at=expires)
        elif args.consent_action == "revoke":
            backend.consent.revoke(org, scope=scope, actor=args.actor, at=now)
        repo = args.repo.removeprefix("repo:") if args.repo else None
        decision = decide(backend.consent, org, repo=repo, at=now)
        history = backend.consent.history(org)
    finally:
        backend.close()
    if args.json:
        print(
            json.dumps(
                {
                    "orgid": org,
                    "basis": decision.basis,
                    "effective": record_as_json(decision.record),
                    "history": [record_as_json(r) for r in history],
                },
                indent=2,
            )
        )
        return EXIT_OK
    print(f"org {org}: {decision.basis}" + (f" (repo {repo})" if repo else ""))
    for record in history:
        expiry = f", expires {_iso(record.expires_at)}" if record.expires_at else ""
        print(
            f"  {_iso(record.at)}  {record.state.value:<8} {record.scope} by {record.actor}{expiry}"
        )
    if not history:
        print("  no explicit consent records (implicit consent through certified implementations)")
    return EXIT_OK


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
