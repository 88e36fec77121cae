"""The desired state of an AWS stack: the catalog turned into typed records.

Three readers, one source: the Pulumi components render these records into resources
(platform/phase_platform/aws), `phase-mirror bootstrap` renders them into SDK calls on an
emulator or a dev account (adapters/aws/provision.py, alarms.py), and doctor / verify-pitr /
verify-alarms compare what AWS describes with them (doctor.py, verify.py). Everything
AWS-specific about a name or a shape lives here: SSM parameter paths, the KMS alias, DynamoDB
key schemas and throttle metrics, CloudWatch alarm definitions and the composite rule.

This module imports no SDK (the Pulumi program and the policy pack read it too).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cache
from typing import Literal

from ..catalog import (
    ALARM_INTENTS,
    BASELINES_BUCKET,
    KEY_ROTATION_DAYS,
    METRICS_NAMESPACE,
    SECRETS,
    STORE_THROTTLING,
    STORES,
    SYSTEM_HEALTH,
    AlarmIntent,
    AlarmKind,
    AttrType,
    BucketSpec,
    KeyAttr,
    MetricSpec,
    Secret,
    SecretSpec,
    Store,
    StoreSpec,
    durable_stores,
    kebab,
)

KeyType = Literal["HASH", "RANGE"]
ThrottleOperation = Literal["read", "write"]

#: The AWS/DynamoDB metric counting throttled requests, per operation. Every durable table gets
#: one alarm per operation (DynamoDB reports throttling per table, not per database).
DYNAMODB_THROTTLE_METRICS: dict[ThrottleOperation, str] = {
    "read": "ReadThrottleEvents",
    "write": "WriteThrottleEvents",
}
THROTTLE_OPERATIONS: tuple[ThrottleOperation, ...] = tuple(DYNAMODB_THROTTLE_METRICS)
DYNAMODB_NAMESPACE = "AWS/DynamoDB"
BILLING_MODE = "PAY_PER_REQUEST"


# ---------------------------------------------------------------------- names


def ssm_parameter_name(spec: SecretSpec, prefix: str) -> str:
    """The SecureString parameter holding a secret's versions: `/{prefix}/{secret}`."""
    return f"/{prefix}/{spec.secret.value}"


def key_alias(prefix: str) -> str:
    """The KMS alias of the stack's key."""
    return f"alias/{prefix}"


def alarm_topic_name(prefix: str) -> str:
    """The SNS topic every alarm notifies (KMS-encrypted; e-mail subscription)."""
    return f"{prefix}-alarms"


def throttle_alarm_name(prefix: str, spec: StoreSpec, operation: ThrottleOperation) -> str:
    return f"{prefix}-{spec.name}-{operation}-{STORE_THROTTLING.key}"


def metric_alarm_name(prefix: str, metric: MetricSpec) -> str:
    return f"{prefix}-{kebab(metric.name)}"


def insights_query(metric: MetricSpec) -> str:
    """The CloudWatch Metrics Insights query an alarm on a service metric evaluates: the
    service emits per-event dimensions (e.g. RuleId) in EMF, and a plain metric alarm would see
    only one dimension combination, so the query sums across all of them."""
    return f"SELECT SUM({metric.name}) FROM {METRICS_NAMESPACE}"


# ---------------------------------------------------------------------- DynamoDB


@dataclass(frozen=True)
class KeySchema:
    hash_key: str
    range_key: str | None = None

    def elements(self) -> list[tuple[str, KeyType]]:
        """[(attribute, "HASH"), (attribute, "RANGE")] in DynamoDB's order."""
        pairs: list[tuple[str, KeyType]] = [(self.hash_key, "HASH")]
        if self.range_key is not None:
            pairs.append((self.range_key, "RANGE"))
        return pairs


def _schema(hash_key: KeyAttr, range_key: KeyAttr | None) -> KeySchema:
    return KeySchema(hash_key.name, range_key.name if range_key else None)


@dataclass(frozen=True)
class GlobalIndex:
    name: str
    keys: KeySchema
    #: Every query of the table driver reads whole items from the index.
    projection: str = "ALL"


@dataclass(frozen=True)
class DynamoTable:
    name: str
    store: StoreSpec
    keys: KeySchema
    #: Every attribute used in a key of the table or of an index, with its type.
    attributes: dict[str, AttrType]
    indexes: tuple[GlobalIndex, ...]
    ttl_attribute: str | None
    #: Durable tables have point-in-time recovery (and deletion protection in production).
    pitr: bool
    billing_mode: str = BILLING_MODE


def dynamo_table(spec: StoreSpec, prefix: str) -> DynamoTable:
    return DynamoTable(
        name=spec.physical_name(prefix),
        store=spec,
        keys=_schema(spec.hash_key, spec.range_key),
        attributes=spec.attribute_definitions(),
        indexes=tuple(
            GlobalIndex(index.name, _schema(index.hash_key, index.range_key))
            for index in spec.indexes
        ),
        ttl_attribute=spec.ttl_attribute,
        pitr=spec.durable,
    )


# ---------------------------------------------------------------------- secrets, bucket, key


@dataclass(frozen=True)
class Parameter:
    """An SSM SecureString parameter with one version per secret rotation."""

    name: str
    secret: Secret
    description: str


@dataclass(frozen=True)
class Bucket:
    name: str
    spec: BucketSpec
    noncurrent_version_days: int


@dataclass(frozen=True)
class StackKey:
    alias: str
    rotation_days: int = KEY_ROTATION_DAYS


# ---------------------------------------------------------------------- CloudWatch


@dataclass(frozen=True)
class MetricAlarm:
    """One CloudWatch metric alarm: either a plain metric (namespace, metric, dimensions,
    statistic) or a Metrics Insights expression."""

    name: str
    #: The name without the stack prefix (the platform's logical resource names use it).
    key: str
    intent: AlarmIntent
    description: str
    threshold: float
    period_seconds: int
    namespace: str | None = None
    metric_name: str | None = None
    dimensions: dict[str, str] = field(default_factory=dict)
    statistic: str | None = None
    expression: str | None = None
    #: The expression's label (CloudWatch shows it on graphs).
    label: str | None = None
    comparison: str = "GreaterThanThreshold"
    evaluation_periods: int = 1
    treat_missing_data: str = "notBreaching"
    #: THROTTLE alarms: the durable table's store.
    store: Store | None = None

    @property
    def kind(self) -> AlarmKind:
        return self.intent.kind

    @property
    def metric(self) -> MetricSpec | None:
        return self.intent.metric

    @property
    def watches(self) -> str:
        """What the alarm evaluates, in words a drift message can compare."""
        if self.expression is not None:
            return repr(self.expression)
        table = self.dimensions.get("TableName")
        return f"{self.namespace}/{self.metric_name} on {table}"


@dataclass(frozen=True)
class CompositeAlarm:
    name: str
    key: str
    description: str
    rule: str

    @property
    def kind(self) -> AlarmKind:
        return AlarmKind.SYSTEM_HEALTH


def _alarms_for(intent: AlarmIntent, prefix: str) -> list[MetricAlarm]:
    if intent.kind is AlarmKind.THROTTLE:
        return [
            MetricAlarm(
                name=throttle_alarm_name(prefix, spec, operation),
                key=f"{spec.name}-{operation}-{intent.key}",
                intent=intent,
                description=(
                    f"{DYNAMODB_THROTTLE_METRICS[operation]} on {spec.physical_name(prefix)} "
                    f"above {intent.threshold:g} per {intent.period_seconds // 60} minutes"
                ),
                threshold=intent.threshold,
                period_seconds=intent.period_seconds,
                namespace=DYNAMODB_NAMESPACE,
                metric_name=DYNAMODB_THROTTLE_METRICS[operation],
                dimensions={"TableName": spec.physical_name(prefix)},
                statistic="Sum",
                store=spec.store,
            )
            for spec in durable_stores()
            for operation in THROTTLE_OPERATIONS
        ]
    if intent.kind is AlarmKind.METRIC:
        assert intent.metric is not None
        return [
            MetricAlarm(
                name=metric_alarm_name(prefix, intent.metric),
                key=intent.key,
                intent=intent,
                description=intent.description,
                threshold=intent.threshold,
                period_seconds=intent.period_seconds,
                expression=insights_query(intent.metric),
                label=intent.metric.name,
            )
        ]
    raise ValueError(f"no CloudWatch rendering for alarm kind {intent.kind}")


def aws_alarms(prefix: str) -> tuple[MetricAlarm, ...]:
    """The stack's metric alarms, in catalog order: read and write throttles on every durable
    table, then one per catalog metric (the system-health composite watches all of them)."""
    return _stack(prefix).alarms


def aws_system_health_rule(prefix: str) -> str:
    """The composite alarm's rule: in ALARM when any of the stack's metric alarms is."""
    return _stack(prefix).system_health.rule


def aws_system_health_alarm(prefix: str) -> CompositeAlarm:
    return _stack(prefix).system_health


# ---------------------------------------------------------------------- the stack


@dataclass(frozen=True)
class AwsStack:
    prefix: str
    key: StackKey
    tables: tuple[DynamoTable, ...]
    parameters: tuple[Parameter, ...]
    bucket: Bucket
    alarm_topic: str
    alarms: tuple[MetricAlarm, ...]
    system_health: CompositeAlarm

    def table(self, store: Store) -> DynamoTable:
        return next(table for table in self.tables if table.store.store is store)

    def parameter(self, secret: Secret) -> Parameter:
        return next(p for p in self.parameters if p.secret is secret)

    @property
    def durable_tables(self) -> tuple[DynamoTable, ...]:
        return tuple(table for table in self.tables if table.pitr)


@cache
def _stack(prefix: str) -> AwsStack:
    alarms = tuple(alarm for intent in ALARM_INTENTS for alarm in _alarms_for(intent, prefix))
    return AwsStack(
        prefix=prefix,
        key=StackKey(key_alias(prefix)),
        tables=tuple(dynamo_table(spec, prefix) for spec in STORES.values()),
        parameters=tuple(
            Parameter(ssm_parameter_name(spec, prefix), spec.secret, spec.description)
            for spec in SECRETS.values()
        ),
        bucket=Bucket(
            BASELINES_BUCKET.physical_name(prefix),
            BASELINES_BUCKET,
            BASELINES_BUCKET.noncurrent_version_days,
        ),
        alarm_topic=alarm_topic_name(prefix),
        alarms=alarms,
        system_health=CompositeAlarm(
            name=f"{prefix}-{SYSTEM_HEALTH}",
            key=SYSTEM_HEALTH,
            description="Any Phase Mirror alarm of this stack",
            rule=" OR ".join(f'ALARM("{alarm.name}")' for alarm in alarms),
        ),
    )


def aws_stack(prefix: str) -> AwsStack:
    """The desired state of the stack with this resource prefix."""
    return _stack(prefix)
