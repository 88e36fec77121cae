"""Versioned objects on Cloud Storage: every upload to a versioned bucket is a new generation.

A version id is the object's generation; earlier generations stay readable (noncurrent) until
the bucket's lifecycle rule deletes them (`BucketSpec.noncurrent_version_days`).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from ..catalog import BASELINES_BUCKET, BucketSpec
from ..errors import Misconfigured, NotFound
from ..ports import ObjectVersion, StoredObject
from .clients import CALL_TIMEOUT, GcpClients
from .errors import CREATE_HINT, mapped

# The JSON API takes `versions=true`; some servers (fake-gcs-server) read only the lowercase
# spelling, and the client would send Python's `True`.
_ALL_GENERATIONS: Any = "true"


def bucket_name(clients: GcpClients, spec: BucketSpec) -> str:
    settings = clients.settings
    return settings.bucket if spec == BASELINES_BUCKET else spec.physical_name(settings.prefix)


class GcsObjectStore:
    def __init__(self, clients: GcpClients, spec: BucketSpec) -> None:
        self._clients = clients
        self.bucket = bucket_name(clients, spec)
        self._missing = f"Cloud Storage bucket gs://{self.bucket}"

    def _bucket(self) -> Any:
        return self._clients.storage.bucket(self.bucket)

    def put(self, key: str, data: bytes) -> ObjectVersion:
        blob = self._bucket().blob(key)
        with mapped(self.bucket, key, missing=self._missing):
            blob.upload_from_string(
                data,
                content_type="application/octet-stream",
                retry=self._clients.writes,
                timeout=CALL_TIMEOUT,
            )
        return _version(blob, len(data))

    def get(self, key: str, version_id: str | None = None) -> StoredObject:
        where = key if version_id is None else f"{key}@{version_id}"
        if version_id is not None and not (version_id.isascii() and version_id.isdigit()):
            raise NotFound("no such object version", store=self.bucket, key=where)
        generation = None if version_id is None else int(version_id)
        with mapped(self.bucket, where, missing=self._missing):
            blob = self._bucket().get_blob(
                key, generation=generation, retry=self._clients.reads, timeout=CALL_TIMEOUT
            )
            if blob is None:
                self._require_bucket()
                raise NotFound("no such object", store=self.bucket, key=where)
            # Download the generation just read by number, not through its `mediaLink`
            # (fake-gcs-server's omits the generation, which would fetch the latest).
            pinned = self._bucket().blob(key, generation=blob.generation)
            data = pinned.download_as_bytes(retry=self._clients.reads, timeout=CALL_TIMEOUT)
        return StoredObject(bytes(data), _version(blob, len(data)))

    def versions(self, key: str) -> list[ObjectVersion]:
        with mapped(self.bucket, key, missing=self._missing):
            blobs = list(
                self._clients.storage.list_blobs(
                    self.bucket,
                    prefix=key,
                    versions=_ALL_GENERATIONS,
                    retry=self._clients.reads,
                    timeout=CALL_TIMEOUT,
                )
            )
        found = [_version(blob, blob.size or 0) for blob in blobs if blob.name == key]
        return sorted(found, key=lambda v: int(v.version_id), reverse=True)

    def _require_bucket(self) -> None:
        if not self._bucket().exists(retry=self._clients.reads, timeout=CALL_TIMEOUT):
            raise Misconfigured(f"{self._missing} does not exist; {CREATE_HINT}", store=self.bucket)


def _version(blob: Any, size: int) -> ObjectVersion:
    created = blob.time_created
    created_at = datetime.fromtimestamp(created.timestamp(), UTC) if created else datetime.now(UTC)
    return ObjectVersion(blob.name, str(blob.generation), size, created_at)
