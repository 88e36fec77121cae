"""SQLite connections: one per thread and process, WAL mode, mapped errors.

Durability: two database files. `durable.db` (FP events, consent, calibration, raw events, API
keys, secrets, objects) runs with `synchronous=FULL`: once a write returns, it survives a process
crash *and* a power loss. `ephemeral.db` (counters, nonces, dedup, rate limits) runs with
`synchronous=NORMAL`: it survives a process crash; a power loss may lose the last moments of
counters, which fails safe (a counter restarts lower, a nonce is gone).

Writers queue on a lock before they touch SQLite: a thread lock within the process and an
`flock` on `<db>.lock` across processes. SQLite's own busy handler polls with sleeps of 1 to
100 ms, which under contention turns into long tail latencies; a kernel lock wakes the next
writer the moment the previous one is done.
"""

from __future__ import annotations

import fcntl
import os
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from ..errors import Conflict, Misconfigured, StoreError, Throttled, Unavailable

BUSY_TIMEOUT_MS = 15_000


class Database:
    def __init__(self, path: Path, *, synchronous: str) -> None:
        self.path = path
        self.synchronous = synchronous
        self._local = threading.local()
        self._writer = threading.Lock()
        self._lock_fd: int | None = None
        # A forked child must never reuse the parent's SQLite connection (that corrupts
        # locking state) nor inherit a lock another thread held; dropping them at fork is
        # cheaper than checking the pid on every call.
        os.register_at_fork(after_in_child=self._forget_connections)

    def _forget_connections(self) -> None:
        self._local = threading.local()
        self._writer = threading.Lock()
        self._lock_fd = None  # the inherited descriptor shares the parent's flock: reopen

    @contextmanager
    def write_lock(self) -> Iterator[None]:
        """Exclusive right to write, across threads and processes (see the module docstring)."""
        with self._writer:
            if self._lock_fd is None:
                self._lock_fd = os.open(f"{self.path}.lock", os.O_RDWR | os.O_CREAT, 0o600)
            fcntl.flock(self._lock_fd, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(self._lock_fd, fcntl.LOCK_UN)

    def connection(self) -> sqlite3.Connection:
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is None:
            conn = self._local.conn = self._connect()
        return conn

    def _connect(self) -> sqlite3.Connection:
        try:
            conn = sqlite3.connect(
                self.path,
                isolation_level=None,
                check_same_thread=False,
                timeout=BUSY_TIMEOUT_MS / 1000,
            )
            conn.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute(f"PRAGMA synchronous={self.synchronous}")
        except sqlite3.Error as error:
            raise map_error(error, str(self.path)) from None
        return conn

    @contextmanager
    def transaction(self, store: str, key: object = None) -> Iterator[sqlite3.Connection]:
        """A write transaction that takes the database's write lock up front (BEGIN IMMEDIATE),
        so read-modify-write sequences are atomic across threads and processes."""
        conn = self.connection()
        with self.write_lock(), mapped(store, key):
            conn.execute("BEGIN IMMEDIATE")
            try:
                yield conn
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            conn.execute("COMMIT")

    def close(self) -> None:
        conn = getattr(self._local, "conn", None)
        if conn is not None:
            conn.close()
        self._local = threading.local()


class mapped:
    """Translate sqlite3 errors into the taxonomy. A class, not a generator-based context
    manager, because it wraps every single operation and the generator version costs ~1 µs."""

    __slots__ = ("key", "store")

    def __init__(self, store: str, key: object = None) -> None:
        self.store = store
        self.key = key

    def __enter__(self) -> None:
        return None

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, tb: object
    ) -> None:
        if isinstance(error, sqlite3.Error) and not isinstance(error, StoreError):
            raise map_error(error, self.store, self.key) from None


def map_error(error: sqlite3.Error, store: str, key: object = None) -> StoreError:
    text = str(error)
    if isinstance(error, sqlite3.IntegrityError):
        return Conflict(f"constraint failed: {text}", store=store, key=key)
    if "locked" in text or "busy" in text:
        return Throttled(f"database busy: {text}", store=store, key=key, retry_after=0.5)
    if "no such table" in text or "no such column" in text:
        return Misconfigured(
            f"{text}; the local schema is missing or outdated: run 'phase-mirror doctor'",
            store=store,
            key=key,
        )
    if isinstance(error, sqlite3.OperationalError) and (
        "unable to open" in text or "readonly" in text or "disk" in text
    ):
        return Unavailable(f"local database unusable: {text}", store=store, key=key)
    return Unavailable(f"local database error: {text}", store=store, key=key)
