"""A stack's data-protection posture, computed the same way on both clouds.

The parity rule holds each stack to one baseline (every durable store recoverable to a point in
time, every class of data under the stack's customer-managed key, keys rotating at least every 90
days); the gate prints the postures of both clouds side by side. Reads are unknown-safe: an
unknown value at preview (a key ARN) counts as present.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from pulumi_policy import PolicyResource

from adapters.catalog import durable_stores

from . import links
from .props import MISSING, UNKNOWN, elements, present, read
from .stores import store_for_name

MAX_ROTATION_DAYS = 90
#: AWS rotates yearly unless told otherwise.
AWS_DEFAULT_ROTATION_DAYS = 365
DATA_CLASSES = ("stores", "secrets", "objects")
LOGGING_TYPES = ("aws:s3/bucketLogging:BucketLogging", "aws:s3/bucketLoggingV2:BucketLoggingV2")


@dataclass
class Posture:
    cloud: str
    #: Durable catalog stores with point-in-time recovery.
    pitr: set[str] = field(default_factory=set)
    #: Data classes (stores, secrets, objects) under a customer-managed key; {} = none present.
    cmk: dict[str, bool] = field(default_factory=dict)
    #: Longest automatic rotation period among the stack's keys (None: a key never rotates).
    rotation_days: float | None = None
    keys: int = 0

    def gaps(self) -> list[str]:
        problems = []
        missing = sorted({s.name for s in durable_stores()} - self.pitr)
        if missing:
            problems.append(f"durable stores without point-in-time recovery: {', '.join(missing)}")
        for data_class in DATA_CLASSES:
            if not self.cmk.get(data_class, False):
                problems.append(
                    f"{data_class} are not encrypted with the stack's customer-managed key"
                )
        if self.keys == 0:
            problems.append("the stack has no customer-managed key")
        elif self.rotation_days is None:
            problems.append("a customer-managed key never rotates")
        elif self.rotation_days > MAX_ROTATION_DAYS:
            problems.append(
                f"keys rotate every {self.rotation_days:g} days; the baseline is {MAX_ROTATION_DAYS}"
            )
        return problems

    def row(self) -> dict[str, str]:
        durable = len(durable_stores())
        return {
            "cloud": self.cloud,
            "pitr": f"{len(self.pitr)}/{durable} durable stores",
            **{f"cmk:{c}": "yes" if self.cmk.get(c) else "no" for c in DATA_CLASSES},
            "rotation": "never" if self.rotation_days is None else f"{self.rotation_days:g} days",
        }


def _on(value: object, expected: object = True) -> bool:
    return value is UNKNOWN or value == expected


def _of(resources: Sequence[PolicyResource], *types: str) -> list[PolicyResource]:
    return [r for r in resources if r.resource_type in types]


def clouds_of(resources: Sequence[PolicyResource]) -> list[str]:
    found = {r.resource_type.split(":", 1)[0] for r in resources}
    return [cloud for cloud in ("aws", "gcp") if cloud in found]


def _all(items: Sequence[PolicyResource], check: object) -> bool:
    return bool(items) and all(check(item) for item in items)  # type: ignore[operator]


def aws_posture(resources: Sequence[PolicyResource]) -> Posture:
    posture = Posture("aws")
    tables = _of(resources, "aws:dynamodb/table:Table")
    for table in tables:
        match = store_for_name(read(table.props, "name"))
        if match and match[1].durable and _on(read(table.props, "pointInTimeRecovery", "enabled")):
            posture.pitr.add(match[1].name)
    posture.cmk["stores"] = _all(
        tables,
        lambda t: (
            _on(read(t.props, "serverSideEncryption", "enabled"))
            and present(t.props, "serverSideEncryption", "kmsKeyArn")
        ),
    )
    posture.cmk["secrets"] = _all(
        _of(resources, "aws:ssm/parameter:Parameter"),
        lambda p: _on(read(p.props, "type"), "SecureString") and present(p.props, "keyId"),
    )
    buckets = _of(resources, "aws:s3/bucket:Bucket", "aws:s3/bucketV2:BucketV2")
    sse_types = (
        "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
        "aws:s3/bucketServerSideEncryptionConfigurationV2:BucketServerSideEncryptionConfigurationV2",
    )

    def bucket_cmk(bucket: PolicyResource) -> bool:
        for config in links.companions_of(bucket, resources, buckets, sse_types):
            rules = elements(config.props, "rules")
            if not isinstance(rules, list):  # unknown at preview
                return True
            for rule in rules:
                default = (
                    UNKNOWN if rule is UNKNOWN else read(rule, "applyServerSideEncryptionByDefault")
                )
                if default is UNKNOWN or present(default, "kmsMasterKeyId"):
                    return True
        return False

    # Server access log targets can only use SSE-S3 (PM-AWS-008): they hold logs, not data.
    targets = links.log_links(resources, buckets, LOGGING_TYPES).targets
    posture.cmk["objects"] = _all(buckets, lambda b: b.urn in targets or bucket_cmk(b))
    keys = _of(resources, "aws:kms/key:Key")
    posture.keys = len(keys)
    longest: float | None = 0.0
    for key in keys:
        if not _on(read(key.props, "enableKeyRotation")):
            longest = None
            break
        days = read(key.props, "rotationPeriodInDays")
        days = AWS_DEFAULT_ROTATION_DAYS if days is MISSING else days
        if isinstance(days, int | float) and longest is not None:
            longest = max(longest, float(days))
    posture.rotation_days = longest if keys else None
    return posture


def gcp_posture(resources: Sequence[PolicyResource]) -> Posture:
    posture = Posture("gcp")
    databases = _of(resources, "gcp:firestore/database:Database")
    if _all(
        databases,
        lambda d: _on(
            read(d.props, "pointInTimeRecoveryEnablement"), "POINT_IN_TIME_RECOVERY_ENABLED"
        ),
    ):
        # Firestore recovers the whole database, so every collection (store) is covered.
        posture.pitr = {s.name for s in durable_stores()}
    posture.cmk["stores"] = _all(databases, lambda d: present(d.props, "cmekConfig", "kmsKeyName"))

    def secret_cmk(secret: PolicyResource) -> bool:
        if read(secret.props, "replication", "auto") is not MISSING:
            return present(
                secret.props, "replication", "auto", "customerManagedEncryption", "kmsKeyName"
            )
        replicas = elements(secret.props, "replication", "userManaged", "replicas")
        if not isinstance(replicas, list):
            return True
        return bool(replicas) and all(
            r is UNKNOWN or present(r, "customerManagedEncryption", "kmsKeyName") for r in replicas
        )

    posture.cmk["secrets"] = _all(_of(resources, "gcp:secretmanager/secret:Secret"), secret_cmk)
    posture.cmk["objects"] = _all(
        _of(resources, "gcp:storage/bucket:Bucket"),
        lambda b: present(b.props, "encryption", "defaultKmsKeyName"),
    )
    keys = _of(resources, "gcp:kms/cryptoKey:CryptoKey")
    posture.keys = len(keys)
    longest: float | None = 0.0
    for key in keys:
        period = read(key.props, "rotationPeriod")
        if period is UNKNOWN:
            continue
        if not isinstance(period, str) or not period.endswith("s"):
            longest = None
            break
        try:
            days = float(period[:-1]) / 86400
        except ValueError:
            longest = None
            break
        if longest is not None:
            longest = max(longest, days)
    posture.rotation_days = longest if keys else None
    return posture


def posture_of(cloud: str, resources: Sequence[PolicyResource]) -> Posture:
    return aws_posture(resources) if cloud == "aws" else gcp_posture(resources)
