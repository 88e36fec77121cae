"""Group commit: concurrent single-item writes of one process share one transaction.

Under `synchronous=FULL` every commit syncs the WAL to disk, and SQLite serialises writers, so
independent puts from N threads cost N syncs one after the other. Here the first writer to arrive
becomes the leader: it commits everything queued meanwhile in one `BEGIN IMMEDIATE ... COMMIT`
(one sync), then wakes each writer with its own outcome. A write still returns only after the
commit that contains it is durable. A per-item failure (a conditional put that lost) affects only
that item; an SQLite error rolls the whole batch back and every writer in it gets the error.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Callable
from typing import Any, ClassVar

from ..errors import StoreError
from .db import Database, map_error

Work = Callable[[sqlite3.Connection], Any]


class _Job:
    __slots__ = ("done", "error", "result", "work")

    def __init__(self, work: Work) -> None:
        self.work = work
        self.done = threading.Event()
        self.result: Any = None
        self.error: BaseException | None = None


class GroupCommitter:
    """One per `Database` object (see `of`), shared by every table on it."""

    _by_database: ClassVar[dict[int, GroupCommitter]] = {}
    _registry_lock: ClassVar[threading.Lock] = threading.Lock()

    @classmethod
    def of(cls, db: Database) -> GroupCommitter:
        with cls._registry_lock:
            committer = cls._by_database.get(id(db))
            if committer is None or committer._db is not db:
                committer = cls._by_database[id(db)] = cls(db)
            return committer

    def __init__(self, db: Database) -> None:
        self._db = db
        self._lock = threading.Lock()
        self._pending: list[_Job] = []
        self._leading = False

    def run(self, work: Work, *, store: str) -> Any:
        job = _Job(work)
        with self._lock:
            self._pending.append(job)
            lead = not self._leading
            self._leading = True
        if lead:
            self._lead(store)
        job.done.wait()
        if job.error is not None:
            raise job.error
        return job.result

    def _lead(self, store: str) -> None:
        while True:
            with self._lock:
                batch, self._pending = self._pending, []
                if not batch:
                    self._leading = False
                    return
            self._commit(batch, store)

    def _commit(self, batch: list[_Job], store: str) -> None:
        conn = self._db.connection()
        try:
            with self._db.write_lock():
                conn.execute("BEGIN IMMEDIATE")
                try:
                    for job in batch:
                        try:
                            job.result = job.work(conn)
                        except StoreError as error:  # this item only (a lost conditional put)
                            job.error = error
                    conn.execute("COMMIT")
                except BaseException:
                    if conn.in_transaction:
                        conn.execute("ROLLBACK")
                    raise
        except sqlite3.Error as error:
            failure = map_error(error, store)
            for job in batch:
                job.error = failure
        except BaseException as error:
            for job in batch:
                job.error = error
        finally:
            for job in batch:
                job.done.set()
