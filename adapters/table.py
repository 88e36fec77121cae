"""The table driver: the small key-value contract each backend implements once.

Every table-shaped port (FP events, consent, counters, tokens, dedup, rate limits, calibration,
raw events, API keys) is written once in `adapters/stores/` on top of this contract, so the three
backends cannot drift apart in behaviour; a backend only maps these operations onto SQLite,
DynamoDB or Firestore. Modelled on gocloud.dev's docstore driver.

Items are flat JSON-compatible dicts that contain their key attributes. An item whose
`catalog.TTL_ATTRIBUTE` (epoch seconds) is at or before the driver clock's `now` is *expired*:
reads never return it and conditional writes treat it as absent, whether or not the backend has
physically deleted it yet (DynamoDB and Firestore delete lazily).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any, Protocol

from .catalog import TTL_ATTRIBUTE, StoreSpec

Item = dict[str, Any]
Key = Mapping[str, Any]


class Table(Protocol):
    spec: StoreSpec

    def get(self, key: Key) -> Item | None:
        """The item with this key, or None if absent or expired. Strongly consistent."""
        ...

    def put(self, item: Item, *, if_absent: bool = False) -> None:
        """Write the whole item. With `if_absent`, raise `Conflict` if a live item has the key."""
        ...

    def add(
        self,
        key: Key,
        deltas: Mapping[str, int],
        *,
        expires_at: float | None = None,
        limit: tuple[str, int] | None = None,
    ) -> Item:
        """Atomically add integer deltas to fields (missing fields count as 0) and return the item.

        Creates the item if absent or expired (then `expires_at`, if given, becomes its TTL).
        With `limit=(field, maximum)`, the whole update is refused with `Conflict` when it would
        take `field` above `maximum`; nothing is written in that case.
        """
        ...

    def update(self, key: Key, changes: Mapping[str, Any]) -> Item:
        """Set fields on a live item and return it; `NotFound` if absent or expired."""
        ...

    def take(self, key: Key) -> Item:
        """Atomically delete a live item and return it: of concurrent callers exactly one wins.

        `NotFound` if the item is absent, expired or already taken.
        """
        ...

    def delete(self, key: Key) -> None:
        """Delete the item if present (no error if absent)."""
        ...

    def query(
        self,
        hash_value: Any,
        *,
        index: str | None = None,
        range_between: tuple[Any, Any] | None = None,
        range_prefix: str | None = None,
        descending: bool = False,
        limit: int | None = None,
    ) -> list[Item]:
        """Live items whose hash attribute (of the table or of `index`) equals `hash_value`.

        Ordered by the range attribute; `range_between` is inclusive; pagination is followed
        until `limit` items are collected (or all of them when `limit` is None).
        """
        ...

    def scan(self) -> Iterator[Item]:
        """Every live item, in no particular order, page by page."""
        ...


def is_expired(item: Mapping[str, Any], now: float) -> bool:
    expires = item.get(TTL_ATTRIBUTE)
    return expires is not None and float(expires) <= now


def key_of(spec: StoreSpec, item: Mapping[str, Any]) -> dict[str, Any]:
    """The key attributes of `item`, checked for presence."""
    try:
        return {attr.name: item[attr.name] for attr in spec.key_attrs}
    except KeyError as missing:
        from .errors import Misconfigured

        raise Misconfigured(f"item lacks key attribute {missing}", store=spec.name) from None


def range_matches(
    value: Any, range_between: tuple[Any, Any] | None, range_prefix: str | None
) -> bool:
    """Shared by drivers that filter ranges client-side (and by tests)."""
    if value is None:
        return range_between is None and range_prefix is None
    if range_prefix is not None and not str(value).startswith(range_prefix):
        return False
    if range_between is not None:
        low, high = range_between
        return bool(low <= value <= high)
    return True
