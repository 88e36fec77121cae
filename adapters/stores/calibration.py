"""Calibration aggregates and raw ingested events over tables."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from datetime import date

from ..errors import Conflict, NotFound
from ..ports import Aggregate, AggregateKey, RawEvent
from ..table import Item, Table
from ._codec import b64, from_ms, to_ms, unb64

_SEEN = "seen#"
_AGG = "agg#"


class TableCalibrationStore:
    """Layout under `rulekey = rule#version`: `agg#{outcome}#{day}#{org}` holds counters;
    `seen#{eventid}` markers make contributions idempotent. The marker is written first, so a
    crash between the two writes under-counts one event rather than double-counting it."""

    def __init__(self, table: Table) -> None:
        self._table = table

    def contribute(self, key: AggregateKey, counts: Mapping[str, int], *, event_id: str) -> bool:
        rulekey = _rulekey(key.rule_id, key.rule_version)
        try:
            self._table.put({"rulekey": rulekey, "sk": _SEEN + event_id}, if_absent=True)
        except Conflict:
            return False
        sk = f"{_AGG}{key.outcome}#{key.day.isoformat()}#{key.org_pseudonym}"
        self._table.add({"rulekey": rulekey, "sk": sk}, {f"n_{k}": v for k, v in counts.items()})
        return True

    def query(
        self, rule_id: str, rule_version: str, outcome: str, *, start: date, end: date
    ) -> list[Aggregate]:
        prefix = f"{_AGG}{outcome}#"
        items = self._table.query(
            _rulekey(rule_id, rule_version),
            range_between=(f"{prefix}{start.isoformat()}", f"{prefix}{end.isoformat()}#\uffff"),
        )
        result = []
        for item in items:
            _, _, day, org = str(item["sk"]).split("#", 3)
            counts = {k[2:]: int(v) for k, v in item.items() if k.startswith("n_")}
            key = AggregateKey(rule_id, rule_version, outcome, date.fromisoformat(day), org)
            result.append(Aggregate(key, counts))
        return result


def _rulekey(rule_id: str, rule_version: str) -> str:
    return f"{rule_id}#{rule_version}"


class TableRawEventStore:
    def __init__(self, table: Table) -> None:
        self._table = table

    def put(self, event: RawEvent) -> None:
        try:
            self._table.put(_encode(event), if_absent=True)
        except Conflict:
            raise Conflict(
                "event already stored", store=self._table.spec.name, key=event.event_id
            ) from None

    def get(self, event_id: str) -> RawEvent:
        item = self._table.get({"eventid": event_id})
        if item is None:
            raise NotFound("no such event", store=self._table.spec.name, key=event_id)
        return _decode(item)

    def scan(self) -> Iterator[RawEvent]:
        return (_decode(item) for item in self._table.scan())


def _encode(event: RawEvent) -> Item:
    return {
        "eventid": event.event_id,
        "orgid_encrypted": b64(event.org_id_encrypted),
        "claim_encrypted": b64(event.claim_encrypted),
        "ruleid": event.rule_id,
        "ruleversion": event.rule_version,
        "outcome": event.outcome,
        "actual_outcome": event.actual_outcome,
        "confidence": event.confidence,
        "timestamp": to_ms(event.timestamp),
        "environment": event.environment,
        "consent_basis": event.consent_basis,
        "stored_at": to_ms(event.stored_at),
        "ttl": int(event.expires_at.timestamp()),
    }


def _decode(item: Item) -> RawEvent:
    return RawEvent(
        event_id=item["eventid"],
        org_id_encrypted=unb64(item["orgid_encrypted"]),
        claim_encrypted=unb64(item["claim_encrypted"]),
        rule_id=item["ruleid"],
        rule_version=item["ruleversion"],
        outcome=item["outcome"],
        actual_outcome=item["actual_outcome"],
        confidence=float(item["confidence"]),
        timestamp=from_ms(item["timestamp"]),
        environment=item["environment"],
        consent_basis=item["consent_basis"],
        stored_at=from_ms(item["stored_at"]),
        expires_at=from_ms(int(item["ttl"]) * 1000),
    )
