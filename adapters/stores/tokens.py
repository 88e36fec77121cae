"""Single-use tokens and the dedup index over a table."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta

from ..errors import Conflict, NotFound
from ..table import Table
from ._codec import from_ms, to_ms, ttl_at


class TableTokenStore:
    def __init__(self, table: Table) -> None:
        self._table = table

    def issue(
        self, token_hash: str, payload: Mapping[str, str], *, ttl: timedelta, at: datetime
    ) -> datetime:
        expires = ttl_at(at, ttl)
        item = {
            "tokenhash": token_hash,
            "payload": dict(payload),
            "issuedat": to_ms(at),
            "ttl": expires,
        }
        self._table.put(item, if_absent=True)
        return from_ms(expires * 1000)

    def consume(self, token_hash: str) -> dict[str, str]:
        try:
            item = self._table.take({"tokenhash": token_hash})
        except NotFound:
            raise NotFound(
                "token unknown, expired or already used",
                store=self._table.spec.name,
                key=token_hash[:12],
            ) from None
        return {str(k): str(v) for k, v in (item.get("payload") or {}).items()}


class TableDedupIndex:
    def __init__(self, table: Table) -> None:
        self._table = table

    def claim(self, key: str, value: str, *, ttl: timedelta, at: datetime) -> str | None:
        item = {"dedupkey": key, "value": value, "ttl": ttl_at(at, ttl)}
        try:
            self._table.put(item, if_absent=True)
        except Conflict:
            prior = self._table.get({"dedupkey": key})
            if prior is None:  # expired between the two calls: try once more
                return self.claim(key, value, ttl=ttl, at=at)
            return str(prior["value"])
        return None

    def release(self, key: str) -> None:
        self._table.delete({"dedupkey": key})
