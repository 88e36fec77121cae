"""The store catalog: the one source of truth for every store, key, index, TTL attribute,
secret, bucket, key alias, metric and alarm name.

Both the Pulumi components (to create resources) and every backend (to use them) read this
module, so a table's keys or a parameter's name cannot differ between infrastructure and code
(the TypeScript predecessor's Terraform and code disagreed on exactly these). This module is
pure data: it imports nothing but the standard library.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import timedelta
from enum import StrEnum
from typing import Literal

AttrType = Literal["S", "N"]

#: Numeric epoch-seconds TTL attribute on DynamoDB and the local backend (DynamoDB's TTL
#: feature needs a number). The seed's integration test reads `ttl` on `consent-store`.
TTL_ATTRIBUTE = "ttl"
#: Firestore's TTL policies need a timestamp field, so the GCP backend mirrors `ttl` here.
TTL_TIMESTAMP_FIELD = "expireAt"

_PREFIX_RE = re.compile(r"^[a-z][a-z0-9-]{1,40}[a-z0-9]$")


@dataclass(frozen=True)
class KeyAttr:
    name: str
    type: AttrType = "S"


@dataclass(frozen=True)
class Index:
    """A secondary index: equality on `hash_key`, ordered by `range_key`."""

    name: str
    hash_key: KeyAttr
    range_key: KeyAttr | None = None


class Store(StrEnum):
    """Logical store names. Physical names are `{prefix}-{store}`."""

    FP_EVENTS = "fp-events"
    CONSENT = "consent"
    BLOCK_COUNTER = "block-counter"
    NONCES = "nonce-store"
    DEDUP = "dedup-index"
    RATE_LIMITS = "rate-limits"
    CALIBRATION = "calibration-store"
    RAW_EVENTS = "consent-store"
    API_KEYS = "api-keys"


@dataclass(frozen=True)
class StoreSpec:
    store: Store
    description: str
    hash_key: KeyAttr
    range_key: KeyAttr | None = None
    indexes: tuple[Index, ...] = ()
    #: None: items never expire. Otherwise items carry TTL_ATTRIBUTE (epoch seconds).
    default_ttl: timedelta | None = None
    #: Durable stores hold data that must survive an incident: PITR, backups, deletion
    #: protection. Ephemeral stores hold counters and tokens that are safe to lose.
    durable: bool = True

    @property
    def name(self) -> str:
        return self.store.value

    @property
    def ttl_attribute(self) -> str | None:
        return TTL_ATTRIBUTE if self.default_ttl is not None else None

    @property
    def key_attrs(self) -> tuple[KeyAttr, ...]:
        return (self.hash_key,) if self.range_key is None else (self.hash_key, self.range_key)

    def attribute_definitions(self) -> dict[str, AttrType]:
        """Every attribute used in a key of the table or of an index, with its type."""
        attrs: dict[str, AttrType] = {a.name: a.type for a in self.key_attrs}
        for index in self.indexes:
            attrs[index.hash_key.name] = index.hash_key.type
            if index.range_key is not None:
                attrs[index.range_key.name] = index.range_key.type
        return attrs

    def index(self, name: str) -> Index:
        for index in self.indexes:
            if index.name == name:
                return index
        raise KeyError(f"store {self.name!r} has no index {name!r}")

    def physical_name(self, prefix: str) -> str:
        return f"{prefix}-{self.name}"


_TS = KeyAttr("ts", "N")

STORES: dict[Store, StoreSpec] = {
    spec.store: spec
    for spec in (
        StoreSpec(
            Store.FP_EVENTS,
            "Oracle findings that blocked or warned, and their false-positive review state.",
            hash_key=KeyAttr("eventid"),
            indexes=(
                Index("by-rule", KeyAttr("ruleid"), _TS),
                Index("by-finding", KeyAttr("findingid"), _TS),
            ),
        ),
        StoreSpec(
            Store.CONSENT,
            "Consent grants and revocations per org (org or repo scope) and their history.",
            hash_key=KeyAttr("orgid"),
            range_key=KeyAttr("sk"),
        ),
        StoreSpec(
            Store.BLOCK_COUNTER,
            "Circuit-breaker block counts per (rule, repository, UTC hour).",
            hash_key=KeyAttr("bucket"),
            default_ttl=timedelta(hours=48),
            durable=False,
        ),
        StoreSpec(
            Store.NONCES,
            "Single-use request nonces, stored as SHA-256 only.",
            hash_key=KeyAttr("tokenhash"),
            default_ttl=timedelta(hours=1),
            durable=False,
        ),
        StoreSpec(
            Store.DEDUP,
            "Ingest de-duplication keys (pseudonymous org + rule + claim hash).",
            hash_key=KeyAttr("dedupkey"),
            default_ttl=timedelta(hours=24),
            durable=False,
        ),
        StoreSpec(
            Store.RATE_LIMITS,
            "Windowed rate-limit counters and distinct-member sets.",
            hash_key=KeyAttr("limitkey"),
            default_ttl=timedelta(hours=2),
            durable=False,
        ),
        StoreSpec(
            Store.CALIBRATION,
            "Anonymized FP aggregates by rule, version, outcome, UTC day and pseudonymous org.",
            hash_key=KeyAttr("rulekey"),
            range_key=KeyAttr("sk"),
        ),
        StoreSpec(
            Store.RAW_EVENTS,
            "Raw ingested calibration events, org id and claim envelope-encrypted, 30-day TTL.",
            hash_key=KeyAttr("eventid"),
            default_ttl=timedelta(days=30),
        ),
        StoreSpec(
            Store.API_KEYS,
            "API keys of certified implementations, stored as SHA-256 hashes bound to an org.",
            hash_key=KeyAttr("keyhash"),
        ),
    )
}


class Secret(StrEnum):
    """Versioned secrets (current + previous for rotation with a grace window)."""

    REDACTION_KEY = "redaction-key"
    ANONYMIZER_SALT = "anonymizer-salt"


@dataclass(frozen=True)
class SecretSpec:
    secret: Secret
    description: str
    #: Secret values are 64 hex characters (32 bytes of entropy).
    value_pattern: str = r"^[0-9a-f]{64}$"
    grace_period: timedelta = timedelta(hours=24)

    def ssm_parameter_name(self, prefix: str) -> str:
        return f"/{prefix}/{self.secret.value}"

    def secret_manager_id(self, prefix: str) -> str:
        return f"{prefix}-{self.secret.value}"


SECRETS: dict[Secret, SecretSpec] = {
    spec.secret: spec
    for spec in (
        SecretSpec(Secret.REDACTION_KEY, "HMAC key that brands and MACs oracle reports."),
        SecretSpec(Secret.ANONYMIZER_SALT, "HMAC salt that pseudonymizes org ids."),
    )
}


@dataclass(frozen=True)
class BucketSpec:
    name: str
    description: str
    noncurrent_version_days: int = 365

    def physical_name(self, prefix: str) -> str:
        return f"{prefix}-{self.name}"


BASELINES_BUCKET = BucketSpec("baselines", "Versioned drift baselines (governed-file hashes).")


def key_alias(prefix: str) -> str:
    """The KMS alias (AWS) / key name (GCP key ring `{prefix}`) of the stack's key."""
    return f"alias/{prefix}"


def gcp_key_ring(prefix: str) -> str:
    return prefix


GCP_CRYPTO_KEY = "envelope"


class Metric(StrEnum):
    """Operational metrics the service emits and the platform alarms on."""

    CIRCUIT_BREAKER_TRIGGERS = "CircuitBreakerTriggers"
    SECRET_STORE_FAILURES = "SecretStoreFailures"


METRICS_NAMESPACE = "PhaseMirror"


@dataclass(frozen=True)
class MetricSpec:
    metric: Metric
    description: str
    #: The alarm fires when the 5-minute sum is strictly greater than this.
    alarm_threshold: float = 0
    period_seconds: int = 300
    unit: str = "Count"
    dimensions: tuple[str, ...] = field(default=())

    @property
    def name(self) -> str:
        return self.metric.value

    def log_metric_name(self, prefix: str) -> str:
        """Cloud Logging log-based metric name (GCP)."""
        return f"{prefix}-{self.metric.value}"

    @property
    def insights_query(self) -> str:
        """The CloudWatch Metrics Insights query an AWS alarm evaluates: the service emits
        per-event dimensions (e.g. RuleId) in EMF, and a plain metric alarm would see only
        one dimension combination, so the query sums across all of them."""
        return f"SELECT SUM({self.name}) FROM {METRICS_NAMESPACE}"


METRICS: dict[Metric, MetricSpec] = {
    spec.metric: spec
    for spec in (
        MetricSpec(
            Metric.CIRCUIT_BREAKER_TRIGGERS,
            "A rule reached the circuit-breaker threshold and its blocks degraded to warn.",
            alarm_threshold=0,
            dimensions=("RuleId",),
        ),
        MetricSpec(
            Metric.SECRET_STORE_FAILURES,
            "Reading the redaction key or the anonymizer salt failed.",
            alarm_threshold=5,
        ),
    )
}

#: Alarm/alert threshold on DynamoDB read/write throttle events per 5 minutes (seed: > 10).
THROTTLE_ALARM_THRESHOLD = 10
THROTTLE_ALARM_PERIOD_SECONDS = 300


def kebab(text: str) -> str:
    """`CircuitBreakerTriggers` -> `circuit-breaker-triggers` (alarm and resource names)."""
    return re.sub(r"(?<!^)(?=[A-Z])", "-", text).lower()


# -- Alarms (AWS CloudWatch) and alert policies (GCP Cloud Monitoring)
#
# The platform creates them and `phase-mirror verify-alarms` expects them: both read the names
# below, so a renamed alarm cannot silently drop out of verification.

ThrottleOperation = Literal["read", "write"]
#: Database operations whose throttling is alarmed on every durable table (AWS), and the
#: AWS/DynamoDB metric each alarm watches.
THROTTLE_OPERATIONS: tuple[ThrottleOperation, ...] = ("read", "write")
DYNAMODB_THROTTLE_METRICS: dict[ThrottleOperation, str] = {
    "read": "ReadThrottleEvents",
    "write": "WriteThrottleEvents",
}
#: The GCP alert on Firestore throttling (one per database: no per-collection metric).
GCP_THROTTLE_ALERT = "firestore-throttles"
SYSTEM_HEALTH = "system-health"


class AlarmKind(StrEnum):
    THROTTLE = "throttle"  # the database refuses requests
    METRIC = "metric"  # a catalog service metric above its threshold
    SYSTEM_HEALTH = "system-health"  # any of the others (AWS composite / GCP combined policy)


@dataclass(frozen=True)
class AlarmSpec:
    """One alarm or alert policy of a stack."""

    #: CloudWatch alarm name (AWS) or alert policy display name (GCP).
    name: str
    #: The name without the stack prefix (the platform's logical resource names use it).
    key: str
    kind: AlarmKind
    #: THROTTLE alarms on AWS: the durable table and the operation watched.
    store: StoreSpec | None = None
    operation: ThrottleOperation | None = None
    #: METRIC alarms: the catalog metric.
    metric: MetricSpec | None = None


def throttle_alarm_name(prefix: str, spec: StoreSpec, operation: ThrottleOperation) -> str:
    return f"{prefix}-{spec.name}-{operation}-throttles"


def metric_alarm_name(prefix: str, spec: MetricSpec) -> str:
    return f"{prefix}-{kebab(spec.name)}"


def system_health_alarm_name(prefix: str) -> str:
    return f"{prefix}-{SYSTEM_HEALTH}"


def aws_alarms(prefix: str) -> tuple[AlarmSpec, ...]:
    """The CloudWatch metric alarms of a stack: read and write throttles on every durable
    table, then one per catalog metric (the system-health composite watches all of them)."""
    throttles = (
        AlarmSpec(
            throttle_alarm_name(prefix, spec, operation),
            f"{spec.name}-{operation}-throttles",
            AlarmKind.THROTTLE,
            store=spec,
            operation=operation,
        )
        for spec in durable_stores()
        for operation in THROTTLE_OPERATIONS
    )
    metrics = (
        AlarmSpec(metric_alarm_name(prefix, spec), kebab(spec.name), AlarmKind.METRIC, metric=spec)
        for spec in METRICS.values()
    )
    return (*throttles, *metrics)


def alarm_topic_name(prefix: str) -> str:
    """The SNS topic every AWS alarm notifies (KMS-encrypted; e-mail subscription)."""
    return f"{prefix}-alarms"


def aws_system_health_alarm(prefix: str) -> AlarmSpec:
    return AlarmSpec(system_health_alarm_name(prefix), SYSTEM_HEALTH, AlarmKind.SYSTEM_HEALTH)


def aws_system_health_rule(prefix: str) -> str:
    """The composite alarm's rule: in ALARM when any of the stack's metric alarms is."""
    return " OR ".join(f'ALARM("{alarm.name}")' for alarm in aws_alarms(prefix))


def gcp_alert_policies(prefix: str) -> tuple[AlarmSpec, ...]:
    """The GCP alert policies with one condition each: one per catalog metric (on its
    log-based metric), then Firestore throttling."""
    metrics = (
        AlarmSpec(f"{prefix} {kebab(spec.name)}", kebab(spec.name), AlarmKind.METRIC, metric=spec)
        for spec in METRICS.values()
    )
    throttle = AlarmSpec(f"{prefix} {GCP_THROTTLE_ALERT}", GCP_THROTTLE_ALERT, AlarmKind.THROTTLE)
    return (*metrics, throttle)


def gcp_system_health_policy(prefix: str) -> AlarmSpec:
    """The policy combining every condition of `gcp_alert_policies` (Cloud Monitoring has no
    composite policies)."""
    return AlarmSpec(f"{prefix} {SYSTEM_HEALTH}", SYSTEM_HEALTH, AlarmKind.SYSTEM_HEALTH)


def validate_prefix(prefix: str) -> str:
    """Check a resource prefix; every physical name is derived from it."""
    if not _PREFIX_RE.match(prefix):
        raise ValueError(
            f"invalid prefix {prefix!r}: use 3-42 lowercase letters, digits and '-', "
            "starting with a letter (e.g. 'phase-mirror-staging')"
        )
    return prefix


IndexOrder = Literal["ASCENDING", "DESCENDING"]


@dataclass(frozen=True)
class FirestoreIndex:
    """A Firestore composite index on collection `{prefix}-{store}`: equality on `hash_field`,
    ordered by `range_field`. Firestore serves `where(h == x).order_by(r)` only from such an
    index, one per sort direction (the emulator needs none, production does)."""

    store: Store
    hash_field: str
    range_field: str
    order: IndexOrder


def firestore_indexes(spec: StoreSpec) -> tuple[FirestoreIndex, ...]:
    """Composite indexes the `Table.query` of this store needs, derived from its keys and indexes."""
    pairs = [(spec.hash_key, spec.range_key)] + [(i.hash_key, i.range_key) for i in spec.indexes]
    orders: tuple[IndexOrder, ...] = ("ASCENDING", "DESCENDING")
    return tuple(
        FirestoreIndex(spec.store, hash_key.name, range_key.name, order)
        for hash_key, range_key in pairs
        if range_key is not None
        for order in orders
    )


def durable_stores() -> list[StoreSpec]:
    return [spec for spec in STORES.values() if spec.durable]


def ephemeral_stores() -> list[StoreSpec]:
    return [spec for spec in STORES.values() if not spec.durable]
