"""Item encoding helpers shared by the table-backed stores."""

from __future__ import annotations

import base64
from datetime import UTC, datetime, timedelta
from typing import Any


def to_ms(moment: datetime) -> int:
    if moment.tzinfo is None:
        raise ValueError("naive datetime: stores need timezone-aware UTC times")
    return int(moment.timestamp() * 1000)


def from_ms(ms: Any) -> datetime:
    return datetime.fromtimestamp(int(ms) / 1000, UTC)


def opt_from_ms(ms: Any) -> datetime | None:
    return None if ms is None else from_ms(ms)


def ttl_at(moment: datetime, ttl: timedelta) -> int:
    """Epoch seconds of expiry, rounded up so an item never expires early."""
    return int((moment + ttl).timestamp()) + 1


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def unb64(text: str) -> bytes:
    return base64.b64decode(text.encode("ascii"))
