"""FP event store over a table: conditional create, windows, reviews, stats."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Any

from ..errors import Conflict, NotFound
from ..ports import FpEvent, FpStats, Review
from ..table import Item, Table
from ._codec import from_ms, opt_from_ms, to_ms

_MAX_TS = 2**53
_REVIEWS = {review.value: review for review in Review}


class TableFpEventStore:
    def __init__(self, table: Table) -> None:
        self._table = table

    def record(self, event: FpEvent) -> None:
        try:
            self._table.put(_encode(event), if_absent=True)
        except Conflict:
            raise Conflict(
                "FP event already recorded", store=self._table.spec.name, key=event.event_id
            ) from None

    def get(self, event_id: str) -> FpEvent:
        item = self._table.get({"eventid": event_id})
        if item is None:
            raise NotFound("no such FP event", store=self._table.spec.name, key=event_id)
        return _decode(item)

    def review(
        self, event_id: str, verdict: Review, *, reviewer: str, reason: str, at: datetime
    ) -> FpEvent:
        changes = {
            "review": verdict.value,
            "reviewer": reviewer,
            "reason": reason,
            "reviewedat": to_ms(at),
        }
        try:
            return _decode(self._table.update({"eventid": event_id}, changes))
        except NotFound:
            raise NotFound("no such FP event", store=self._table.spec.name, key=event_id) from None

    def window(
        self, rule_id: str, *, last: int | None = None, since: datetime | None = None
    ) -> list[FpEvent]:
        low = 0 if since is None else to_ms(since)
        items = self._table.query(
            rule_id, index="by-rule", range_between=(low, _MAX_TS), descending=True, limit=last
        )
        return [_decode(item) for item in items]

    def by_finding(self, finding_id: str) -> list[FpEvent]:
        return [
            _decode(i) for i in self._table.query(finding_id, index="by-finding", descending=True)
        ]

    def is_false_positive(self, finding_id: str) -> bool:
        return any(event.review is Review.FALSE_POSITIVE for event in self.by_finding(finding_id))

    def stats(
        self, rule_id: str, *, last: int | None = None, since: datetime | None = None
    ) -> FpStats:
        events = self.window(rule_id, last=last, since=since)
        by_review = {review: 0 for review in Review}
        for event in events:
            by_review[event.review] += 1
        return FpStats(
            rule_id=rule_id,
            total=len(events),
            false_positives=by_review[Review.FALSE_POSITIVE],
            confirmed=by_review[Review.CONFIRMED],
            pending=by_review[Review.PENDING],
        )

    def scan(self) -> Iterator[FpEvent]:
        return (_decode(item) for item in self._table.scan())


def _encode(event: FpEvent) -> Item:
    item: dict[str, Any] = {
        "eventid": event.event_id,
        "ruleid": event.rule_id,
        "ruleversion": event.rule_version,
        "findingid": event.finding_id,
        "repo": event.repo,
        "decision": event.decision,
        "ts": to_ms(event.timestamp),
        "review": event.review.value,
        "context": dict(event.context),
    }
    if event.reviewer is not None:
        item["reviewer"] = event.reviewer
    if event.reason is not None:
        item["reason"] = event.reason
    if event.reviewed_at is not None:
        item["reviewedat"] = to_ms(event.reviewed_at)
    return item


def _decode(item: Item) -> FpEvent:
    return FpEvent(
        event_id=item["eventid"],
        rule_id=item["ruleid"],
        rule_version=item["ruleversion"],
        finding_id=item["findingid"],
        repo=item["repo"],
        decision=item["decision"],
        timestamp=from_ms(item["ts"]),
        review=_REVIEWS[item.get("review", "pending")],
        reviewer=item.get("reviewer"),
        reason=item.get("reason"),
        reviewed_at=opt_from_ms(item.get("reviewedat")),
        context=item.get("context") or {},
    )
