"""The desired state of a GCP stack: the catalog turned into typed records.

Three readers, one source: the Pulumi components render these records into resources
(platform/phase_platform/gcp), `phase-mirror bootstrap` creates them on the emulators
(adapters/gcp/provision.py), and doctor / verify-pitr / verify-alarms compare what Google
describes with them (doctor.py, verify.py). Everything GCP-specific about a name or a shape
lives here: Secret Manager ids, the key ring and key, Firestore TTL fields and composite
indexes, log-based metrics and Cloud Monitoring alert policies, and the compute (the Cloud Run
service and job, the Cloud Scheduler job, the Artifact Registry repository, the runtime service
accounts) with the alert policies on it.

This module imports no SDK (the Pulumi program and the policy pack read it too).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from functools import cache
from typing import Literal

from ..catalog import (
    ALARM_INTENTS,
    BASELINES_BUCKET,
    COMPUTE_ALARMS,
    KEY_ROTATION_DAYS,
    SECRETS,
    STORES,
    SYSTEM_HEALTH,
    WORKLOADS,
    AlarmIntent,
    AlarmKind,
    MetricSpec,
    Secret,
    SecretSpec,
    Store,
    StoreSpec,
    Workload,
    WorkloadSpec,
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

#: Cloud Run's built-in metrics (no log-based metric needed) and the resources they describe.
RUN_REQUESTS = "run.googleapis.com/request_count"
RUN_LATENCIES = "run.googleapis.com/request_latencies"
RUN_JOB_EXECUTIONS = "run.googleapis.com/job/completed_execution_count"
RUN_REVISION = "cloud_run_revision"
RUN_JOB = "cloud_run_job"
#: The image's name inside the stack's Artifact Registry repository.
IMAGE_NAME = "phase-mirror"
#: The image's default $PORT (Cloud Run sets its own) and the path its startup probe asks; the
#: Dockerfile's entry point (deploy/container.py) reads the same values.
CONTAINER_PORT = 8080
HEALTH_PATH = "/healthz"
#: The Cloud Scheduler job's identity (the workloads' are named after the workload).
SCHEDULER_ROLE = "scheduler"
#: Service account ids are 6-30 characters.
SERVICE_ACCOUNT_ID_LIMIT = 30

IndexOrder = Literal["ASCENDING", "DESCENDING"]


# ---------------------------------------------------------------------- names


def secret_manager_id(spec: SecretSpec, prefix: str) -> str:
    return spec.physical_name(prefix)


def gcp_key_ring(prefix: str) -> str:
    return prefix


def bounded_id(base: str, suffix: str, limit: int) -> str:
    """`{base}-{suffix}` within `limit` characters; too long bases are cut and made unique with
    a short hash so two prefixes never collide after cutting."""
    name = f"{base}-{suffix}"
    if len(name) <= limit:
        return name
    digest = hashlib.sha256(base.encode()).hexdigest()[:6]
    keep = limit - len(suffix) - len(digest) - 2
    return f"{base[:keep].rstrip('-')}-{digest}-{suffix}"


def service_account_id(prefix: str, role: str) -> str:
    return bounded_id(prefix, role, SERVICE_ACCOUNT_ID_LIMIT)


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


def secret_slot(spec: SecretSpec, prefix: str) -> SecretSlot:
    return SecretSlot(secret_manager_id(spec, prefix), spec.secret, spec.description)


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
    """One threshold condition: the period's delta, summed across series, above a threshold.
    With a `denominator_filter` it is a ratio: the filter's series divided by the
    denominator's, each aligned and reduced the same way (Cloud Monitoring's ratio condition)."""

    display_name: str
    filter: str
    threshold: float
    period_seconds: int
    comparison: str = "COMPARISON_GT"
    aligner: str = "ALIGN_DELTA"
    #: One series for the whole stack, whatever the labels (e.g. RuleId).
    reducer: str = "REDUCE_SUM"
    denominator_filter: str | None = None
    denominator_aligner: str = "ALIGN_DELTA"
    denominator_reducer: str = "REDUCE_SUM"


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


# Policies on service metrics come first, then the database's, then the compute's (the order
# `pulumi up` creates them in and verify-alarms reports them in).
_POLICY_ORDER = (AlarmKind.METRIC, AlarmKind.THROTTLE)


def gcp_alert_policies(prefix: str, database: str | None = None) -> tuple[AlertPolicy, ...]:
    """The single-condition alert policies; `database` defaults to the stack's (the prefix)."""
    return _stack(prefix, database or prefix).policies


def gcp_system_health_policy(prefix: str) -> CombinedPolicy:
    return CombinedPolicy(f"{prefix} {SYSTEM_HEALTH}", SYSTEM_HEALTH)


# ---------------------------------------------------------------------- compute (Cloud Run)
#
# Names come from the catalog's workloads; the image's port and health path are CONTAINER_PORT
# and HEALTH_PATH above (deploy/container.py reads them too).


@dataclass(frozen=True)
class RuntimeAccount:
    """A dedicated service account (never the default compute one, never a key)."""

    account_id: str
    role: str
    description: str


@dataclass(frozen=True)
class RunWorkload:
    """What a Cloud Run service or job runs as, and what it may touch. The service reads its
    secrets from Secret Manager at run time (current and previous versions for rotation), so
    `secrets` are the ids its account may read, never values put in its environment."""

    name: str
    spec: WorkloadSpec
    account: RuntimeAccount
    secrets: tuple[SecretSlot, ...]
    #: Service settings in the environment (the platform adds the backend URL).
    settings: tuple[tuple[str, str], ...] = ()

    @property
    def timeout_seconds(self) -> int:
        return self.spec.timeout_seconds

    @property
    def memory(self) -> str:
        return f"{self.spec.memory_mb}Mi"


@dataclass(frozen=True)
class CloudRunJob:
    workload: RunWorkload
    #: The job's command in the image (`service/runtime/jobs.py`).
    command: tuple[str, ...] = ("python", "-m", "service.runtime.jobs")
    #: The job is idempotent, so a retried task adds nothing twice.
    max_retries: int = 1


@dataclass(frozen=True)
class SchedulerJob:
    """Runs the Cloud Run job on the catalog's schedule through the Run Admin API."""

    name: str
    schedule: str
    account: RuntimeAccount
    job: str
    time_zone: str = "UTC"
    retry_count: int = 3
    #: How long Cloud Scheduler waits for the `:run` call (it returns once the execution starts).
    attempt_deadline_seconds: int = 180

    def run_uri(self, project: str, location: str) -> str:
        return (
            f"https://run.googleapis.com/v2/projects/{project}/locations/{location}/jobs/"
            f"{self.job}:run"
        )


@dataclass(frozen=True)
class GcpCompute:
    #: The Artifact Registry (Docker) repository id.
    repository: str
    service: RunWorkload
    job: CloudRunJob
    scheduler: SchedulerJob

    @property
    def accounts(self) -> tuple[RuntimeAccount, ...]:
        return (self.service.account, self.job.workload.account, self.scheduler.account)

    def image_repository(self, project: str, location: str) -> str:
        """Where the image is pushed: `{location}-docker.pkg.dev/{project}/{repository}`."""
        return f"{location}-docker.pkg.dev/{project}/{self.repository}"


def _workload(spec: WorkloadSpec, prefix: str, **settings: str) -> RunWorkload:
    return RunWorkload(
        name=spec.physical_name(prefix),
        spec=spec,
        account=RuntimeAccount(
            service_account_id(prefix, spec.name),
            spec.name,
            f"Runtime identity of the Phase Mirror {spec.name}: {spec.description}",
        ),
        secrets=tuple(secret_slot(SECRETS[secret], prefix) for secret in spec.secrets),
        settings=tuple(settings.items()),
    )


def gcp_compute(prefix: str) -> GcpCompute:
    api, anonymizer = WORKLOADS[Workload.API], WORKLOADS[Workload.ANONYMIZER]
    assert anonymizer.schedule is not None  # the catalog schedules the anonymizer
    job = CloudRunJob(_workload(anonymizer, prefix))
    return GcpCompute(
        repository=prefix,
        # The job runs the anonymizer; the service's in-process loop would race it.
        service=_workload(api, prefix, PHASE_MIRROR_ANONYMIZE_EVERY_SECONDS="0"),
        job=job,
        scheduler=SchedulerJob(
            name=f"{job.workload.name}-daily",
            schedule=anonymizer.schedule,
            account=RuntimeAccount(
                service_account_id(prefix, SCHEDULER_ROLE),
                SCHEDULER_ROLE,
                f"Cloud Scheduler: runs the {job.workload.name} job",
            ),
            job=job.workload.name,
        ),
    )


#: Compute alarm kinds Cloud Run has no faithful metric for; the parity test accepts only
#: these gaps between the AWS and GCP specs.
NOT_RENDERED: dict[AlarmKind, str] = {
    AlarmKind.FUNCTION_ERRORS: (
        "Cloud Run has no per-invocation error metric: the service's failures are its 5xx "
        "answers (the api-5xx policy) and the job's are its failed executions (the "
        "anonymizer-failures policy)"
    ),
}


def _run_filter(compute: GcpCompute, metric: str, extra: str = "") -> str:
    service = compute.service.name
    base = (
        f'metric.type="{metric}" AND resource.type="{RUN_REVISION}" '
        f'AND resource.labels.service_name="{service}"'
    )
    return f"{base} AND {extra}" if extra else base


def _compute_policies(intent: AlarmIntent, prefix: str) -> tuple[AlertPolicy, ...]:
    """The intent's policies: on the service (API_*, FUNCTION_*) or the job (JOB_FAILURES).
    The job's run time has no Cloud Run metric; its task timeout ends a long run as a failed
    execution, which the job-failures policy sees."""
    compute = gcp_compute(prefix)
    service, job = compute.service, compute.job.workload
    period = f"{intent.period_seconds // 60} minutes"
    kind = intent.kind
    if kind in NOT_RENDERED:
        return ()
    if kind is AlarmKind.API_ERRORS:
        ratio = f"{intent.threshold:.0%}"
        condition = Condition(
            f"{service.name} 5xx answers > {ratio} of requests per {period}",
            _run_filter(compute, RUN_REQUESTS, 'metric.labels.response_code_class="5xx"'),
            intent.threshold,
            intent.period_seconds,
            denominator_filter=_run_filter(compute, RUN_REQUESTS),
        )
        workload = service
    elif kind is AlarmKind.API_LATENCY or kind is AlarmKind.FUNCTION_DURATION:
        limit = (
            intent.threshold
            if kind is AlarmKind.API_LATENCY
            else intent.threshold * service.timeout_seconds * 1000
        )
        condition = Condition(
            f"{service.name} p99 latency > {limit:g} ms per {period}",
            _run_filter(compute, RUN_LATENCIES),
            limit,
            intent.period_seconds,
            aligner="ALIGN_PERCENTILE_99",
            # The slowest revision counts: a sum of percentiles means nothing.
            reducer="REDUCE_MAX",
        )
        workload = service
    elif kind is AlarmKind.FUNCTION_THROTTLES:
        condition = Condition(
            f"{service.name} 429 answers > {intent.threshold:g} per {period}",
            _run_filter(compute, RUN_REQUESTS, 'metric.labels.response_code="429"'),
            intent.threshold,
            intent.period_seconds,
        )
        workload = service
    elif kind is AlarmKind.JOB_FAILURES:
        condition = Condition(
            f"{job.name} failed executions > {intent.threshold:g} per {period}",
            f'metric.type="{RUN_JOB_EXECUTIONS}" AND resource.type="{RUN_JOB}" '
            f'AND resource.labels.job_name="{job.name}" AND metric.labels.result="failed"',
            intent.threshold,
            intent.period_seconds,
        )
        workload = job
    else:
        raise ValueError(f"no Cloud Run rendering for alarm kind {kind}")
    key = f"{workload.spec.name}-{intent.key}"
    return (
        AlertPolicy(
            name=f"{prefix} {key}",
            key=key,
            intent=intent,
            condition=condition,
            watches=condition.filter,
        ),
    )


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
    #: Every single-condition policy: the data's, then the compute's.
    policies: tuple[AlertPolicy, ...]
    system_health: CombinedPolicy
    compute: GcpCompute

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
        secrets=tuple(secret_slot(spec, prefix) for spec in SECRETS.values()),
        bucket=Bucket(
            BASELINES_BUCKET.physical_name(prefix), BASELINES_BUCKET.noncurrent_version_days
        ),
        policies=(
            *(_policy(intent, prefix, database) for intent in intents),
            *(policy for intent in COMPUTE_ALARMS for policy in _compute_policies(intent, prefix)),
        ),
        system_health=gcp_system_health_policy(prefix),
        compute=gcp_compute(prefix),
    )


def gcp_stack(prefix: str, database: str | None = None) -> GcpStack:
    """The desired state of the stack with this prefix; its database defaults to the prefix
    (as the platform creates it)."""
    return _stack(prefix, database or prefix)
