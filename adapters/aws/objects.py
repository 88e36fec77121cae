"""Versioned objects (drift baselines) in an S3 bucket with versioning enabled.

S3 version ids are opaque strings; they are the port's version ids as they are. The service
clock's write time travels as object metadata so `get` reports it; listings (which carry no
metadata) report S3's LastModified.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from botocore.exceptions import ClientError

from ..catalog import BucketSpec
from ..clock import Clock, from_epoch
from ..errors import Misconfigured, NotFound
from ..ports import ObjectVersion, StoredObject
from .errors import Resource, error_code, mapped
from .session import AwsTarget, Clients

_CREATED_META = "created-at"


class S3ObjectStore:
    def __init__(
        self, clients: Clients, target: AwsTarget, clock: Clock, bucket: BucketSpec
    ) -> None:
        self._clients = clients
        self._target = target
        self._clock = clock
        self.bucket = target.bucket
        self._resource = Resource("S3 bucket", self.bucket, bucket.name)

    def put(self, key: str, data: bytes) -> ObjectVersion:
        created = self._clock.now().timestamp()
        with mapped(self._target, self._resource, key):
            response = self._clients.s3.put_object(
                Bucket=self.bucket, Key=key, Body=data, Metadata={_CREATED_META: f"{created:.3f}"}
            )
        version_id = response.get("VersionId")
        if not version_id or version_id == "null":
            raise Misconfigured(
                f"S3 bucket {self.bucket!r} does not keep versions; enable versioning "
                f"(aws s3api put-bucket-versioning --bucket {self.bucket} "
                "--versioning-configuration Status=Enabled) or run 'phase-mirror doctor'",
                store=self._resource.store,
                key=key,
            )
        return ObjectVersion(key, version_id, len(data), from_epoch(created))

    def get(self, key: str, version_id: str | None = None) -> StoredObject:
        request: dict[str, Any] = {"Bucket": self.bucket, "Key": key}
        if version_id is not None:
            request["VersionId"] = version_id
        shown = key if version_id is None else f"{key}@{version_id}"
        with mapped(self._target, self._resource, shown):
            try:
                response = self._clients.s3.get_object(**request)
            except ClientError as error:
                code = error_code(error)
                # S3 answers a malformed version id with InvalidArgument: still "no such version".
                if version_id is not None and code in ("InvalidArgument", "400"):
                    raise NotFound(
                        "no such object version", store=self._resource.store, key=shown
                    ) from None
                raise
            data = response["Body"].read()
        created = response.get("Metadata", {}).get(_CREATED_META)
        when = from_epoch(float(created)) if created else _utc(response["LastModified"])
        return StoredObject(data, ObjectVersion(key, response["VersionId"], len(data), when))

    def versions(self, key: str) -> list[ObjectVersion]:
        request: dict[str, Any] = {"Bucket": self.bucket, "Prefix": key}
        found: list[ObjectVersion] = []
        with mapped(self._target, self._resource, key):
            while True:
                page = self._clients.s3.list_object_versions(**request)
                for entry in page.get("Versions", []):
                    if entry["Key"] == key:  # the prefix also matches "key.bak"
                        found.append(
                            ObjectVersion(
                                key, entry["VersionId"], entry["Size"], _utc(entry["LastModified"])
                            )
                        )
                if not page.get("IsTruncated"):
                    break
                request["KeyMarker"] = page["NextKeyMarker"]
                request["VersionIdMarker"] = page["NextVersionIdMarker"]
        # S3 lists a key's versions newest first, and later pages continue that order.
        return found


def _utc(moment: datetime) -> datetime:
    return moment.astimezone(UTC)
