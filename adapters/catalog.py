"""The store catalog: the one cloud-neutral source of truth for every store, key, index, TTL
attribute, secret, bucket, metric and alarm intent.

Each cloud turns it into typed desired-state records in its spec module (`adapters.aws.spec`,
`adapters.gcp.spec`: SSM paths, Secret Manager ids, CloudWatch alarms, Firestore indexes...).
The Pulumi components, emulator bootstrap and doctor/verify all read those records, so a
table's keys or a parameter's name cannot differ between infrastructure and code (the
TypeScript predecessor's Terraform and code disagreed on exactly these). This module is pure
data: it imports nothing but the standard library and names no cloud.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import timedelta
from enum import StrEnum
from typing import Literal

AttrType = Literal["S", "N"]

#: The TTL attribute every expiring item carries: epoch seconds (a number, as DynamoDB's TTL
#: feature needs). The seed's integration test reads `ttl` on `consent-store`.
TTL_ATTRIBUTE = "ttl"

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

    def query_keys(self, index: str | None) -> tuple[KeyAttr, KeyAttr | None]:
        """The (hash, range) attributes a query reads: the table's, or those of `index`."""
        if index is None:
            return self.hash_key, self.range_key
        found = self.index(index)
        return found.hash_key, found.range_key

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

    def physical_name(self, prefix: str) -> str:
        """`{prefix}-{secret}`; a cloud may shape it further (an SSM path on AWS)."""
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

#: Every stack has one customer-managed key: it encrypts the stores, secrets, bucket and alarm
#: notifications, wraps envelope data keys, and rotates at least this often (CKV_GCP_43 bounds
#: Cloud KMS at 90 days; the same bound is applied on every cloud).
KEY_ROTATION_DAYS = 90


class Metric(StrEnum):
    """Operational metrics the service emits and the platform alarms on."""

    CIRCUIT_BREAKER_TRIGGERS = "CircuitBreakerTriggers"
    SECRET_STORE_FAILURES = "SecretStoreFailures"


#: The namespace (AWS) / log field value (GCP) under which the service emits its metrics.
METRICS_NAMESPACE = "PhaseMirror"


@dataclass(frozen=True)
class MetricSpec:
    metric: Metric
    description: str
    #: The alarm fires when the sum over the period is strictly greater than this.
    alarm_threshold: float = 0
    period_seconds: int = 300
    unit: str = "Count"
    dimensions: tuple[str, ...] = field(default=())

    @property
    def name(self) -> str:
        return self.metric.value


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


def kebab(text: str) -> str:
    """`CircuitBreakerTriggers` -> `circuit-breaker-triggers` (alarm and resource names)."""
    return re.sub(r"(?<!^)(?=[A-Z])", "-", text).lower()


# -- Alarm intent: what each stack watches, above which threshold, over which period.
#
# The cloud specs turn each intent into alarms (CloudWatch) or alert policies (Cloud
# Monitoring); the platform creates them and `phase-mirror verify-alarms` expects them.


class AlarmKind(StrEnum):
    THROTTLE = "throttle"  # the database refuses requests
    METRIC = "metric"  # a catalog service metric above its threshold
    #: Compute: the API answers 5xx, is slow, or its function fails, is throttled or runs long.
    API_ERRORS = "api-errors"
    API_LATENCY = "api-latency"
    FUNCTION_ERRORS = "function-errors"
    FUNCTION_THROTTLES = "function-throttles"
    FUNCTION_DURATION = "function-duration"
    #: A scheduled job run failed.
    JOB_FAILURES = "job-failures"
    SYSTEM_HEALTH = "system-health"  # any of the others (AWS composite / GCP combined policy)


@dataclass(frozen=True)
class AlarmIntent:
    #: The stack-independent name (alarm names are `{prefix}-{key}` or derived from it).
    key: str
    kind: AlarmKind
    description: str
    #: Fires when the period's sum is strictly greater than this.
    threshold: float
    period_seconds: int = 300
    #: METRIC intents: the catalog metric watched.
    metric: MetricSpec | None = None


# -- Workloads: the compute that runs the service in a cloud stack.


class Workload(StrEnum):
    #: The calibration HTTP API (`phase-mirror serve` locally; a function or a container).
    API = "api"
    #: The anonymizer, run once a day (`phase-mirror anonymize` locally).
    ANONYMIZER = "anonymizer"


@dataclass(frozen=True)
class WorkloadSpec:
    workload: Workload
    description: str
    #: The entry point, as a module path with a callable (each cloud adapts it).
    timeout_seconds: int
    memory_mb: int
    #: What it may touch, and nothing else (least privilege on every cloud).
    stores: tuple[Store, ...]
    secrets: tuple[Secret, ...]
    #: Encrypts or decrypts with the stack key (envelope encryption of raw events).
    uses_key: bool = True
    uses_bucket: bool = False
    #: Jobs run on this schedule (cron, UTC); services serve requests instead.
    schedule: str | None = None

    @property
    def name(self) -> str:
        return self.workload.value

    def physical_name(self, prefix: str) -> str:
        return f"{prefix}-{self.workload.value}"


WORKLOADS: dict[Workload, WorkloadSpec] = {
    spec.workload: spec
    for spec in (
        WorkloadSpec(
            Workload.API,
            "The calibration API: ingest, nonces, consent, API keys, k-anonymous queries.",
            timeout_seconds=29,  # API Gateway's integration limit is 30 s
            memory_mb=512,
            stores=(
                Store.CONSENT,
                Store.NONCES,
                Store.DEDUP,
                Store.RATE_LIMITS,
                Store.CALIBRATION,
                Store.RAW_EVENTS,
                Store.API_KEYS,
            ),
            # Ingest pseudonymizes org ids with the salt; nothing the API serves reads the
            # redaction key (the oracle's reports are signed by the CLI, not the API).
            secrets=(Secret.ANONYMIZER_SALT,),
        ),
        WorkloadSpec(
            Workload.ANONYMIZER,
            "The daily anonymizer: raw consented events to k-anonymous aggregates (idempotent).",
            timeout_seconds=900,
            memory_mb=512,
            # Reads raw events, checks each org's consent (revoked orgs are skipped), adds to
            # the aggregates (service/calibration/aggregate.py).
            stores=(Store.RAW_EVENTS, Store.CONSENT, Store.CALIBRATION),
            secrets=(Secret.ANONYMIZER_SALT,),
            schedule="17 3 * * *",
        ),
    )
}

#: What a scheduler sends the scheduled anonymizer (`service.runtime.jobs` accepts exactly this,
#: or an empty manual event); the cloud specs put it in the schedule.
SCHEDULE_INPUT: dict[str, str] = {"job": "anonymize", "source": "phase-mirror.schedule"}

#: Days the compute's logs are kept.
LOG_RETENTION_DAYS = 90


#: Database throttling per 5 minutes above which an alarm fires (seed: > 10).
STORE_THROTTLING = AlarmIntent(
    "throttles",
    AlarmKind.THROTTLE,
    "The database refused (throttled) more than 10 requests in 5 minutes.",
    threshold=10,
    period_seconds=300,
)

#: The compute's alarms: one intent per condition, rendered per workload where it applies.
#: A cloud spec renders every one of them or names why it cannot (the parity test reads both).
COMPUTE_ALARMS: tuple[AlarmIntent, ...] = (
    AlarmIntent(
        "5xx",
        AlarmKind.API_ERRORS,
        "More than 1% of the API's answers in 5 minutes were server errors (5xx).",
        threshold=0.01,
    ),
    AlarmIntent(
        "latency-p99",
        AlarmKind.API_LATENCY,
        "The API's p99 latency over 5 minutes was above 2 seconds.",
        threshold=2000,
    ),
    AlarmIntent(
        "errors",
        AlarmKind.FUNCTION_ERRORS,
        "A function invocation failed (an unhandled error) in the last 5 minutes.",
        threshold=0,
    ),
    AlarmIntent(
        "throttles",
        AlarmKind.FUNCTION_THROTTLES,
        "A function invocation was refused for lack of concurrency in the last 5 minutes.",
        threshold=0,
    ),
    AlarmIntent(
        "duration-p99",
        AlarmKind.FUNCTION_DURATION,
        "The p99 run time over 5 minutes was above 80% of the timeout.",
        #: A fraction of the workload's timeout (each cloud turns it into milliseconds).
        threshold=0.8,
    ),
    AlarmIntent(
        "failures",
        AlarmKind.JOB_FAILURES,
        "A scheduled run failed or could not be started (retries exhausted).",
        threshold=0,
        period_seconds=3600,
    ),
)

ALARM_INTENTS: tuple[AlarmIntent, ...] = (
    STORE_THROTTLING,
    *(
        AlarmIntent(
            kebab(spec.name),
            AlarmKind.METRIC,
            spec.description,
            threshold=spec.alarm_threshold,
            period_seconds=spec.period_seconds,
            metric=spec,
        )
        for spec in METRICS.values()
    ),
)

#: The alarm that fires when any other alarm of the stack does.
SYSTEM_HEALTH = "system-health"


def validate_prefix(prefix: str) -> str:
    """Check a resource prefix; every physical name is derived from it."""
    if not _PREFIX_RE.match(prefix):
        raise ValueError(
            f"invalid prefix {prefix!r}: use 3-42 lowercase letters, digits and '-', "
            "starting with a letter (e.g. 'phase-mirror-staging')"
        )
    return prefix


def durable_stores() -> list[StoreSpec]:
    return [spec for spec in STORES.values() if spec.durable]


def ephemeral_stores() -> list[StoreSpec]:
    return [spec for spec in STORES.values() if not spec.durable]
