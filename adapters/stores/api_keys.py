"""API keys over a table: one item per key, by `keyhash` (the key's SHA-256, never the key)."""

from __future__ import annotations

from datetime import datetime

from ..errors import Conflict
from ..ports import ApiKey
from ..table import Item, Table
from ._codec import from_ms, opt_from_ms, to_ms


class TableApiKeyStore:
    def __init__(self, table: Table) -> None:
        self._table = table

    def add(self, key: ApiKey) -> ApiKey:
        item = _encode(key)
        try:
            self._table.put(item, if_absent=True)
        except Conflict:
            raise Conflict(
                "this key value is already registered", store=self._table.spec.name
            ) from None
        return _decode(item)

    def get(self, key_hash: str) -> ApiKey | None:
        item = self._table.get({"keyhash": key_hash})
        return None if item is None else _decode(item)

    def list(self) -> list[ApiKey]:
        return sorted((_decode(i) for i in self._table.scan()), key=lambda k: k.created_at)

    def revoke(self, key_hash: str, *, at: datetime) -> ApiKey:
        return _decode(self._table.update({"keyhash": key_hash}, {"revokedat": to_ms(at)}))


def _encode(key: ApiKey) -> Item:
    item: Item = {
        "keyhash": key.key_hash,
        "keyid": key.key_id,
        "name": key.name,
        "org": key.org,
        "restrict": key.restrict_org,
        "createdat": to_ms(key.created_at),
    }
    if key.revoked_at is not None:
        item["revokedat"] = to_ms(key.revoked_at)
    return item


def _decode(item: Item) -> ApiKey:
    return ApiKey(
        key_hash=str(item["keyhash"]),
        key_id=str(item["keyid"]),
        name=str(item["name"]),
        org=str(item["org"]),
        created_at=from_ms(item["createdat"]),
        restrict_org=bool(item.get("restrict", False)),
        revoked_at=opt_from_ms(item.get("revokedat")),
    )
