"""Block counter and rate limiter over a table: atomic adds in fixed UTC windows."""

from __future__ import annotations

from contextlib import suppress
from datetime import UTC, datetime, timedelta

from ..clock import utc_hour_bucket
from ..errors import Conflict
from ..ports import RateDecision
from ..table import Table

_HOUR = timedelta(hours=1)


class TableBlockCounter:
    def __init__(self, table: Table) -> None:
        self._table = table

    def increment(self, rule_id: str, repo: str, *, at: datetime) -> int:
        ttl = self._table.spec.default_ttl or _HOUR
        hour_start = at.astimezone(UTC).replace(minute=0, second=0, microsecond=0)
        item = self._table.add(
            {"bucket": _bucket(rule_id, repo, at)},
            {"count": 1},
            expires_at=(hour_start + ttl).timestamp(),
        )
        return int(item["count"])

    def count(self, rule_id: str, repo: str, *, at: datetime) -> int:
        item = self._table.get({"bucket": _bucket(rule_id, repo, at)})
        return 0 if item is None else int(item["count"])


def _bucket(rule_id: str, repo: str, at: datetime) -> str:
    return f"{rule_id}#{repo}#{utc_hour_bucket(at)}"


class TableRateLimiter:
    def __init__(self, table: Table) -> None:
        self._table = table

    def hit(
        self, key: str, *, limit: int, window: timedelta, at: datetime, cost: int = 1
    ) -> RateDecision:
        start, end = _window(at, window)
        counter = {"limitkey": f"{key}#{int(start)}"}
        try:
            item = self._table.add(
                counter, {"count": cost}, expires_at=end + 60, limit=("count", limit)
            )
        except Conflict:
            current = self._table.get(counter)
            count = 0 if current is None else int(current["count"])
            return RateDecision(False, count, limit, max(end - at.timestamp(), 0.0))
        return RateDecision(True, int(item["count"]), limit, 0.0)

    def admit_member(
        self, key: str, member: str, *, limit: int, window: timedelta, at: datetime
    ) -> RateDecision:
        start, end = _window(at, window)
        counter = {"limitkey": f"{key}#{int(start)}"}
        membership = {"limitkey": f"{key}#{int(start)}#m#{member}"}
        if self._table.get(membership) is not None:
            current = self._table.get(counter)
            return RateDecision(True, 0 if current is None else int(current["count"]), limit, 0.0)
        decision = self.hit(key, limit=limit, window=window, at=at)
        if decision.allowed:
            # A racing request may have admitted the same member: then it is counted twice,
            # which errs on the safe side (fewer distinct members admitted, never more).
            with suppress(Conflict):
                self._table.put({**membership, "ttl": int(end + 60)}, if_absent=True)
        return decision


def _window(at: datetime, window: timedelta) -> tuple[float, float]:
    seconds = window.total_seconds()
    if seconds <= 0:
        raise ValueError("rate-limit window must be positive")
    start = (at.timestamp() // seconds) * seconds
    return start, start + seconds
