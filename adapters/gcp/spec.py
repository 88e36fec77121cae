"""The desired state of a GCP stack: the catalog turned into typed records.

Three readers, one source: the Pulumi components render these records into resources
(platform/phase_platform/gcp), `phase-mirror bootstrap` creates them on the emulators
(adapters/gcp/provision.py), and doctor / verify-pitr / verify-alarms compare what Google
describes with them (doctor.py, verify.py). Everything GCP-specific about a name or a shape
lives here: Secret Manager ids, the key ring and key, Firestore TTL fields and composite
indexes, log-based metrics and Cloud Monitoring alert policies.

This module imports no SDK (the Pulumi program and the policy pack read it too).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from typing import Literal

from ..catalog import (
    ALARM_INTENTS,
    BASELINES_BUCKET,
    KEY_ROTATION_DAYS,
    SECRETS,
    STORES,
    SYSTEM_HEALTH,
    AlarmIntent,
    AlarmKind,
    MetricSpec,
    Secret,
    SecretSpec,
    Store,
    StoreSpec,
)

#: Firestore's TTL policies need a timestamp field, so the GCP backend mirrors the catalog's
#: numeric `ttl` attribute into this field.
TTL_TIMESTAMP_FIELD = "expireAt"
#: The stack's Cloud KMS key, in the key ring named like the prefix.
GCP_CRYPTO_KEY = "envelope"
#: The alert on Firestore throttling (one per database: Firestore has no per-collection metric).
GCP_THROTTLE_ALERT = "firestore-throttles"
FIRESTORE_REQUESTS = "firestore.googleapis.com/api/request_count"
FIRESTORE_DATABASE = "firestore.googleapis.com/Database"

IndexOrder = Literal["ASCENDING", "DESCENDING"]


# ---------------------------------------------------------------------- names


def secret_manager_id(spec: SecretSpec, prefix: str) -> str:
    return spec.physical_name(prefix)


def gcp_key_ring(prefix: str) -> str:
    return prefix


def log_metric_name(metric: MetricSpec, prefix: str) -> str:
    """The Cloud Logging log-based metric counting a catalog metric's log lines."""
    return f"{prefix}-{metric.name}"


def log_metric_type(metric: MetricSpec, prefix: str) -> str:
    return f"logging.googleapis.com/user/{log_metric_name(metric, prefix)}"


def log_filter(metric: MetricSpec) -> str:
    """The log entries a log-based metric counts (adapters/metrics.py `cloud_logging_line`)."""
    return f'jsonPayload.metric="{metric.name}"'


def throttle_filter(database: str) -> str:
    """Firestore's equivalent of DynamoDB throttle events: RESOURCE_EXHAUSTED responses of
    the stack's database."""
    return (
        f'metric.type="{FIRESTORE_REQUESTS}" '
        f'AND resource.type="{FIRESTORE_DATABASE}" '
        f'AND resource.labels.database_id="{database}" '
        'AND metric.labels.response_code="RESOURCE_EXHAUSTED"'
    )


# ---------------------------------------------------------------------- Firestore


@dataclass(frozen=True)
class FirestoreIndex:
    """A composite index on collection `{prefix}-{store}`: equality on `hash_field`, ordered by
    `range_field`. Firestore serves `where(h == x).order_by(r)` only from such an index, one
    per sort direction (the emulator needs none, production does)."""

    store: Store
    hash_field: str
    range_field: str
    order: IndexOrder


def firestore_indexes(spec: StoreSpec) -> tuple[FirestoreIndex, ...]:
    """Composite indexes the `Table.query` of this store needs, from its keys and indexes."""
    pairs = [(spec.hash_key, spec.range_key)] + [(i.hash_key, i.range_key) for i in spec.indexes]
    orders: tuple[IndexOrder, ...] = ("ASCENDING", "DESCENDING")
    return tuple(
        FirestoreIndex(spec.store, hash_key.name, range_key.name, order)
        for hash_key, range_key in pairs
        if range_key is not None
        for order in orders
    )


@dataclass(frozen=True)
class Collection:
    name: str
    store: StoreSpec
    #: TTL_TIMESTAMP_FIELD on stores whose items expire, else None.
    ttl_field: str | None
    indexes: tuple[FirestoreIndex, ...]


def collection(spec: StoreSpec, prefix: str) -> Collection:
    return Collection(
        name=spec.physical_name(prefix),
        store=spec,
        ttl_field=TTL_TIMESTAMP_FIELD if spec.default_ttl is not None else None,
        indexes=firestore_indexes(spec),
    )


# ---------------------------------------------------------------------- secrets, bucket, key


@dataclass(frozen=True)
class SecretSlot:
    """A Secret Manager secret with one version per rotation."""

    secret_id: str
    secret: Secret
    description: str


@dataclass(frozen=True)
class Bucket:
    name: str
    noncurrent_version_days: int


@dataclass(frozen=True)
class StackKey:
    key_ring: str
    crypto_key: str
    rotation_days: int = KEY_ROTATION_DAYS

    @property
    def rotation_seconds(self) -> int:
        return self.rotation_days * 24 * 3600


# ---------------------------------------------------------------------- Cloud Monitoring


@dataclass(frozen=True)
class LogMetric:
    """A log-based metric counting one catalog metric's JSON log lines, with its dimensions as
    labels."""

    name: str
    metric: MetricSpec
    filter: str

    @property
    def metric_type(self) -> str:
        return f"logging.googleapis.com/user/{self.name}"


@dataclass(frozen=True)
class Condition:
    """One threshold condition: the period's delta, summed across series, above a threshold."""

    display_name: str
    filter: str
    threshold: float
    period_seconds: int
    comparison: str = "COMPARISON_GT"
    aligner: str = "ALIGN_DELTA"
    #: One series for the whole stack, whatever the labels (e.g. RuleId).
    reducer: str = "REDUCE_SUM"


@dataclass(frozen=True)
class AlertPolicy:
    """A single-condition alert policy; `log_metric` is set when it watches a service metric."""

    name: str
    key: str
    intent: AlarmIntent
    condition: Condition
    #: What a condition's filter must contain to watch the right thing (verify-alarms).
    watches: str
    log_metric: LogMetric | None = None

    @property
    def kind(self) -> AlarmKind:
        return self.intent.kind

    @property
    def metric(self) -> MetricSpec | None:
        return self.intent.metric


@dataclass(frozen=True)
class CombinedPolicy:
    """The "system health" policy: every other policy's condition, combined with OR (Cloud
    Monitoring has no composite policies)."""

    name: str
    key: str
    combiner: str = "OR"

    @property
    def kind(self) -> AlarmKind:
        return AlarmKind.SYSTEM_HEALTH


def _policy(intent: AlarmIntent, prefix: str, database: str) -> AlertPolicy:
    period = f"{intent.period_seconds // 60} minutes"
    if intent.kind is AlarmKind.METRIC:
        assert intent.metric is not None
        metric = LogMetric(
            log_metric_name(intent.metric, prefix), intent.metric, log_filter(intent.metric)
        )
        return AlertPolicy(
            name=f"{prefix} {intent.key}",
            key=intent.key,
            intent=intent,
            condition=Condition(
                f"{intent.metric.name} > {intent.threshold:g} per {period}",
                f'metric.type="{metric.metric_type}"',
                intent.threshold,
                intent.period_seconds,
            ),
            watches=metric.metric_type,
            log_metric=metric,
        )
    if intent.kind is AlarmKind.THROTTLE:
        return AlertPolicy(
            name=f"{prefix} {GCP_THROTTLE_ALERT}",
            key=GCP_THROTTLE_ALERT,
            intent=intent,
            condition=Condition(
                f"Firestore RESOURCE_EXHAUSTED > {intent.threshold:g} per {period}",
                throttle_filter(database),
                intent.threshold,
                intent.period_seconds,
            ),
            watches=f'database_id="{database}"',
        )
    raise ValueError(f"no Cloud Monitoring rendering for alarm kind {intent.kind}")


# Policies on service metrics come first, then the database's (the order `pulumi up` creates
# them in and verify-alarms reports them in).
_POLICY_ORDER = (AlarmKind.METRIC, AlarmKind.THROTTLE)


def gcp_alert_policies(prefix: str, database: str | None = None) -> tuple[AlertPolicy, ...]:
    """The single-condition alert policies; `database` defaults to the stack's (the prefix)."""
    return _stack(prefix, database or prefix).policies


def gcp_system_health_policy(prefix: str) -> CombinedPolicy:
    return CombinedPolicy(f"{prefix} {SYSTEM_HEALTH}", SYSTEM_HEALTH)


# ---------------------------------------------------------------------- the stack


@dataclass(frozen=True)
class GcpStack:
    prefix: str
    #: The Firestore database id (the platform names it like the prefix).
    database: str
    key: StackKey
    collections: tuple[Collection, ...]
    secrets: tuple[SecretSlot, ...]
    bucket: Bucket
    policies: tuple[AlertPolicy, ...]
    system_health: CombinedPolicy

    @property
    def log_metrics(self) -> tuple[LogMetric, ...]:
        return tuple(p.log_metric for p in self.policies if p.log_metric is not None)

    def secret(self, secret: Secret) -> SecretSlot:
        return next(slot for slot in self.secrets if slot.secret is secret)


@cache
def _stack(prefix: str, database: str) -> GcpStack:
    intents = sorted(ALARM_INTENTS, key=lambda intent: _POLICY_ORDER.index(intent.kind))
    return GcpStack(
        prefix=prefix,
        database=database,
        key=StackKey(gcp_key_ring(prefix), GCP_CRYPTO_KEY),
        collections=tuple(collection(spec, prefix) for spec in STORES.values()),
        secrets=tuple(
            SecretSlot(secret_manager_id(spec, prefix), spec.secret, spec.description)
            for spec in SECRETS.values()
        ),
        bucket=Bucket(
            BASELINES_BUCKET.physical_name(prefix), BASELINES_BUCKET.noncurrent_version_days
        ),
        policies=tuple(_policy(intent, prefix, database) for intent in intents),
        system_health=gcp_system_health_policy(prefix),
    )


def gcp_stack(prefix: str, database: str | None = None) -> GcpStack:
    """The desired state of the stack with this prefix; its database defaults to the prefix
    (as the platform creates it)."""
    return _stack(prefix, database or prefix)
