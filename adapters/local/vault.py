"""Versioned secrets and versioned objects in the local durable database, and the local key file."""

from __future__ import annotations

import hashlib
import os
import sqlite3
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from ..catalog import BucketSpec, Secret
from ..clock import Clock, from_epoch
from ..errors import IntegrityError, Misconfigured, NotFound
from ..ports import ObjectVersion, SecretVersion, StoredObject
from .db import Database, map_error, mapped

SCHEMA = [
    "CREATE TABLE IF NOT EXISTS _secrets (name TEXT NOT NULL, version INTEGER NOT NULL, "
    "value TEXT NOT NULL, created REAL NOT NULL, enabled INTEGER NOT NULL DEFAULT 1, "
    "PRIMARY KEY (name, version)) WITHOUT ROWID",
    "CREATE TABLE IF NOT EXISTS _objects (bucket TEXT NOT NULL, key TEXT NOT NULL, "
    "version INTEGER NOT NULL, data BLOB NOT NULL, created REAL NOT NULL, "
    "PRIMARY KEY (bucket, key, version)) WITHOUT ROWID",
]


class LocalSecretVersions:
    """The secret driver (`adapters.stores.secrets.SecretVersions`) over the `_secrets` table."""

    #: (enabled only, limited) -> the query; built once, since `current` is a hot read.
    _LIST = {
        (enabled, limited): "SELECT version, value, created, enabled FROM _secrets WHERE name=?"
        + (" AND enabled=1" if enabled else "")
        + " ORDER BY version DESC"
        + (" LIMIT ?" if limited else "")
        for enabled in (False, True)
        for limited in (False, True)
    }

    def __init__(self, db: Database, clock: Clock) -> None:
        self._db = db
        self._clock = clock

    def versions(
        self, secret: Secret, *, enabled_only: bool = False, limit: int | None = None
    ) -> list[SecretVersion]:
        sql = self._LIST[enabled_only, limit is not None]
        args = (secret.value,) if limit is None else (secret.value, limit)
        try:  # a hot read (every report, every pseudonym): no context manager
            rows = self._db.connection().execute(sql, args).fetchall()
        except sqlite3.Error as error:
            raise map_error(error, "secrets", secret.value) from None
        return [SecretVersion(secret, str(v), val, from_epoch(c), bool(e)) for v, val, c, e in rows]

    def add(self, secret: Secret, value: str) -> SecretVersion:
        created = self._clock.now().timestamp()
        with self._db.transaction("secrets", secret.value) as conn:
            (latest,) = conn.execute(
                "SELECT COALESCE(MAX(version), 0) FROM _secrets WHERE name=?", (secret.value,)
            ).fetchone()
            version = int(latest) + 1
            conn.execute(
                "INSERT INTO _secrets (name, version, value, created) VALUES (?, ?, ?, ?)",
                (secret.value, version, value, created),
            )
        return SecretVersion(secret, str(version), value, from_epoch(created))

    def put_if_absent(self, secret: Secret, value: str) -> None:
        """Create version 1 unless the secret has any version (atomic across processes)."""
        with self._db.transaction("secrets", secret.value) as conn:
            if conn.execute("SELECT 1 FROM _secrets WHERE name=?", (secret.value,)).fetchone():
                return
            conn.execute(
                "INSERT INTO _secrets (name, version, value, created) VALUES (?, 1, ?, ?)",
                (secret.value, value, self._clock.now().timestamp()),
            )

    def disable(self, secret: Secret, version: int) -> None:
        with self._db.transaction("secrets", f"{secret.value}@{version}") as conn:
            cursor = conn.execute(
                "UPDATE _secrets SET enabled=0 WHERE name=? AND version=?", (secret.value, version)
            )
            if cursor.rowcount == 0:
                raise NotFound(
                    "no such secret version", store="secrets", key=f"{secret.value}@{version}"
                )

    def where(self, secret: Secret) -> str:
        return "secret"

    def set_by_hand(self, secret: Secret) -> str | None:
        return None


class LocalObjectStore:
    def __init__(self, db: Database, clock: Clock, bucket: BucketSpec) -> None:
        self._db = db
        self._clock = clock
        self._bucket = bucket.name

    def put(self, key: str, data: bytes) -> ObjectVersion:
        created = self._clock.now().timestamp()
        with self._db.transaction(self._bucket, key) as conn:
            (latest,) = conn.execute(
                "SELECT COALESCE(MAX(version), 0) FROM _objects WHERE bucket=? AND key=?",
                (self._bucket, key),
            ).fetchone()
            version = int(latest) + 1
            conn.execute(
                "INSERT INTO _objects (bucket, key, version, data, created) VALUES (?, ?, ?, ?, ?)",
                (self._bucket, key, version, data, created),
            )
        return ObjectVersion(key, str(version), len(data), from_epoch(created))

    def get(self, key: str, version_id: str | None = None) -> StoredObject:
        sql = "SELECT version, data, created FROM _objects WHERE bucket=? AND key=?"
        args: list[object] = [self._bucket, key]
        if version_id is not None:
            if not (version_id.isascii() and version_id.isdigit()):
                raise NotFound(
                    "no such object version", store=self._bucket, key=f"{key}@{version_id}"
                )
            sql += " AND version=?"
            args.append(int(version_id))
        try:
            row = (
                self._db.connection()
                .execute(sql + " ORDER BY version DESC LIMIT 1", args)
                .fetchone()
            )
        except sqlite3.Error as error:
            raise map_error(error, self._bucket, key) from None
        if row is None:
            raise NotFound(
                "no such object",
                store=self._bucket,
                key=key if version_id is None else f"{key}@{version_id}",
            )
        version, data, created = row
        return StoredObject(
            bytes(data), ObjectVersion(key, str(version), len(data), from_epoch(created))
        )

    def versions(self, key: str) -> list[ObjectVersion]:
        with mapped(self._bucket, key):
            rows = (
                self._db.connection()
                .execute(
                    "SELECT version, length(data), created FROM _objects WHERE bucket=? AND key=? "
                    "ORDER BY version DESC",
                    (self._bucket, key),
                )
                .fetchall()
            )
        return [ObjectVersion(key, str(v), size, from_epoch(c)) for v, size, c in rows]


_WRAP_AAD = b"phase-mirror local data key"


class LocalKeyWrapper:
    """Wraps data keys with a 32-byte master key kept in a 0600 file, created on first use."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._master = load_or_create_key(path)
        self.key_id = "local:" + hashlib.sha256(self._master).hexdigest()[:16]

    def generate(self) -> tuple[bytes, bytes]:
        data_key = os.urandom(32)
        nonce = os.urandom(12)
        return data_key, nonce + AESGCM(self._master).encrypt(nonce, data_key, _WRAP_AAD)

    def unwrap(self, wrapped: bytes) -> bytes:
        try:
            return AESGCM(self._master).decrypt(wrapped[:12], wrapped[12:], _WRAP_AAD)
        except (InvalidTag, ValueError):
            raise IntegrityError(
                "data key was not wrapped by this backend's master key",
                store="keys",
                key=self.key_id,
            ) from None


def load_or_create_key(path: Path) -> bytes:
    """Read the master key, or create it atomically (O_EXCL, mode 0600) if absent."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        pass
    else:
        with os.fdopen(fd, "wb") as handle:
            handle.write(os.urandom(32))
            handle.flush()
            os.fsync(handle.fileno())
    data = path.read_bytes()
    if len(data) != 32:
        # Another process may be between O_EXCL and write; a short wait settles it.
        import time

        time.sleep(0.05)
        data = path.read_bytes()
    if len(data) != 32:
        raise Misconfigured(
            f"local key file {path} holds {len(data)} bytes, not 32; restore it from backup "
            "(data encrypted with it is unreadable without it) or remove it to start afresh",
            store="keys",
        )
    return data
