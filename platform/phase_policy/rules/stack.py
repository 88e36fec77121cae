"""Stack-level rules: the catalog is provisioned, the clouds meet one baseline, production is
protected against deletion."""

from __future__ import annotations

from collections.abc import Sequence

from pulumi_policy import PolicyResource, ReportViolation, Severity, StackValidationArgs

from adapters.aws.spec import key_alias, ssm_parameter_name
from adapters.catalog import BASELINES_BUCKET, SECRETS, STORES
from adapters.gcp.spec import (
    GCP_CRYPTO_KEY,
    TTL_TIMESTAMP_FIELD,
    firestore_indexes,
    secret_manager_id,
)

from ..posture import clouds_of, posture_of
from ..props import MISSING, UNKNOWN, elements, read
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


def _aws_gaps(resources: Sequence[PolicyResource]) -> list[str]:
    tables = _Names(resources, "name", "aws:dynamodb/table:Table")
    buckets = _Names(resources, "bucket", "aws:s3/bucket:Bucket", "aws:s3/bucketV2:BucketV2")
    prefix = dominant_prefix([*tables.known, *buckets.known])
    if prefix is None:
        return ["no DynamoDB table is named after a catalog store ({prefix}-{store})"]
    gaps = []
    missing = tables.missing([spec.physical_name(prefix) for spec in STORES.values()])
    if missing:
        gaps.append(f"DynamoDB tables missing: {', '.join(missing)}")
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
            (hash_field, _), (range_field, order) = fields
            found.add((collection, str(hash_field), str(range_field), str(order)))
    return found


def _gcp_gaps(resources: Sequence[PolicyResource]) -> list[str]:
    gaps = []
    if not of_type(resources, "gcp:firestore/database:Database"):
        gaps.append("no Firestore database")
    buckets = _Names(resources, "name", "gcp:storage/bucket:Bucket")
    collections = _Names(
        resources, "collection", "gcp:firestore/field:Field", "gcp:firestore/index:Index"
    )
    prefix = dominant_prefix([*buckets.known, *collections.known])
    if prefix is None:
        return [*gaps, "no bucket or collection is named after the catalog ({prefix}-...)"]
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


@stack_rule(
    id="PM-STACK-001",
    title="catalog-provisioned",
    description="Every store, secret, bucket and key of the store catalog is provisioned on the stack's cloud.",
    severity=Severity.HIGH,
    remediation="Build the stack from adapters/catalog.py (phase_platform does): one table/collection (with TTL policy and indexes) per store, one secret per catalog secret, the baselines bucket and the stack key.",
)
def catalog_provisioned(args: StackValidationArgs, report: ReportViolation) -> None:
    clouds = clouds_of(args.resources)
    if not clouds:
        report("the stack provisions no AWS or GCP resource: no catalog store exists", None)
    for cloud in clouds:
        cloud_resources = [r for r in args.resources if r.resource_type.startswith(f"{cloud}:")]
        gaps = _aws_gaps(cloud_resources) if cloud == "aws" else _gcp_gaps(cloud_resources)
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
    for cloud in clouds_of(args.resources):
        cloud_resources = [r for r in args.resources if r.resource_type.startswith(f"{cloud}:")]
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


RULES: tuple[Rule, ...] = (catalog_provisioned, cloud_parity, production_protect)
