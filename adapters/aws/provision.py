"""Create the catalog's AWS resources on an emulator or a dev account (`phase-mirror bootstrap`).

Production stacks come from Pulumi (`platform/`), which renders the same spec records
(adapters/aws/spec.py). This is the
short path for moto, LocalStack or a sandbox account: a KMS key with rotation and the stack's
alias, every table with its indexes, TTL, point-in-time recovery on durable tables and
encryption with that key, one SecureString parameter per secret with a random first value (as
`pulumi up` creates it), and the versioned, private, encrypted baselines bucket.

Each step is idempotent (an existing resource is kept, never overwritten); the driver's
`bootstrap` refuses to run at all where catalog tables already exist.
"""

from __future__ import annotations

import secrets
from typing import Any

from botocore.exceptions import ClientError

from ..clock import Clock
from ..errors import Misconfigured
from ..operations import Check
from .errors import Resource, error_code, mapped
from .secrets import describe
from .session import AwsTarget, Clients
from .spec import DynamoTable, KeySchema, Parameter, aws_stack

TAGS = {"app": "phase-mirror", "managed-by": "phase-mirror bootstrap"}


class Provisioner:
    def __init__(self, clients: Clients, target: AwsTarget, clock: Clock) -> None:
        self._clients = clients
        self._target = target
        self._clock = clock
        self._stack = aws_stack(target.prefix)

    def existing_tables(self) -> list[str]:
        """Catalog tables (with this prefix) that already exist."""
        found = []
        for spec in self._stack.tables:
            table = spec.name
            with mapped(self._target, Resource("DynamoDB table", table, spec.store.name)):
                try:
                    self._clients.dynamodb.describe_table(TableName=table)
                except ClientError as error:
                    if error_code(error) == "ResourceNotFoundException":
                        continue
                    raise
            found.append(table)
        return found

    def create_all(self) -> list[Check]:
        steps = [self.key()]
        steps += [self.table(spec) for spec in self._stack.tables]
        steps += [self.table_settings(spec) for spec in self._stack.tables]
        steps += [self.parameter(spec) for spec in self._stack.parameters]
        steps.append(self.bucket())
        return steps

    # -- KMS

    def key(self) -> Check:
        key_id = self._target.key_id
        resource = Resource("KMS key", key_id, "keys")
        kms = self._clients.kms
        with mapped(self._target, resource):
            try:
                meta = kms.describe_key(KeyId=key_id)["KeyMetadata"]
                return Check.passed(f"kms key {key_id}", f"kept existing {meta['Arn']}")
            except ClientError as error:
                if error_code(error) != "NotFoundException":
                    raise
            if not key_id.startswith("alias/"):
                raise Misconfigured(
                    f"kms_key={key_id!r} (backend setting from {self._target.source}) does not "
                    f"exist in {self._target.where()}; bootstrap creates a key only under the "
                    "default alias: drop kms_key= or point it at an existing key"
                )
            meta = kms.create_key(
                Description=f"Phase Mirror envelope key ({self._target.prefix})",
                KeyUsage="ENCRYPT_DECRYPT",
                KeySpec="SYMMETRIC_DEFAULT",
                Tags=[{"TagKey": k, "TagValue": v} for k, v in TAGS.items()],
            )["KeyMetadata"]
            kms.enable_key_rotation(KeyId=meta["KeyId"])
            kms.create_alias(AliasName=key_id, TargetKeyId=meta["KeyId"])
        return Check.passed(f"kms key {key_id}", f"created {meta['Arn']} with rotation on")

    # -- DynamoDB

    def table(self, spec: DynamoTable) -> Check:
        table = spec.name
        request: dict[str, Any] = {
            "TableName": table,
            "AttributeDefinitions": [
                {"AttributeName": name, "AttributeType": kind}
                for name, kind in spec.attributes.items()
            ],
            "KeySchema": _key_schema(spec.keys),
            "BillingMode": spec.billing_mode,
            "SSESpecification": {
                "Enabled": True,
                "SSEType": "KMS",
                "KMSMasterKeyId": self._target.key_id,
            },
            "Tags": [{"Key": k, "Value": v} for k, v in TAGS.items()],
        }
        if spec.indexes:
            request["GlobalSecondaryIndexes"] = [
                {
                    "IndexName": index.name,
                    "KeySchema": _key_schema(index.keys),
                    "Projection": {"ProjectionType": index.projection},
                }
                for index in spec.indexes
            ]
        with mapped(self._target, Resource("DynamoDB table", table, spec.store.name)):
            try:
                self._clients.dynamodb.create_table(**request)
            except ClientError as error:
                if error_code(error) != "ResourceInUseException":
                    raise
                return Check.passed(f"table {table}", "kept existing table")
        return Check.passed(f"table {table}", "created")

    def table_settings(self, spec: DynamoTable) -> Check:
        """Wait until the table is active, then turn on TTL and point-in-time recovery."""
        table = spec.name
        dynamodb = self._clients.dynamodb
        done = []
        with mapped(self._target, Resource("DynamoDB table", table, spec.store.name)):
            dynamodb.get_waiter("table_exists").wait(
                TableName=table, WaiterConfig={"Delay": 1, "MaxAttempts": 300}
            )
            if spec.ttl_attribute is not None:
                try:
                    dynamodb.update_time_to_live(
                        TableName=table,
                        TimeToLiveSpecification={
                            "Enabled": True,
                            "AttributeName": spec.ttl_attribute,
                        },
                    )
                except ClientError as error:  # already enabled: AWS says ValidationException
                    if error_code(error) != "ValidationException":
                        raise
                done.append(f"TTL on {spec.ttl_attribute!r}")
            if spec.pitr:
                dynamodb.update_continuous_backups(
                    TableName=table,
                    PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": True},
                )
                done.append("point-in-time recovery")
        return Check.passed(
            f"settings {table}", ", ".join(done) or "nothing to set (no TTL, ephemeral)"
        )

    # -- SSM

    def parameter(self, spec: Parameter) -> Check:
        name = spec.name
        with mapped(self._target, Resource("SSM parameter", name, "secrets")):
            try:
                self._clients.ssm.put_parameter(
                    Name=name,
                    Value=secrets.token_hex(32),
                    Type="SecureString",
                    KeyId=self._target.key_id,
                    Overwrite=False,  # never replace a value that exists
                    Description=describe(spec.secret, self._clock.now().timestamp()),
                )
            except ClientError as error:
                if error_code(error) != "ParameterAlreadyExists":
                    raise
                return Check.passed(f"parameter {name}", "kept existing parameter and its values")
        return Check.passed(f"parameter {name}", "created (SecureString, random first value)")

    # -- S3

    def bucket(self) -> Check:
        bucket = self._target.bucket
        s3 = self._clients.s3
        detail = "created"
        with mapped(self._target, Resource("S3 bucket", bucket, self._stack.bucket.spec.name)):
            request: dict[str, Any] = {"Bucket": bucket}
            if self._target.region != "us-east-1":
                request["CreateBucketConfiguration"] = {"LocationConstraint": self._target.region}
            try:
                s3.create_bucket(**request)
            except ClientError as error:
                code = error_code(error)
                if code == "BucketAlreadyExists":
                    raise Misconfigured(
                        f"S3 bucket name {bucket!r} is taken by another account; set bucket= to "
                        f"a unique name in the backend setting from {self._target.source}"
                    ) from None
                if code != "BucketAlreadyOwnedByYou":
                    raise
                detail = "kept existing bucket"
            s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
            s3.put_public_access_block(
                Bucket=bucket,
                PublicAccessBlockConfiguration={
                    "BlockPublicAcls": True,
                    "IgnorePublicAcls": True,
                    "BlockPublicPolicy": True,
                    "RestrictPublicBuckets": True,
                },
            )
            s3.put_bucket_encryption(
                Bucket=bucket,
                ServerSideEncryptionConfiguration={
                    "Rules": [
                        {
                            "ApplyServerSideEncryptionByDefault": {
                                "SSEAlgorithm": "aws:kms",
                                "KMSMasterKeyID": self._target.key_id,
                            },
                            "BucketKeyEnabled": True,
                        }
                    ]
                },
            )
            s3.put_bucket_lifecycle_configuration(
                Bucket=bucket,
                LifecycleConfiguration={
                    "Rules": [
                        {
                            "ID": "expire-noncurrent-baselines",
                            "Status": "Enabled",
                            "Filter": {"Prefix": ""},
                            "NoncurrentVersionExpiration": {
                                "NoncurrentDays": self._stack.bucket.noncurrent_version_days
                            },
                        }
                    ]
                },
            )
        return Check.passed(
            f"bucket {bucket}",
            f"{detail}; versioning on, public access blocked, KMS-encrypted",
        )


def _key_schema(keys: KeySchema) -> list[dict[str, str]]:
    return [{"AttributeName": name, "KeyType": kind} for name, kind in keys.elements()]
