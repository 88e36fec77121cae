"""The anonymizer job: raw events -> daily aggregates per (rule, version, outcome, UTC day,
pseudonymous org) in the calibration store.

Idempotent: the calibration store counts each event id at most once, so re-running over the same
events (or after a crash half-way) changes nothing. Events of orgs that revoked consent since they
were ingested are skipped. The org id is decrypted only in memory, to compute the HMAC pseudonym.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime

from adapters.backend import Backend
from adapters.clock import utc_day
from adapters.errors import IntegrityError
from adapters.ports import AggregateKey

from .anonymizer import Pseudonymizer
from .consent import decide
from .schema import ActualOutcome

#: counts field per actual outcome (plus "events" for every event).
COUNT_FIELDS = {
    ActualOutcome.FALSE_POSITIVE.value: "fp",
    ActualOutcome.FALSE_NEGATIVE.value: "fn",
    ActualOutcome.CORRECT.value: "correct",
}


@dataclass
class RunReport:
    salt_version: str = ""
    scanned: int = 0
    contributed: int = 0
    already_counted: int = 0
    skipped_revoked: int = 0
    unreadable: int = 0
    unreadable_ids: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, object]:
        return {
            "salt_version": self.salt_version,
            "scanned": self.scanned,
            "contributed": self.contributed,
            "already_counted": self.already_counted,
            "skipped_revoked": self.skipped_revoked,
            "unreadable": self.unreadable,
        }


Progress = Callable[[RunReport], None]


def run_anonymizer(
    backend: Backend,
    pseudonyms: Pseudonymizer,
    *,
    progress: Progress | None = None,
    progress_every: int = 1000,
) -> RunReport:
    report = RunReport(salt_version=pseudonyms.current().version)
    now = backend.clock.now()
    consent_cache: dict[str, bool] = {}
    for event in backend.raw_events.scan():
        report.scanned += 1
        aad = event.event_id.encode("ascii")
        try:
            org = backend.keys.decrypt(event.org_id_encrypted, aad).decode("utf-8")
        except (IntegrityError, UnicodeDecodeError):
            report.unreadable += 1
            if len(report.unreadable_ids) < 20:
                report.unreadable_ids.append(event.event_id)
            continue
        if org not in consent_cache:
            decision = decide(backend.consent, org, repo=None, at=now)
            consent_cache[org] = decision.basis != "revoked"
        if not consent_cache[org]:
            report.skipped_revoked += 1
            continue
        key = AggregateKey(
            rule_id=event.rule_id,
            rule_version=event.rule_version,
            outcome=event.outcome,
            day=_day(event.timestamp),
            org_pseudonym=pseudonyms.pseudonym(org),
        )
        counts = {"events": 1}
        if event.actual_outcome in COUNT_FIELDS:
            counts[COUNT_FIELDS[event.actual_outcome]] = 1
        if backend.calibration.contribute(key, counts, event_id=event.event_id):
            report.contributed += 1
        else:
            report.already_counted += 1
        if progress is not None and report.scanned % progress_every == 0:
            progress(report)
    if progress is not None:
        progress(report)
    return report


def _day(moment: datetime) -> date:
    return date.fromisoformat(utc_day(moment))
