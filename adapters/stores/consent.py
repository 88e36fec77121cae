"""Consent store over a table.

Layout under hash key `orgid`: `state#{scope}` holds the current record of each scope, and
`history#{ms:013d}#{seq}` an append-only log. Current state and history are separate items so
reading the effective consent is one query with a prefix, not a scan of the history.
"""

from __future__ import annotations

import secrets
from datetime import datetime

from ..ports import ORG_SCOPE, ConsentRecord, ConsentState
from ..table import Item, Table
from ._codec import from_ms, opt_from_ms, to_ms

_STATE = "state#"
_HISTORY = "history#"


class TableConsentStore:
    def __init__(self, table: Table) -> None:
        self._table = table

    def grant(
        self,
        org_id: str,
        *,
        scope: str = ORG_SCOPE,
        actor: str,
        at: datetime,
        expires_at: datetime | None = None,
    ) -> ConsentRecord:
        record = ConsentRecord(
            org_id, _check_scope(scope), ConsentState.GRANTED, actor, at, expires_at
        )
        self._write(record)
        return record

    def revoke(
        self, org_id: str, *, scope: str = ORG_SCOPE, actor: str, at: datetime
    ) -> ConsentRecord:
        record = ConsentRecord(org_id, _check_scope(scope), ConsentState.REVOKED, actor, at)
        self._write(record)
        return record

    def check(self, org_id: str, *, repo: str | None = None, at: datetime) -> ConsentRecord:
        states = {r.scope: r for r in map(_decode, self._table.query(org_id, range_prefix=_STATE))}
        org = states.get(ORG_SCOPE)
        if org is not None and org.state is ConsentState.REVOKED:
            return org
        chosen = states.get(f"repo:{repo}") if repo else None
        chosen = chosen or org
        if chosen is None:
            return ConsentRecord(org_id, ORG_SCOPE, ConsentState.NONE, "", at)
        if (
            chosen.state is ConsentState.GRANTED
            and chosen.expires_at is not None
            and chosen.expires_at <= at
        ):
            return ConsentRecord(
                org_id,
                chosen.scope,
                ConsentState.EXPIRED,
                chosen.actor,
                chosen.at,
                chosen.expires_at,
            )
        return chosen

    def history(self, org_id: str) -> list[ConsentRecord]:
        return [_decode(item) for item in self._table.query(org_id, range_prefix=_HISTORY)]

    def _write(self, record: ConsentRecord) -> None:
        item = _encode(record)
        # History first: if the state write then fails, the log still shows the attempt, and a
        # retry converges; the reverse order could change consent with no trace of it.
        sequence = f"{to_ms(record.at):013d}#{secrets.token_hex(4)}"
        self._table.put({**item, "sk": _HISTORY + sequence})
        self._table.put({**item, "sk": _STATE + record.scope})


def _check_scope(scope: str) -> str:
    if scope == ORG_SCOPE or (scope.startswith("repo:") and "/" in scope):
        return scope
    raise ValueError(f"invalid consent scope {scope!r}: use 'org' or 'repo:owner/name'")


def _encode(record: ConsentRecord) -> Item:
    item: Item = {
        "orgid": record.org_id,
        "scope": record.scope,
        "state": record.state.value,
        "actor": record.actor,
        "at": to_ms(record.at),
    }
    if record.expires_at is not None:
        item["expiresat"] = to_ms(record.expires_at)
    return item


def _decode(item: Item) -> ConsentRecord:
    return ConsentRecord(
        org_id=item["orgid"],
        scope=item["scope"],
        state=ConsentState(item["state"]),
        actor=item["actor"],
        at=from_ms(item["at"]),
        expires_at=opt_from_ms(item.get("expiresat")),
    )
