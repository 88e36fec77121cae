"""Local backend: every port operation against the raw sqlite3 statements doing the same work.

Both sides run in the same process, on the same disk, with the same pragmas (WAL; FULL sync for
durable stores, NORMAL for ephemeral ones), call by call in alternating order (`report.paired`).
The ratio is adapter time over raw time per operation, medians (target: at most 1.5x).
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
import tempfile
from datetime import timedelta
from pathlib import Path

from adapters.backend import open_backend
from adapters.catalog import Secret, Store
from adapters.ports import FpEvent

from .report import Case, compare

N = 2000
N_DURABLE = 300  # durable writes fsync; fewer of them keep the run short


def _raw_db(path: Path, synchronous: str) -> sqlite3.Connection:
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute(f"PRAGMA synchronous={synchronous}")
    conn.execute(
        "CREATE TABLE t (h NOT NULL, r NOT NULL DEFAULT '', item TEXT NOT NULL, exp REAL, "
        "x0h, x0r, x1h, x1r, PRIMARY KEY (h, r)) WITHOUT ROWID"
    )
    conn.execute("CREATE INDEX t_x0 ON t (x0h, x0r)")
    conn.execute("CREATE INDEX t_x1 ON t (x1h, x1r)")
    return conn


def run() -> None:
    root = Path(tempfile.mkdtemp(prefix="pm-bench-"))
    backend = open_backend(f"local://{root / 'backend'}")
    eph = _raw_db(root / "raw-eph.db", "NORMAL")
    dur = _raw_db(root / "raw-dur.db", "FULL")
    now = backend.clock.now()
    ttl = timedelta(hours=1)
    exp = now.timestamp() + 3600
    item_json = json.dumps({"dedupkey": "k", "value": "v", "ttl": int(exp)})

    def consume_pair(i: int) -> None:
        digest = hashlib.sha256(b"%d" % i).hexdigest()
        backend.nonces.issue(digest, {"orgid": "o"}, ttl=ttl, at=now)
        backend.nonces.consume(digest)

    def raw_consume_pair(i: int) -> None:
        digest = hashlib.sha256(b"%d" % i).hexdigest()
        eph.execute(
            "INSERT INTO t (h, r, item, exp) VALUES (?, '', ?, ?) ON CONFLICT(h, r) DO UPDATE SET "
            "item=excluded.item, exp=excluded.exp WHERE t.exp IS NOT NULL AND t.exp <= ?",
            (digest, item_json, exp, now.timestamp()),
        )
        eph.execute(
            "DELETE FROM t WHERE h=? AND r='' AND (exp IS NULL OR exp > ?) RETURNING item",
            (digest, now.timestamp()),
        ).fetchone()

    def increment(i: int) -> None:
        backend.block_counter.increment("MD-001", "acme/app", at=now)

    def raw_increment(i: int) -> None:
        eph.execute("BEGIN IMMEDIATE")
        row = eph.execute("SELECT item, exp FROM t WHERE h=? AND r=''", ("ctr",)).fetchone()
        count = json.loads(row[0])["count"] + 1 if row else 1
        eph.execute(
            "INSERT OR REPLACE INTO t (h, r, item, exp) VALUES (?, '', ?, ?)",
            ("ctr", json.dumps({"bucket": "ctr", "count": count}), exp),
        )
        eph.execute("COMMIT")

    def claim(i: int) -> None:
        backend.dedup.claim(f"dedup-{i}", "ev", ttl=ttl, at=now)

    def raw_claim(i: int) -> None:
        eph.execute(
            "INSERT INTO t (h, r, item, exp) VALUES (?, '', ?, ?) ON CONFLICT(h, r) DO UPDATE SET "
            "item=excluded.item, exp=excluded.exp WHERE t.exp IS NOT NULL AND t.exp <= ?",
            (f"raw-dedup-{i}", item_json, exp, now.timestamp()),
        )

    def rate_hit(i: int) -> None:
        backend.rate_limits.hit("bench", limit=10**9, window=ttl, at=now)

    def get_counter(i: int) -> None:
        backend.block_counter.count("MD-001", "acme/app", at=now)

    def raw_get(i: int) -> None:
        row = eph.execute("SELECT item, exp FROM t WHERE h=? AND r=''", ("ctr",)).fetchone()
        json.loads(row[0])

    def record(i: int) -> None:
        event = FpEvent(f"e{i}", "MD-002", "1", f"f{i}", "acme/app", "block", now)
        backend.fp_events.record(event)

    def raw_record(i: int) -> None:
        body = json.dumps({"eventid": f"e{i}", "ruleid": "MD-002", "ts": i, "findingid": f"f{i}"})
        dur.execute(
            "INSERT INTO t (h, r, item, exp, x0h, x0r, x1h, x1r) VALUES (?, '', ?, NULL, ?, ?, ?, ?) "
            "ON CONFLICT(h, r) DO UPDATE SET item=excluded.item WHERE t.exp IS NOT NULL AND t.exp <= ?",
            (f"e{i}", body, "MD-002", i, f"f{i}", i, now.timestamp()),
        )

    def window(i: int) -> None:
        backend.fp_events.window("MD-002", last=20)

    def raw_window(i: int) -> None:
        rows = dur.execute(
            "SELECT item FROM t WHERE x0h=? AND (exp IS NULL OR exp > ?) ORDER BY x0r DESC LIMIT 20",
            ("MD-002", now.timestamp()),
        ).fetchall()
        [json.loads(r[0]) for r in rows]

    def secret_current(i: int) -> None:
        backend.secrets.current(Secret.REDACTION_KEY)

    dur.execute(
        "CREATE TABLE s (name, version, value, created, enabled, PRIMARY KEY (name, version))"
    )
    dur.execute("INSERT INTO s VALUES ('k', 1, ?, 0, 1)", ("a" * 64,))
    backend.secrets.put(Secret.REDACTION_KEY, "a" * 64)

    def raw_secret(i: int) -> None:
        dur.execute(
            "SELECT version, value, created FROM s WHERE name=? AND enabled=1 "
            "ORDER BY version DESC LIMIT ?",
            ("k", 1),
        ).fetchall()

    backend.baselines.put("bench/baseline.json", b"{}" * 512)
    dur.execute("CREATE TABLE o (k, v, data BLOB, created, PRIMARY KEY (k, v))")
    dur.execute("INSERT INTO o VALUES ('k', 1, ?, 0)", (b"{}" * 512,))

    def object_get(i: int) -> None:
        backend.baselines.get("bench/baseline.json")

    def raw_object_get(i: int) -> None:
        dur.execute(
            "SELECT v, data, created FROM o WHERE k=? ORDER BY v DESC LIMIT 1", ("k",)
        ).fetchone()

    fp_table = backend.table(Store.FP_EVENTS)

    def table_query(i: int) -> None:
        fp_table.query("MD-002", index="by-rule", descending=True, limit=20)

    sealed = backend.keys.encrypt(b"x" * 256, b"aad")

    def encrypt(i: int) -> None:
        backend.keys.encrypt(b"x" * 256, b"aad")

    def decrypt(i: int) -> None:
        backend.keys.decrypt(sealed, b"aad")

    compare(
        "local backend vs raw sqlite3 (same run, same pragmas, interleaved)",
        [
            Case("nonce issue + consume", consume_pair, raw_consume_pair, N),
            Case("block counter increment", increment, raw_increment, N),
            Case("rate limit hit", rate_hit, raw_increment, N),
            Case("dedup claim", claim, raw_claim, N),
            Case("counter read (get)", get_counter, raw_get, N),
            Case("FP event record (durable)", record, raw_record, N_DURABLE),
            Case("FP window last 20 (typed records)", window, raw_window, N),
            Case("table query last 20 (driver)", table_query, raw_window, N),
            Case("secret current", secret_current, raw_secret, N),
            Case("baseline get latest (1 KiB)", object_get, raw_object_get, N),
            Case("envelope encrypt 256 B", encrypt, None, N),
            Case("envelope decrypt 256 B", decrypt, None, N),
        ],
    )
    backend.close()
