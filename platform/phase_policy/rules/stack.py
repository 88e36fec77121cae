"""Stack-level rules: the catalog is provisioned, the clouds meet one baseline, production is
protected against deletion."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from pulumi_policy import PolicyResource, ReportViolation, Severity, StackValidationArgs

from adapters.aws.spec import DynamoTable, dynamo_table, key_alias, ssm_parameter_name
from adapters.catalog import BASELINES_BUCKET, SECRETS, STORES
from adapters.config import STACK_OUTPUT_BACKEND_URL, BackendSetting, parse_backend_url
from adapters.errors import Misconfigured
from adapters.gcp.settings import parse_settings
from adapters.gcp.spec import (
    GCP_CRYPTO_KEY,
    TTL_TIMESTAMP_FIELD,
    firestore_indexes,
    secret_manager_id,
)

from ..posture import clouds_of, posture_of
from ..props import MISSING, UNKNOWN, elements, plain, read
from ..stateful import PROTECT_EXEMPT, stateful_kind
from ..stores import dominant_prefix
from .base import Rule, of_type, stack_rule


class _Names:
    """The values of one property over resources of some types; unknown values kept apart."""

    def __init__(self, resources: Sequence[PolicyResource], prop: str, *types: str) -> None:
        self.known: set[str] = set()
        self.unknown = 0
        for resource in of_type(resources, *types):
            found = read(resource.props, prop)
            if isinstance(found, str):
                self.known.add(found)
            elif found is UNKNOWN:
                self.unknown += 1

    def missing(self, expected: Sequence[str]) -> list[str]:
        absent = [name for name in expected if name not in self.known]
        # An unknown name (preview) may be any one of the absent ones.
        return absent[self.unknown :] if self.unknown else absent


STACK_TYPE = "pulumi:pulumi:Stack"


@dataclass(frozen=True)
class _Backend:
    """What the stack's `backendUrl` output tells the service to use (None: no output seen)."""

    setting: BackendSetting | None
    problem: str | None = None


def _backend(resources: Sequence[PolicyResource], cloud: str) -> _Backend:
    stacks = of_type(resources, STACK_TYPE)
    if not stacks:  # a saved graph without the stack's outputs: nothing to compare
        return _Backend(None)
    url = read(stacks[0].props, STACK_OUTPUT_BACKEND_URL)
    if url is UNKNOWN:
        return _Backend(None)
    if not isinstance(url, str):
        return _Backend(
            None,
            f"no `{STACK_OUTPUT_BACKEND_URL}` stack output: the service cannot find the stores",
        )
    try:
        setting = parse_backend_url(url, source=STACK_OUTPUT_BACKEND_URL)
    except Misconfigured as error:
        return _Backend(None, f"`{STACK_OUTPUT_BACKEND_URL}` is unusable: {error}")
    if setting.scheme != cloud:
        return _Backend(
            None,
            f"`{STACK_OUTPUT_BACKEND_URL}` {url!r} points the service at {setting.scheme}://, not {cloud}://",
        )
    return _Backend(setting)


def _key_schema(table: PolicyResource) -> tuple[object, object]:
    return read(table.props, "hashKey"), read(table.props, "rangeKey")


def _table_gaps(table: PolicyResource, spec: DynamoTable) -> list[str]:
    """Keys (names, types, case), GSIs and TTL of one table against its spec record."""
    gaps = []
    hash_key, range_key = _key_schema(table)
    expected_range = spec.keys.range_key
    if hash_key is not UNKNOWN and hash_key != spec.keys.hash_key:
        gaps.append(f"hash key {hash_key!r}, catalog {spec.keys.hash_key!r}")
    if range_key is not UNKNOWN and (None if range_key is MISSING else range_key) != expected_range:
        gaps.append(
            f"range key {None if range_key is MISSING else range_key!r}, catalog {expected_range!r}"
        )
    attributes = plain(read(table.props, "attributes"))
    if isinstance(attributes, list):
        declared = {str(a.get("name")): a.get("type") for a in attributes if isinstance(a, dict)}
        if declared != dict(spec.attributes):
            gaps.append(f"attributes {declared}, catalog {dict(spec.attributes)}")
    indexes = plain(read(table.props, "globalSecondaryIndexes"))
    if indexes is not UNKNOWN:
        declared_indexes = {}
        for index in indexes if isinstance(indexes, list) else []:
            if not isinstance(index, dict):
                continue
            schema = index.get("keySchemas")
            if isinstance(schema, list):
                keys = tuple(
                    (k.get("attributeName"), k.get("keyType"))
                    for k in schema
                    if isinstance(k, dict)
                )
            else:
                keys = tuple(
                    (index.get(prop), kind)
                    for prop, kind in (("hashKey", "HASH"), ("rangeKey", "RANGE"))
                    if index.get(prop) is not None
                )
            declared_indexes[str(index.get("name"))] = keys
        expected = {i.name: tuple(i.keys.elements()) for i in spec.indexes}
        if declared_indexes != expected:
            gaps.append(f"GSIs {declared_indexes or 'none'}, catalog {expected or 'none'}")
    if spec.ttl_attribute is not None:
        attribute = read(table.props, "ttl", "attributeName")
        enabled = read(table.props, "ttl", "enabled")
        if attribute is not UNKNOWN and (attribute != spec.ttl_attribute or enabled is False):
            gaps.append(
                f"TTL on {None if attribute is MISSING else attribute!r}, catalog {spec.ttl_attribute!r}"
            )
    return [f"table {spec.name}: {gap}" for gap in gaps]


def _aws_gaps(resources: Sequence[PolicyResource], backend: _Backend) -> list[str]:
    tables = _Names(resources, "name", "aws:dynamodb/table:Table")
    buckets = _Names(resources, "bucket", "aws:s3/bucket:Bucket", "aws:s3/bucketV2:BucketV2")
    gaps = [backend.problem] if backend.problem else []
    prefix = (
        backend.setting.prefix
        if backend.setting is not None
        else dominant_prefix([*tables.known, *buckets.known])
    )
    if prefix is None:
        return [*gaps, "no DynamoDB table is named after a catalog store ({prefix}-{store})"]
    missing = tables.missing([spec.physical_name(prefix) for spec in STORES.values()])
    if missing:
        where = f" (backendUrl prefix {prefix!r})" if backend.setting is not None else ""
        gaps.append(f"DynamoDB tables missing: {', '.join(missing)}{where}")
    by_name = {read(t.props, "name"): t for t in of_type(resources, "aws:dynamodb/table:Table")}
    for spec in STORES.values():
        table = by_name.get(spec.physical_name(prefix))
        if table is not None:
            gaps += _table_gaps(table, dynamo_table(spec, prefix))
    wanted_bucket = backend.setting.param("bucket") if backend.setting is not None else None
    if wanted_bucket:
        missing = buckets.missing([wanted_bucket])
        if missing:
            gaps.append(f"S3 bucket named by backendUrl missing: {wanted_bucket}")
    parameters = _Names(resources, "name", "aws:ssm/parameter:Parameter")
    missing = parameters.missing([ssm_parameter_name(spec, prefix) for spec in SECRETS.values()])
    if missing:
        gaps.append(f"SSM parameters missing: {', '.join(missing)}")
    missing = buckets.missing([BASELINES_BUCKET.physical_name(prefix)])
    if missing:
        gaps.append(f"S3 bucket missing: {', '.join(missing)}")
    aliases = _Names(resources, "name", "aws:kms/alias:Alias")
    missing = aliases.missing([key_alias(prefix)])
    if missing:
        gaps.append(f"KMS key alias missing: {', '.join(missing)}")
    return gaps


def _listed(items: object) -> list[object]:
    return items if isinstance(items, list) else []


def _gcp_index_keys(resources: Sequence[PolicyResource]) -> set[tuple[str, str, str, str]]:
    """(collection, hash field, range field, order) of every declared composite index."""
    found = set()
    for index in of_type(resources, "gcp:firestore/index:Index"):
        collection = read(index.props, "collection")
        fields = [
            (read(f, "fieldPath"), read(f, "order"))
            for f in _listed(elements(index.props, "fields"))
            if f is not UNKNOWN
        ]
        fields = [(path, order) for path, order in fields if path != "__name__"]
        if isinstance(collection, str) and len(fields) == 2:
            (hash_field, hash_order), (range_field, order) = fields
            if hash_order in ("ASCENDING", UNKNOWN):  # equality on the hash field
                found.add((collection, str(hash_field), str(range_field), str(order)))
    return found


def _gcp_gaps(resources: Sequence[PolicyResource], backend: _Backend) -> list[str]:
    gaps = [backend.problem] if backend.problem else []
    databases = _Names(resources, "name", "gcp:firestore/database:Database")
    if not of_type(resources, "gcp:firestore/database:Database"):
        gaps.append("no Firestore database")
    buckets = _Names(resources, "name", "gcp:storage/bucket:Bucket")
    collections = _Names(
        resources, "collection", "gcp:firestore/field:Field", "gcp:firestore/index:Index"
    )
    settings = None
    if backend.setting is not None:
        try:
            settings = parse_settings(backend.setting)
        except Misconfigured as error:
            gaps.append(f"`{STACK_OUTPUT_BACKEND_URL}` is unusable: {error}")
    prefix = (
        settings.prefix
        if settings is not None
        else dominant_prefix([*buckets.known, *collections.known])
    )
    if prefix is None:
        return [*gaps, "no bucket or collection is named after the catalog ({prefix}-...)"]
    # The platform names the database after the prefix; the service uses the URL's database.
    database = settings.database if settings is not None else prefix
    missing = databases.missing([database])
    if missing and of_type(resources, "gcp:firestore/database:Database"):
        gaps.append(
            f"the service would use Firestore database {database!r}, which the stack does not create"
        )
    if settings is not None and buckets.missing([settings.bucket]):
        gaps.append(
            f"the service would use bucket {settings.bucket!r}, which the stack does not create"
        )
    misplaced = sorted(
        {
            f"{read(r.props, 'collection')} in {read(r.props, 'database')!r}"
            for r in of_type(resources, "gcp:firestore/field:Field", "gcp:firestore/index:Index")
            if isinstance(read(r.props, "database"), str) and read(r.props, "database") != database
        }
    )
    if misplaced:
        gaps.append(
            f"TTL policies / indexes in another database than {database!r}: {', '.join(misplaced)}"
        )
    ttl_fields = {
        (read(f.props, "collection"), read(f.props, "field"))
        for f in of_type(resources, "gcp:firestore/field:Field")
        if read(f.props, "ttlConfig") is not MISSING
    }
    missing = [
        spec.physical_name(prefix)
        for spec in STORES.values()
        if spec.ttl_attribute
        and (spec.physical_name(prefix), TTL_TIMESTAMP_FIELD) not in ttl_fields
    ]
    if missing:
        gaps.append(
            f"Firestore TTL policies ({TTL_TIMESTAMP_FIELD}) missing on: {', '.join(missing)}"
        )
    declared = _gcp_index_keys(resources)
    missing = [
        f"{spec.physical_name(prefix)}({index.hash_field}, {index.range_field} {index.order})"
        for spec in STORES.values()
        for index in firestore_indexes(spec)
        if (spec.physical_name(prefix), index.hash_field, index.range_field, index.order)
        not in declared
    ]
    if missing:
        gaps.append(f"Firestore composite indexes missing: {', '.join(missing)}")
    secrets = _Names(resources, "secretId", "gcp:secretmanager/secret:Secret")
    missing = secrets.missing([secret_manager_id(spec, prefix) for spec in SECRETS.values()])
    if missing:
        gaps.append(f"Secret Manager secrets missing: {', '.join(missing)}")
    missing = buckets.missing([BASELINES_BUCKET.physical_name(prefix)])
    if missing:
        gaps.append(f"Cloud Storage bucket missing: {', '.join(missing)}")
    keys = _Names(resources, "name", "gcp:kms/cryptoKey:CryptoKey")
    missing = keys.missing([GCP_CRYPTO_KEY])
    if missing:
        gaps.append(f"Cloud KMS crypto key missing: {', '.join(missing)}")
    return gaps


def _per_cloud(args: StackValidationArgs) -> list[tuple[str, list[PolicyResource]]]:
    """(cloud, that cloud's resources) for each cloud the stack provisions."""
    return [
        (cloud, [r for r in args.resources if r.resource_type.startswith(f"{cloud}:")])
        for cloud in clouds_of(args.resources)
    ]


@stack_rule(
    id="PM-STACK-001",
    title="catalog-provisioned",
    description="Every store, secret, bucket and key of the store catalog is provisioned on the stack's cloud, named with the prefix (and, on GCP, in the database and bucket) that the `backendUrl` stack output tells the service to use: AWS tables with the catalog's hash/range key names, attribute names and types (case-sensitive), every GSI with its key schema, and the TTL attribute; GCP TTL policies on `expireAt` and every composite index (equality on the hash field, both orders on the range field) of every store, in that database.",
    severity=Severity.HIGH,
    remediation="Build the stack from the spec records (adapters/aws/spec.py, adapters/gcp/spec.py, which read adapters/catalog.py; phase_platform does) and export `backendUrl` from the same prefix, database and bucket (phase_platform.naming.backend_url).",
)
def catalog_provisioned(args: StackValidationArgs, report: ReportViolation) -> None:
    per_cloud = _per_cloud(args)
    if not per_cloud:
        report("the stack provisions no AWS or GCP resource: no catalog store exists", None)
    for cloud, cloud_resources in per_cloud:
        backend = _backend(args.resources, cloud)
        gaps = (
            _aws_gaps(cloud_resources, backend)
            if cloud == "aws"
            else _gcp_gaps(cloud_resources, backend)
        )
        for gap in gaps:
            report(f"{cloud}: {gap}", None)


@stack_rule(
    id="PM-STACK-002",
    title="cloud-parity-baseline",
    description="Both clouds meet one data-protection baseline: PITR on every durable store, customer-managed keys on stores, secrets and objects, rotation at most every 90 days.",
    severity=Severity.HIGH,
    remediation="Bring the lagging cloud to the baseline (e.g. Firestore `cmek_config`, AWS `rotation_period_in_days=90`); `phase-mirror-gate check --cloud all` prints both postures side by side.",
)
def cloud_parity(args: StackValidationArgs, report: ReportViolation) -> None:
    for cloud, cloud_resources in _per_cloud(args):
        for gap in posture_of(cloud, cloud_resources).gaps():
            report(f"{cloud}: {gap}", None)


@stack_rule(
    id="PM-STACK-003",
    title="production-protect",
    description="In production every stateful resource (table, database, key, secret, bucket, parameter) carries Pulumi's `protect` option.",
    severity=Severity.HIGH,
    remediation="Create stateful resources with `opts=ResourceOptions(protect=True)` in production (phase_platform's `data_opts` follows `deletionProtection`, which production forces).",
    checkov=["CKV_GCP_82"],
    production_only=True,
)
def production_protect(args: StackValidationArgs, report: ReportViolation) -> None:
    for resource in args.resources:
        kind = stateful_kind(resource.resource_type)
        if kind is None or resource.resource_type in PROTECT_EXEMPT:
            continue
        if not resource.opts.protect:
            report(f"{kind} {resource.name} is not protected against deletion", resource.urn)


METRIC_ALARM = "aws:cloudwatch/metricAlarm:MetricAlarm"
COMPOSITE_ALARM = "aws:cloudwatch/compositeAlarm:CompositeAlarm"
ALERT_POLICY = "gcp:monitoring/alertPolicy:AlertPolicy"


def _aws_uncovered(resources: Sequence[PolicyResource]) -> list[str]:
    alarms = of_type(resources, METRIC_ALARM)
    composites = of_type(resources, COMPOSITE_ALARM)
    if not alarms:
        return []
    if not composites:
        return [f"{len(alarms)} alarm(s) but no composite system-health alarm"]
    rules = [read(c.props, "alarmRule") for c in composites]
    if any(rule is UNKNOWN for rule in rules):
        return []
    text = " ".join(rule for rule in rules if isinstance(rule, str))
    missing = [
        name
        for alarm in alarms
        if isinstance(name := read(alarm.props, "name"), str) and f'"{name}"' not in text
    ]
    return [f"the composite alarm does not cover: {', '.join(missing)}"] if missing else []


def _conditions(policy: PolicyResource) -> list[str]:
    found = plain(read(policy.props, "conditions"))
    if not isinstance(found, list):
        return []
    keys = []
    for condition in found:
        if not isinstance(condition, dict):
            continue
        condition = {k: v for k, v in condition.items() if k != "displayName"}
        keys.append(repr(sorted(condition.items())))
    return keys


def _gcp_uncovered(resources: Sequence[PolicyResource]) -> list[str]:
    policies = of_type(resources, ALERT_POLICY)
    if not policies:
        return []
    conditions = [(p, _conditions(p)) for p in policies]
    health = [keys for _, keys in conditions if len(keys) > 1]
    if not health:
        if len(policies) == 1:
            return []
        return [f"{len(policies)} alert policies but no combined system-health policy"]
    covered = {key for keys in health for key in keys}
    # A health policy's own conditions are all covered, so only the others can be missing.
    missing = [
        str(read(p.props, "displayName"))
        for p, keys in conditions
        if any(key not in covered for key in keys)
    ]
    return [f"the system-health policy does not cover: {', '.join(missing)}"] if missing else []


@stack_rule(
    id="PM-STACK-004",
    title="system-health-covers-alerts",
    description="One system-health alert covers every other alert: on AWS a composite alarm whose rule names every metric alarm; on GCP a policy with several conditions that include every condition of every other alert policy.",
    severity=Severity.MEDIUM,
    remediation="Build the composite alarm's rule (AWS) or the system-health policy's conditions (GCP) from the full list of alarms, as adapters/aws/spec.py and adapters/gcp/spec.py do.",
)
def system_health_covers_alerts(args: StackValidationArgs, report: ReportViolation) -> None:
    for cloud, cloud_resources in _per_cloud(args):
        gaps = (
            _aws_uncovered(cloud_resources) if cloud == "aws" else _gcp_uncovered(cloud_resources)
        )
        for gap in gaps:
            report(f"{cloud}: {gap}", None)


RULES: tuple[Rule, ...] = (
    catalog_provisioned,
    cloud_parity,
    production_protect,
    system_health_covers_alerts,
)
