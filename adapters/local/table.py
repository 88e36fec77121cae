"""The `Table` driver contract on SQLite.

One SQLite table per catalog store: the key attributes as columns `h`/`r`, each index's key
attributes as columns `x{n}h`/`x{n}r` (NULL when the item lacks them: a sparse index, as on
DynamoDB), the expiry as `exp` (epoch seconds, NULL = never) and the item as JSON.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator, Mapping
from typing import Any

from ..catalog import TTL_ATTRIBUTE, StoreSpec
from ..clock import Clock
from ..errors import Conflict, NotFound
from ..table import Item, Key, key_of
from .db import Database, map_error, mapped
from .group_commit import GroupCommitter

_PAGE = 500


def _dump(item: Mapping[str, Any]) -> str:
    return json.dumps(item, separators=(",", ":"), sort_keys=True)


def create_statements(spec: StoreSpec) -> list[str]:
    name = spec.name
    index_cols = "".join(f", x{n}h, x{n}r" for n in range(len(spec.indexes)))
    statements = [
        f"CREATE TABLE IF NOT EXISTS \"{name}\" (h NOT NULL, r NOT NULL DEFAULT '', "
        f"item TEXT NOT NULL, exp REAL{index_cols}, PRIMARY KEY (h, r)) WITHOUT ROWID"
    ]
    for n, index in enumerate(spec.indexes):
        statements.append(
            f'CREATE INDEX IF NOT EXISTS "{name}__{index.name}" ON "{name}" (x{n}h, x{n}r)'
        )
    if spec.default_ttl is not None:
        statements.append(f'CREATE INDEX IF NOT EXISTS "{name}__exp" ON "{name}" (exp)')
    return statements


class SqliteTable:
    def __init__(self, spec: StoreSpec, db: Database, clock: Clock) -> None:
        self.spec = spec
        self._db = db
        # Puts on the durable (synchronous=FULL) database share commits, hence syncs.
        self._group = GroupCommitter.of(db) if db.synchronous == "FULL" else None
        self._clock = clock
        self._name = f'"{spec.name}"'
        self._range = spec.range_key.name if spec.range_key else None
        cols = ["h", "r", "item", "exp"] + [
            c for n in range(len(spec.indexes)) for c in (f"x{n}h", f"x{n}r")
        ]
        self._select = f"SELECT item, exp FROM {self._name} WHERE h=? AND r=?"
        self._insert = (
            f"INSERT OR REPLACE INTO {self._name} ({', '.join(cols)}) "
            f"VALUES ({', '.join('?' * len(cols))})"
        )
        updates = ", ".join(f"{c}=excluded.{c}" for c in cols[2:])
        self._insert_if_absent = (
            f"INSERT INTO {self._name} ({', '.join(cols)}) VALUES ({', '.join('?' * len(cols))}) "
            f"ON CONFLICT(h, r) DO UPDATE SET {updates} "
            f"WHERE {self._name}.exp IS NOT NULL AND {self._name}.exp <= ?"
        )

    # -- helpers

    def _now(self) -> float:
        return self._clock.now().timestamp()

    def _hr(self, key: Key) -> tuple[Any, Any]:
        return key[self.spec.hash_key.name], key[self._range] if self._range else ""

    def _row(self, item: Mapping[str, Any]) -> list[Any]:
        key = key_of(self.spec, item)
        h, r = self._hr(key)
        exp = item.get(TTL_ATTRIBUTE)
        row: list[Any] = [h, r, _dump(item), None if exp is None else float(exp)]
        for index in self.spec.indexes:
            row.append(item.get(index.hash_key.name))
            row.append(item.get(index.range_key.name) if index.range_key else "")
        return row

    def _read(self, conn: Any, key: Key) -> Item | None:
        h, r = self._hr(key)
        row = conn.execute(self._select, (h, r)).fetchone()
        if row is None or (row[1] is not None and row[1] <= self._now()):
            return None
        item: Item = json.loads(row[0])
        return item

    # -- Table contract

    def get(self, key: Key) -> Item | None:
        try:  # the hottest read: a plain try costs less than the `mapped` context manager
            return self._read(self._db.connection(), key)
        except sqlite3.Error as error:
            raise map_error(error, self.spec.name, key) from None

    def put(self, item: Item, *, if_absent: bool = False) -> None:
        row = self._row(item)
        if self._group is not None:  # durable database: share the commit (and its sync)
            self._group.run(
                lambda conn: self._put_on(conn, row, if_absent, item), store=self.spec.name
            )
            return
        with self._db.write_lock(), mapped(self.spec.name, row[:2]):
            self._put_on(self._db.connection(), row, if_absent, item)

    def _put_on(self, conn: Any, row: list[Any], if_absent: bool, item: Item) -> None:
        if not if_absent:
            conn.execute(self._insert, row)
            return
        cursor = conn.execute(self._insert_if_absent, [*row, self._now()])
        if cursor.rowcount == 0:
            raise Conflict("item already exists", store=self.spec.name, key=key_of(self.spec, item))

    def add(
        self,
        key: Key,
        deltas: Mapping[str, int],
        *,
        expires_at: float | None = None,
        limit: tuple[str, int] | None = None,
    ) -> Item:
        with self._db.transaction(self.spec.name, dict(key)) as conn:
            item = self._read(conn, key)
            if item is None:
                item = dict(key)
                if expires_at is not None:
                    item[TTL_ATTRIBUTE] = int(expires_at)
            for field, delta in deltas.items():
                item[field] = int(item.get(field, 0)) + delta
            if limit is not None and item[limit[0]] > limit[1]:
                raise Conflict(f"limit {limit[1]} reached", store=self.spec.name, key=dict(key))
            conn.execute(self._insert, self._row(item))
            return item

    def update(self, key: Key, changes: Mapping[str, Any]) -> Item:
        with self._db.transaction(self.spec.name, dict(key)) as conn:
            item = self._read(conn, key)
            if item is None:
                raise NotFound("no such item", store=self.spec.name, key=dict(key))
            item.update(changes)
            conn.execute(self._insert, self._row(item))
            return item

    def take(self, key: Key) -> Item:
        h, r = self._hr(key)
        with self._db.write_lock(), mapped(self.spec.name, key):
            row = (
                self._db.connection()
                .execute(
                    f"DELETE FROM {self._name} WHERE h=? AND r=? AND (exp IS NULL OR exp > ?) "
                    "RETURNING item",
                    (h, r, self._now()),
                )
                .fetchone()
            )
        if row is None:
            raise NotFound("no such item", store=self.spec.name, key=dict(key))
        item: Item = json.loads(row[0])
        return item

    def delete(self, key: Key) -> None:
        h, r = self._hr(key)
        with self._db.write_lock(), mapped(self.spec.name, key):
            self._db.connection().execute(f"DELETE FROM {self._name} WHERE h=? AND r=?", (h, r))

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
        if index is None:
            hcol, rcol = "h", "r"
        else:
            n = self.spec.indexes.index(self.spec.index(index))
            hcol, rcol = f"x{n}h", f"x{n}r"
        sql = [f"SELECT item FROM {self._name} WHERE {hcol}=? AND (exp IS NULL OR exp > ?)"]
        args: list[Any] = [hash_value, self._now()]
        if range_between is not None:
            sql.append(f"AND {rcol} BETWEEN ? AND ?")
            args += list(range_between)
        if range_prefix is not None:
            sql.append(f"AND {rcol} >= ? AND substr({rcol}, 1, ?) = ?")
            args += [range_prefix, len(range_prefix), range_prefix]
        sql.append(f"ORDER BY {rcol} {'DESC' if descending else 'ASC'}")
        if limit is not None:
            sql.append("LIMIT ?")
            args.append(limit)
        with mapped(self.spec.name, hash_value):
            rows = self._db.connection().execute(" ".join(sql), args).fetchall()
        return [json.loads(row[0]) for row in rows]

    def scan(self) -> Iterator[Item]:
        last: tuple[Any, Any] | None = None
        while True:
            where = "WHERE (exp IS NULL OR exp > ?)"
            args: list[Any] = [self._now()]
            if last is not None:
                where += " AND (h, r) > (?, ?)"
                args += list(last)
            with mapped(self.spec.name):
                rows = (
                    self._db.connection()
                    .execute(
                        f"SELECT h, r, item FROM {self._name} {where} ORDER BY h, r LIMIT {_PAGE}",
                        args,
                    )
                    .fetchall()
                )
            for row in rows:
                yield json.loads(row[2])
            if len(rows) < _PAGE:
                return
            last = (rows[-1][0], rows[-1][1])

    def sweep(self) -> int:
        """Physically delete expired items; returns how many."""
        if self.spec.default_ttl is None:
            return 0
        with self._db.write_lock(), mapped(self.spec.name):
            cursor = self._db.connection().execute(
                f"DELETE FROM {self._name} WHERE exp IS NOT NULL AND exp <= ?", (self._now(),)
            )
        return cursor.rowcount
