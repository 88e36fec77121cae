"""The desired state of an AWS stack: the catalog turned into typed records.

Three readers, one source: the Pulumi components render these records into resources
(platform/phase_platform/aws), `phase-mirror bootstrap` renders them into SDK calls on an
emulator or a dev account (adapters/aws/provision.py, alarms.py), and doctor / verify-pitr /
verify-alarms compare what AWS describes with them (doctor.py, verify.py). Everything
AWS-specific about a name or a shape lives here: SSM parameter paths, the KMS alias, DynamoDB
key schemas and throttle metrics, CloudWatch alarm definitions and the composite rule, and the
compute (Lambda functions, their roles and log groups, the HTTP API, the anonymizer's schedule
and dead-letter queue) with the alarms on it. The Lambda runtime, architecture and handlers are
declared here once; the zip builder (deploy/lambda_build.py) reads them from this module.

This module imports no SDK (the Pulumi program and the policy pack read it too).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from functools import cache
from typing import Literal

from ..catalog import (
    ALARM_INTENTS,
    BASELINES_BUCKET,
    COMPUTE_ALARMS,
    KEY_ROTATION_DAYS,
    LOG_RETENTION_DAYS,
    METRICS_NAMESPACE,
    SCHEDULE_INPUT,
    SECRETS,
    STORE_THROTTLING,
    STORES,
    SYSTEM_HEALTH,
    WORKLOADS,
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
    Workload,
    WorkloadSpec,
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

#: The Lambda runtime and architecture of both functions, and each workload's entry point. The
#: zip builder (deploy/lambda_build.py) installs wheels for exactly these. python3.13 (Amazon
#: Linux 2023, supported until 2029): python3.11 and the other Amazon Linux 2 runtimes were
#: deprecated on 2026-06-30 and can no longer be updated. The code is Python 3.11 and runs as is.
LAMBDA_RUNTIME = "python3.13"
#: Graviton: about 20% cheaper per GB-second; every native dependency ships aarch64 wheels.
LAMBDA_ARCHITECTURE = "arm64"
LAMBDA_HANDLERS: dict[Workload, str] = {
    Workload.API: "service.runtime.lambda_http.handler",
    Workload.ANONYMIZER: "service.runtime.jobs.anonymize_handler",
}
LAMBDA_NAMESPACE = "AWS/Lambda"
LAMBDA_METRICS: dict[AlarmKind, str] = {
    AlarmKind.FUNCTION_ERRORS: "Errors",
    AlarmKind.FUNCTION_THROTTLES: "Throttles",
    AlarmKind.FUNCTION_DURATION: "Duration",
}
API_GATEWAY_NAMESPACE = "AWS/ApiGateway"
SCHEDULER_NAMESPACE = "AWS/Scheduler"
#: The API serves on the `$default` stage at the root of its invoke URL.
DEFAULT_STAGE = "$default"
#: One catch-all route: the app routes (and answers 404) itself, so the API's paths are
#: declared once, in service/api.
DEFAULT_ROUTE = "$default"
#: API Gateway HTTP API -> Lambda proxy payload (service/runtime/lambda_http.py refuses others).
PAYLOAD_FORMAT_VERSION = "2.0"
#: The scheduler retries a failed delivery this often within this age, then dead-letters it.
SCHEDULE_RETRY_ATTEMPTS = 3
SCHEDULE_MAX_EVENT_AGE_SECONDS = 3600
#: Dead-lettered schedule events are kept the longest SQS allows (14 days).
DLQ_RETENTION_SECONDS = 14 * 24 * 3600


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


def lambda_log_group(function_name: str) -> str:
    """The log group Lambda writes a function's logs to (created by the stack, before it)."""
    return f"/aws/lambda/{function_name}"


def function_role_name(prefix: str, workload: WorkloadSpec) -> str:
    return f"{workload.physical_name(prefix)}-function"


def scheduler_cron(unix_cron: str) -> str:
    """A five-field cron of the catalog (minute hour day month weekday, UTC) as EventBridge
    Scheduler's six-field `cron(...)`: one of day-of-month / day-of-week must be `?`. Numeric
    weekdays are refused: EventBridge counts 1-7 from Sunday, cron 0-6."""
    fields = unix_cron.split()
    if len(fields) != 5:
        raise ValueError(f"expected a five-field cron, got {unix_cron!r}")
    minute, hour, day, month, weekday = fields
    if weekday == "*":
        weekday = "?"
    elif day == "*" and not any(char.isdigit() for char in weekday):
        day = "?"
    else:
        raise ValueError(
            f"cannot express {unix_cron!r} for EventBridge: use '*' for the day of the month "
            "or name the weekdays (MON-FRI)"
        )
    return f"cron({minute} {hour} {day} {month} {weekday} *)"


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
class ApiIdOf:
    """A dimension value known only once the HTTP API named `api_name` exists: its id. Each
    reader resolves it: the Pulumi program with the created API's id, bootstrap and verify by
    looking the API up by name (`MetricAlarm.bound`)."""

    api_name: str


DimensionValue = str | ApiIdOf


class Unresolved(ValueError):
    """A record still has a late-bound dimension where a concrete value is needed."""


def watched_metric(namespace: object, metric_name: object, dimensions: Mapping[str, object]) -> str:
    """`namespace/metric on Name=value, ...`: how a spec record and a described alarm say what
    they watch (drift messages compare the two)."""
    named = ", ".join(f"{k}={v}" for k, v in sorted(dimensions.items()))
    return f"{namespace}/{metric_name} on {named}"


@dataclass(frozen=True)
class MetricAlarm:
    """One CloudWatch metric alarm: either a plain metric (namespace, metric, dimensions,
    statistic or percentile) or a Metrics Insights expression."""

    name: str
    #: The name without the stack prefix (the platform's logical resource names use it).
    key: str
    intent: AlarmIntent
    description: str
    threshold: float
    period_seconds: int
    namespace: str | None = None
    metric_name: str | None = None
    dimensions: dict[str, DimensionValue] = field(default_factory=dict)
    statistic: str | None = None
    #: A percentile such as `p99` (CloudWatch's ExtendedStatistic), instead of `statistic`.
    extended_statistic: str | None = None
    expression: str | None = None
    #: The expression's label (CloudWatch shows it on graphs).
    label: str | None = None
    comparison: str = "GreaterThanThreshold"
    evaluation_periods: int = 1
    treat_missing_data: str = "notBreaching"
    #: THROTTLE alarms: the durable table's store.
    store: Store | None = None
    #: Compute alarms: the workload watched.
    workload: Workload | None = None

    @property
    def kind(self) -> AlarmKind:
        return self.intent.kind

    @property
    def metric(self) -> MetricSpec | None:
        return self.intent.metric

    @property
    def late_bound(self) -> tuple[ApiIdOf, ...]:
        """The dimension values a reader must resolve before it can send or compare them."""
        return tuple(v for v in self.dimensions.values() if isinstance(v, ApiIdOf))

    def bound(self, ids: Mapping[ApiIdOf, str]) -> MetricAlarm:
        """This record with every late-bound dimension replaced by its resolved value."""
        if not self.late_bound:
            return self
        missing = [v.api_name for v in self.late_bound if v not in ids]
        if missing:
            raise Unresolved(f"{self.name}: no id for the HTTP API {', '.join(missing)}")
        return replace(
            self,
            dimensions={
                k: ids[v] if isinstance(v, ApiIdOf) else v for k, v in self.dimensions.items()
            },
        )

    def concrete_dimensions(self) -> dict[str, str]:
        """The dimensions as sent to CloudWatch; `bound` the record first."""
        concrete = {k: v for k, v in self.dimensions.items() if isinstance(v, str)}
        if len(concrete) != len(self.dimensions):
            raise Unresolved(f"{self.name}: late-bound dimensions {self.late_bound} not resolved")
        return concrete

    @property
    def watches(self) -> str:
        """What the alarm evaluates, in words a drift message can compare."""
        if self.expression is not None:
            return repr(self.expression)
        return watched_metric(self.namespace, self.metric_name, self.dimensions)


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


def _compute_alarms(intent: AlarmIntent, compute: Compute) -> list[MetricAlarm]:
    """A compute intent per workload it applies to: the API's on the HTTP API (its id bound
    late), the functions' on each function, the job's on the schedule group."""
    prefix, api = compute.prefix, compute.api

    def alarm(
        workload: WorkloadSpec,
        namespace: str,
        metric_name: str,
        dimensions: dict[str, DimensionValue],
        *,
        statistic: str | None = None,
        extended_statistic: str | None = None,
        threshold: float | None = None,
        description: str | None = None,
    ) -> MetricAlarm:
        key = f"{workload.name}-{intent.key}"
        return MetricAlarm(
            name=f"{prefix}-{key}",
            key=key,
            intent=intent,
            description=description or intent.description,
            threshold=intent.threshold if threshold is None else threshold,
            period_seconds=intent.period_seconds,
            namespace=namespace,
            metric_name=metric_name,
            dimensions=dimensions,
            statistic=statistic,
            extended_statistic=extended_statistic,
            workload=workload.workload,
        )

    kind = intent.kind
    api_dims: dict[str, DimensionValue] = {"ApiId": ApiIdOf(api.name), "Stage": api.stage}
    if kind is AlarmKind.API_ERRORS:
        # Each request counts 0 or 1 in `5xx`, so its average is the share of server errors.
        return [alarm(api.workload, API_GATEWAY_NAMESPACE, "5xx", api_dims, statistic="Average")]
    if kind is AlarmKind.API_LATENCY:
        return [
            alarm(
                api.workload, API_GATEWAY_NAMESPACE, "Latency", api_dims, extended_statistic="p99"
            )
        ]
    if kind in LAMBDA_METRICS:
        found = []
        for function in compute.functions:
            dims: dict[str, DimensionValue] = {"FunctionName": function.name}
            metric = LAMBDA_METRICS[kind]
            if kind is AlarmKind.FUNCTION_DURATION:
                # The intent's threshold is a share of the timeout; Duration is in ms.
                limit = float(round(intent.threshold * function.timeout_seconds * 1000))
                note = f" ({limit:g} ms of the {function.timeout_seconds} s timeout)"
                found.append(
                    alarm(
                        function.workload,
                        LAMBDA_NAMESPACE,
                        metric,
                        dims,
                        extended_statistic="p99",
                        threshold=limit,
                        description=intent.description + note,
                    )
                )
            else:
                found.append(
                    alarm(function.workload, LAMBDA_NAMESPACE, metric, dims, statistic="Sum")
                )
        return found
    if kind is AlarmKind.JOB_FAILURES:
        # Scheduler invokes Lambda asynchronously: a delivery it gave up on (retries exhausted)
        # lands in the dead-letter queue and counts here; a run that raised is the errors alarm's.
        return [
            alarm(
                schedule.workload,
                SCHEDULER_NAMESPACE,
                "InvocationsSentToDeadLetterCount",
                {"ScheduleGroup": schedule.group},
                statistic="Sum",
            )
            for schedule in compute.schedules
        ]
    raise ValueError(f"no CloudWatch rendering for alarm kind {kind}")


# ---------------------------------------------------------------------- compute


@dataclass(frozen=True)
class Function:
    """A Lambda function running one workload of the catalog, with its log group and role."""

    name: str
    workload: WorkloadSpec
    handler: str
    runtime: str
    architecture: str
    timeout_seconds: int
    memory_mb: int
    log_group: str
    log_retention_days: int
    role: str
    #: Least privilege: only these tables (and their indexes) and parameters.
    tables: tuple[DynamoTable, ...]
    parameters: tuple[Parameter, ...]


@dataclass(frozen=True)
class HttpApi:
    """The API Gateway HTTP API in front of the API function: one `$default` route (the app
    routes itself) on the `$default` stage, with access logs in their own log group."""

    name: str
    workload: WorkloadSpec
    function: str
    stage: str
    route_key: str
    payload_format_version: str
    access_log_group: str
    protocol: str = "HTTP"
    log_retention_days: int = LOG_RETENTION_DAYS


@dataclass(frozen=True)
class Schedule:
    """The EventBridge Scheduler schedule running a job workload, its role and dead-letter
    queue."""

    name: str
    group: str
    workload: WorkloadSpec
    function: str
    #: EventBridge's six-field cron, evaluated in `timezone`.
    expression: str
    timezone: str
    input: dict[str, str]
    role: str
    dead_letter_queue: str
    retry_attempts: int = SCHEDULE_RETRY_ATTEMPTS
    max_event_age_seconds: int = SCHEDULE_MAX_EVENT_AGE_SECONDS
    dead_letter_retention_seconds: int = DLQ_RETENTION_SECONDS

    @property
    def arn_path(self) -> str:
        """The schedule's ARN after `:schedule/` (its KMS encryption context names the ARN)."""
        return f"{self.group}/{self.name}"


@dataclass(frozen=True)
class Compute:
    prefix: str
    functions: tuple[Function, ...]
    api: HttpApi
    schedules: tuple[Schedule, ...]

    def function(self, workload: Workload) -> Function:
        return next(f for f in self.functions if f.workload.workload is workload)

    @property
    def log_groups(self) -> tuple[str, ...]:
        """Every log group of the compute (the key policy lets CloudWatch Logs use the key for
        exactly these)."""
        return (*(f.log_group for f in self.functions), self.api.access_log_group)


def _function(spec: WorkloadSpec, prefix: str) -> Function:
    name = spec.physical_name(prefix)
    return Function(
        name=name,
        workload=spec,
        handler=LAMBDA_HANDLERS[spec.workload],
        runtime=LAMBDA_RUNTIME,
        architecture=LAMBDA_ARCHITECTURE,
        timeout_seconds=spec.timeout_seconds,
        memory_mb=spec.memory_mb,
        log_group=lambda_log_group(name),
        log_retention_days=LOG_RETENTION_DAYS,
        role=function_role_name(prefix, spec),
        tables=tuple(dynamo_table(STORES[store], prefix) for store in spec.stores),
        parameters=tuple(_parameter(SECRETS[secret], prefix) for secret in spec.secrets),
    )


def _schedule(function: Function, prefix: str) -> Schedule:
    spec = function.workload
    assert spec.schedule is not None
    return Schedule(
        name=function.name,
        group=prefix,
        workload=spec,
        function=function.name,
        expression=scheduler_cron(spec.schedule),
        timezone="UTC",
        input=dict(SCHEDULE_INPUT),
        role=f"{function.name}-schedule",
        dead_letter_queue=f"{function.name}-dlq",
    )


def _compute(prefix: str) -> Compute:
    functions = tuple(_function(spec, prefix) for spec in WORKLOADS.values())
    api = WORKLOADS[Workload.API]
    api_name = api.physical_name(prefix)
    return Compute(
        prefix=prefix,
        functions=functions,
        api=HttpApi(
            name=api_name,
            workload=api,
            function=api_name,
            stage=DEFAULT_STAGE,
            route_key=DEFAULT_ROUTE,
            payload_format_version=PAYLOAD_FORMAT_VERSION,
            access_log_group=f"/aws/apigateway/{api_name}/access",
        ),
        schedules=tuple(_schedule(f, prefix) for f in functions if f.workload.schedule),
    )


def aws_alarms(prefix: str) -> tuple[MetricAlarm, ...]:
    """The stack's metric alarms, in catalog order: read and write throttles on every durable
    table, one per catalog metric, then the compute's (API 5xx and p99 latency, errors,
    throttles and p99 duration per function, job failures); the system-health composite
    watches all of them."""
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
    compute: Compute

    def table(self, store: Store) -> DynamoTable:
        return next(table for table in self.tables if table.store.store is store)

    def parameter(self, secret: Secret) -> Parameter:
        return next(p for p in self.parameters if p.secret is secret)

    @property
    def durable_tables(self) -> tuple[DynamoTable, ...]:
        return tuple(table for table in self.tables if table.pitr)


def _parameter(spec: SecretSpec, prefix: str) -> Parameter:
    return Parameter(ssm_parameter_name(spec, prefix), spec.secret, spec.description)


@cache
def _stack(prefix: str) -> AwsStack:
    compute = _compute(prefix)
    alarms = tuple(
        [alarm for intent in ALARM_INTENTS for alarm in _alarms_for(intent, prefix)]
        + [alarm for intent in COMPUTE_ALARMS for alarm in _compute_alarms(intent, compute)]
    )
    return AwsStack(
        prefix=prefix,
        key=StackKey(key_alias(prefix)),
        tables=tuple(dynamo_table(spec, prefix) for spec in STORES.values()),
        parameters=tuple(_parameter(spec, prefix) for spec in SECRETS.values()),
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
        compute=compute,
    )


def aws_stack(prefix: str) -> AwsStack:
    """The desired state of the stack with this resource prefix."""
    return _stack(prefix)
