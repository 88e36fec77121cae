"""AWS data resources: the stack's KMS key, one DynamoDB table per catalog store, the
SecureString parameters of the catalog's secrets and the versioned baselines bucket, rendered
from the stack's spec records (`adapters.aws.spec`, which bootstrap and doctor read too)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws
import pulumi_random as random

from adapters.aws.spec import DynamoTable, aws_stack
from adapters.catalog import Secret, Store

from . import documents
from .scope import AwsScope, policy_json

SECRET_BYTES = 32


@dataclass(frozen=True)
class StackKey:
    key: aws.kms.Key
    alias: aws.kms.Alias


def stack_key(
    scope: AwsScope,
    *,
    service_role: aws.iam.Role,
    deploy_role: aws.iam.Role,
    compute_grants: Mapping[str, pulumi.Input[object]],
) -> StackKey:
    """The customer-managed key encrypting tables, parameters, the bucket, the alarm topic,
    backups and the compute (log groups, function environments, the dead-letter queue, the
    schedule's input), and wrapping the service's envelope data keys. `compute_grants` are
    the key policy's compute inputs (compute.key_grants)."""
    key = aws.kms.Key(
        scope.child("key"),
        description=f"Phase Mirror {scope.prefix}: tables, secrets, baselines, alarms, backups",
        enable_key_rotation=True,
        rotation_period_in_days=aws_stack(scope.prefix).key.rotation_days,
        deletion_window_in_days=scope.config.key_deletion_window_days,
        policy=policy_json(
            documents.key_policy,
            account_id=scope.account_id,
            partition=scope.partition,
            region=scope.region,
            service_role_arn=service_role.arn,
            deploy_role_arn=deploy_role.arn,
            **compute_grants,
        ),
        opts=scope.data_opts(),
    )
    alias = aws.kms.Alias(
        scope.child("key-alias"),
        name=aws_stack(scope.prefix).key.alias,
        target_key_id=key.key_id,
        opts=scope.opts(),
    )
    return StackKey(key, alias)


def table(scope: AwsScope, spec: DynamoTable, key: aws.kms.Key) -> aws.dynamodb.Table:
    """A spec table: keys, indexes and TTL attribute exactly as the catalog declares."""
    attributes: list[aws.dynamodb.TableAttributeArgsDict] = [
        {"name": name, "type": kind} for name, kind in sorted(spec.attributes.items())
    ]
    indexes: list[aws.dynamodb.TableGlobalSecondaryIndexArgsDict] = [
        {
            "name": index.name,
            "projection_type": index.projection,
            "key_schemas": [
                {"attribute_name": name, "key_type": kind} for name, kind in index.keys.elements()
            ],
        }
        for index in spec.indexes
    ]
    ttl: aws.dynamodb.TableTtlArgsDict | None = None
    if spec.ttl_attribute:
        ttl = {"attribute_name": spec.ttl_attribute, "enabled": True}
    store = spec.store.name
    return aws.dynamodb.Table(
        scope.child("table", store),
        name=spec.name,
        billing_mode=spec.billing_mode,
        hash_key=spec.keys.hash_key,
        range_key=spec.keys.range_key,
        attributes=attributes,
        global_secondary_indexes=indexes or None,
        ttl=ttl,
        point_in_time_recovery={"enabled": spec.pitr},
        server_side_encryption={"enabled": True, "kms_key_arn": key.arn},
        deletion_protection_enabled=scope.config.deletion_protection,
        tags={"Store": store, "Durability": "durable" if spec.pitr else "ephemeral"},
        opts=scope.data_opts(),
    )


def tables(scope: AwsScope, key: aws.kms.Key) -> dict[Store, aws.dynamodb.Table]:
    return {spec.store.store: table(scope, spec, key) for spec in aws_stack(scope.prefix).tables}


def secret_parameters(scope: AwsScope, key: aws.kms.Key) -> dict[Secret, aws.ssm.Parameter]:
    """SecureString parameters with a random first version. Rotation writes new versions
    outside Pulumi (adapters/aws/secrets.py), so `up` must never write the value back."""
    parameters = {}
    for spec in aws_stack(scope.prefix).parameters:
        secret = spec.secret
        initial = random.RandomId(
            scope.child("initial", secret.value),
            byte_length=SECRET_BYTES,
            opts=pulumi.ResourceOptions(parent=scope.parent),
        )
        parameters[secret] = aws.ssm.Parameter(
            scope.child("parameter", secret.value),
            name=spec.name,
            description=spec.description,
            type="SecureString",
            tier="Standard",
            key_id=key.arn,
            value=initial.hex,
            tags={"Secret": secret.value},
            opts=scope.data_opts(ignore_changes=["value"]),
        )
    return parameters


@dataclass(frozen=True)
class Baselines:
    bucket: aws.s3.Bucket
    public_access_block: aws.s3.BucketPublicAccessBlock


def baselines_bucket(scope: AwsScope, key: aws.kms.Key) -> Baselines:
    record = aws_stack(scope.prefix).bucket
    spec = record.spec
    bucket = aws.s3.Bucket(
        scope.child("bucket", spec.name),
        bucket=record.name,
        force_destroy=False,
        tags={"Bucket": spec.name},
        opts=scope.data_opts(),
    )
    child = scope.opts(depends_on=[bucket])
    public_access_block = _private(scope, spec.name, bucket)
    aws.s3.BucketServerSideEncryptionConfiguration(
        scope.child("bucket", spec.name, "encryption"),
        bucket=bucket.id,
        rules=[
            {
                "apply_server_side_encryption_by_default": {
                    "sse_algorithm": "aws:kms",
                    "kms_master_key_id": key.arn,
                },
                # One data key per bucket instead of a KMS call per object: cheaper, same key.
                "bucket_key_enabled": True,
            }
        ],
        opts=child,
    )
    aws.s3.BucketPolicy(
        scope.child("bucket", spec.name, "tls-only"),
        bucket=bucket.id,
        policy=policy_json(documents.tls_only_bucket_policy, bucket_arn=bucket.arn),
        opts=scope.opts(depends_on=[public_access_block]),
    )
    aws.s3.BucketLifecycleConfiguration(
        scope.child("bucket", spec.name, "lifecycle"),
        bucket=bucket.id,
        rules=[
            {
                "id": "expire-noncurrent-baselines",
                "status": "Enabled",
                "filter": {"prefix": ""},
                "noncurrent_version_expiration": {
                    "noncurrent_days": record.noncurrent_version_days
                },
                "expiration": {"expired_object_delete_marker": True},
                "abort_incomplete_multipart_upload": {"days_after_initiation": 7},
            }
        ],
        opts=child,
    )
    access_logs(scope, bucket)
    return Baselines(bucket, public_access_block)


def _private(scope: AwsScope, part: str, bucket: aws.s3.Bucket) -> aws.s3.BucketPublicAccessBlock:
    """What every bucket of the stack has: versioning, all four public access blocks and
    BucketOwnerEnforced (no ACLs)."""
    child = scope.opts(depends_on=[bucket])
    aws.s3.BucketVersioning(
        scope.child("bucket", part, "versioning"),
        bucket=bucket.id,
        versioning_configuration={"status": "Enabled"},
        opts=child,
    )
    block = aws.s3.BucketPublicAccessBlock(
        scope.child("bucket", part, "public-access-block"),
        bucket=bucket.id,
        block_public_acls=True,
        block_public_policy=True,
        ignore_public_acls=True,
        restrict_public_buckets=True,
        opts=child,
    )
    aws.s3.BucketOwnershipControls(
        scope.child("bucket", part, "ownership"),
        bucket=bucket.id,
        rule={"object_ownership": "BucketOwnerEnforced"},
        opts=child,
    )
    return block


#: Server access logs are kept this long (then expire with their noncurrent versions).
ACCESS_LOG_DAYS = 365


def access_logs(scope: AwsScope, source: aws.s3.Bucket) -> aws.s3.Bucket:
    """A log bucket receiving the baselines bucket's server access logs (CKV_AWS_18). S3 log
    delivery supports only SSE-S3 on the target, so this bucket holds logs and nothing else;
    log delivery writes through a bucket policy for this account's source bucket only."""
    name = f"{scope.prefix}-access-logs"
    logs = aws.s3.Bucket(
        scope.child("bucket", "access-logs"),
        bucket=name,
        force_destroy=False,
        tags={"Bucket": "access-logs"},
        opts=scope.data_opts(),
    )
    child = scope.opts(depends_on=[logs])
    block = _private(scope, "access-logs", logs)
    aws.s3.BucketServerSideEncryptionConfiguration(
        scope.child("bucket", "access-logs", "encryption"),
        bucket=logs.id,
        rules=[{"apply_server_side_encryption_by_default": {"sse_algorithm": "AES256"}}],
        opts=child,
    )
    aws.s3.BucketPolicy(
        scope.child("bucket", "access-logs", "policy"),
        bucket=logs.id,
        policy=policy_json(
            documents.access_log_bucket_policy,
            bucket_arn=logs.arn,
            # From the name, not `source.arn`: the policy then depends on the log bucket only.
            source_bucket_arn=f"arn:{scope.partition}:s3:::{aws_stack(scope.prefix).bucket.name}",
            account_id=scope.account_id,
        ),
        opts=scope.opts(depends_on=[block]),
    )
    aws.s3.BucketLifecycleConfiguration(
        scope.child("bucket", "access-logs", "lifecycle"),
        bucket=logs.id,
        rules=[
            {
                "id": "expire-access-logs",
                "status": "Enabled",
                "filter": {"prefix": ""},
                "expiration": {"days": ACCESS_LOG_DAYS},
                "noncurrent_version_expiration": {"noncurrent_days": 30},
                "abort_incomplete_multipart_upload": {"days_after_initiation": 7},
            }
        ],
        opts=child,
    )
    aws.s3.BucketLogging(
        scope.child("bucket", "baselines", "logging"),
        bucket=source.id,
        target_bucket=logs.id,
        target_prefix="baselines/",
        opts=scope.opts(depends_on=[source, logs]),
    )
    return logs
