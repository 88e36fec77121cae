"""`phase-mirror doctor` on AWS: is every catalog resource there and shaped as the catalog says?

Checks, each with the command that fixes it: credentials and endpoint (STS), every table's key
schema and indexes, TTL on the catalog's attribute, point-in-time recovery on durable tables,
the KMS key enabled with rotation on, the SSM parameters present as SecureString with a current
value of the catalog's shape, and the baselines bucket with versioning on.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from botocore.exceptions import ClientError

from ..catalog import SECRETS
from ..errors import StoreError
from ..operations import Check
from .errors import BOOTSTRAP_HINT, Resource, error_code, mapped
from .secrets import disabled_label, parameter_history
from .session import AwsTarget, Clients
from .spec import DynamoTable, KeySchema, Parameter, aws_stack

_TABLE_FIX_SCHEMA = (
    "a table's keys cannot change in place: export its items, delete the table, recreate it "
    "with 'pulumi up' (or 'phase-mirror bootstrap' on a dev account) and re-import"
)


class AwsDoctor:
    def __init__(self, clients: Clients, target: AwsTarget) -> None:
        self._clients = clients
        self._target = target
        self._stack = aws_stack(target.prefix)

    def run(self) -> list[Check]:
        identity = self._identity()
        if not identity.ok:  # nothing else can be checked without a working endpoint
            return [identity]
        checks = [identity]
        for spec in self._stack.tables:
            checks.extend(self._table_checks(spec))
        checks.extend(self._key_checks())
        checks.extend(self._parameter_check(parameter) for parameter in self._stack.parameters)
        checks.append(self._bucket_check())
        return checks

    # -- helpers

    def _guard(self, name: str, fix: str, check: Callable[[], Check]) -> Check:
        """Run one check; an AWS failure becomes a failed check instead of stopping doctor."""
        try:
            return check()
        except StoreError as error:
            return Check.failed(name, str(error), fix)

    def _identity(self) -> Check:
        def check() -> Check:
            with mapped(self._target, Resource("STS endpoint", self._target.region, "aws")):
                who = self._clients.generic("sts").get_caller_identity()
            return Check.passed(
                "aws credentials",
                f"account {who['Account']} as {who['Arn']} in {self._target.where()}",
            )

        return self._guard(
            "aws credentials",
            "set credentials (AWS_PROFILE, AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY or an IAM "
            f"role) and check region=/endpoint= in the backend setting from {self._target.source}",
            check,
        )

    # -- tables

    def _table_checks(self, spec: DynamoTable) -> list[Check]:
        table = spec.name
        resource = Resource("DynamoDB table", table, spec.store.name)
        name = f"table {table}"
        try:
            with mapped(self._target, resource):
                try:
                    described = self._clients.dynamodb.describe_table(TableName=table)["Table"]
                except ClientError as error:
                    if error_code(error) != "ResourceNotFoundException":
                        raise
                    return [
                        Check.failed(name, f"missing in {self._target.where()}", BOOTSTRAP_HINT)
                    ]
        except StoreError as error:
            return [Check.failed(name, str(error), BOOTSTRAP_HINT)]
        problems = _schema_problems(spec, described)
        checks = [
            Check.verdict(
                name,
                not problems,
                "; ".join(problems)
                or f"{described.get('TableStatus')}, keys and indexes as the catalog",
                _TABLE_FIX_SCHEMA,
            )
        ]
        if (attribute := spec.ttl_attribute) is not None:
            checks.append(
                self._guard(
                    f"ttl {table}",
                    _ttl_fix(table, attribute),
                    lambda: self._ttl(table, attribute, resource),
                )
            )
        if spec.pitr:
            checks.append(
                self._guard(f"pitr {table}", _pitr_fix(table), lambda: self._pitr(table, resource))
            )
        return checks

    def _ttl(self, table: str, expected: str, resource: Resource) -> Check:
        with mapped(self._target, resource):
            described = self._clients.dynamodb.describe_time_to_live(TableName=table)
        ttl = described.get("TimeToLiveDescription", {})
        status = ttl.get("TimeToLiveStatus", "DISABLED")
        attribute = ttl.get("AttributeName")
        ok = status in ("ENABLED", "ENABLING") and attribute == expected
        detail = f"TTL {status} on {attribute!r}" if attribute else f"TTL {status}"
        if not ok:
            detail += f"; the catalog expects TTL on {expected!r}"
        return Check.verdict(f"ttl {table}", ok, detail, _ttl_fix(table, expected))

    def _pitr(self, table: str, resource: Resource) -> Check:
        with mapped(self._target, resource):
            described = self._clients.dynamodb.describe_continuous_backups(TableName=table)
        pitr = described["ContinuousBackupsDescription"].get("PointInTimeRecoveryDescription", {})
        status = pitr.get("PointInTimeRecoveryStatus", "DISABLED")
        ok = status in ("ENABLED", "ENABLING")
        detail = f"point-in-time recovery {status}"
        if not ok:
            detail += " on a durable table"
        return Check.verdict(f"pitr {table}", ok, detail, _pitr_fix(table))

    # -- KMS

    def _key_checks(self) -> list[Check]:
        key_id = self._target.key_id
        resource = Resource("KMS key", key_id, "keys")
        fix = f"{BOOTSTRAP_HINT}; or point kms_key= at the stack's key"
        try:
            with mapped(self._target, resource):
                meta = self._clients.kms.describe_key(KeyId=key_id)["KeyMetadata"]
        except StoreError as error:
            return [Check.failed(f"kms key {key_id}", str(error), fix)]
        state = meta.get("KeyState", "Unknown")
        checks = [
            Check.verdict(
                f"kms key {key_id}",
                state == "Enabled",
                f"{meta['Arn']} is {state}",
                f"aws kms enable-key --key-id {meta['KeyId']} (or cancel its deletion)",
            )
        ]
        rotation_fix = (
            f"aws kms enable-key-rotation --key-id {meta['KeyId']} (the platform sets it)"
        )

        def rotation() -> Check:
            with mapped(self._target, resource):
                status = self._clients.kms.get_key_rotation_status(KeyId=meta["KeyId"])
            on = bool(status.get("KeyRotationEnabled"))
            return Check.verdict(
                f"kms key rotation {key_id}",
                on,
                "automatic rotation on" if on else "automatic rotation OFF",
                rotation_fix,
            )

        checks.append(self._guard(f"kms key rotation {key_id}", rotation_fix, rotation))
        return checks

    # -- SSM

    def _parameter_check(self, parameter: Parameter) -> Check:
        spec, secret = SECRETS[parameter.secret], parameter.secret
        name = parameter.name
        check_name = f"parameter {name}"

        def check() -> Check:
            resource = Resource("SSM parameter", name, "secrets")
            with mapped(self._target, resource):
                history = parameter_history(self._clients, name)
            latest = max(history, key=lambda entry: int(entry["Version"]))
            if latest.get("Type") != "SecureString":
                return Check.failed(
                    check_name,
                    f"type {latest.get('Type')}, not SecureString: stored unencrypted",
                    f"delete it and recreate it as SecureString with --key-id {self._target.key_id} "
                    "('pulumi up' does)",
                )
            values = [
                entry
                for entry in history
                if disabled_label(entry["Version"]) not in set(entry.get("Labels") or ())
            ]
            if not values:
                return Check.failed(
                    check_name,
                    "SecureString, but every version is disabled: the service fails closed",
                    f"set a new value with 'phase-mirror rotate-secret {secret.value}'",
                )
            newest = max(values, key=lambda entry: int(entry["Version"]))
            shaped = re.fullmatch(spec.value_pattern, str(newest.get("Value", ""))) is not None
            return Check.verdict(
                check_name,
                shaped,
                f"SecureString, current version {newest['Version']}"
                + ("" if shaped else " does not match the catalog's format (64 hex characters)"),
                f"set a proper value with 'phase-mirror rotate-secret {secret.value}'",
            )

        return self._guard(check_name, BOOTSTRAP_HINT, check)

    # -- S3

    def _bucket_check(self) -> Check:
        bucket = self._target.bucket
        name = f"bucket {bucket}"
        fix_versioning = (
            f"aws s3api put-bucket-versioning --bucket {bucket} "
            "--versioning-configuration Status=Enabled"
        )

        def check() -> Check:
            resource = Resource("S3 bucket", bucket, "baselines")
            with mapped(self._target, resource):
                try:
                    self._clients.s3.head_bucket(Bucket=bucket)
                except ClientError as error:
                    if error_code(error) in ("404", "NoSuchBucket", "NotFound"):
                        return Check.failed(
                            name,
                            f"missing in {self._target.where()}",
                            f"{BOOTSTRAP_HINT}; or set bucket= to the stack's bucket",
                        )
                    raise
                status = self._clients.s3.get_bucket_versioning(Bucket=bucket).get("Status")
            return Check.verdict(
                name,
                status == "Enabled",
                f"versioning {status or 'never enabled'}",
                fix_versioning,
            )

        return self._guard(name, BOOTSTRAP_HINT, check)


def _ttl_fix(table: str, attribute: str) -> str:
    return (
        f"aws dynamodb update-time-to-live --table-name {table} --time-to-live-specification "
        f"Enabled=true,AttributeName={attribute} (or 'pulumi up')"
    )


def _pitr_fix(table: str) -> str:
    return (
        f"aws dynamodb update-continuous-backups --table-name {table} "
        "--point-in-time-recovery-specification PointInTimeRecoveryEnabled=true (or 'pulumi up')"
    )


def _schema_problems(spec: DynamoTable, described: Any) -> list[str]:
    """Differences between a described table and its spec's keys and indexes."""
    types = {
        a["AttributeName"]: a["AttributeType"] for a in described.get("AttributeDefinitions", [])
    }
    problems = []

    def keys_problem(what: str, schema: list[Any], keys: KeySchema) -> None:
        actual = [(k["AttributeName"], k["KeyType"], types.get(k["AttributeName"])) for k in schema]
        expected = [(name, kind, spec.attributes[name]) for name, kind in keys.elements()]
        if sorted(actual) != sorted(expected):
            problems.append(f"{what} keys {_show(actual)}, catalog {_show(expected)}")

    keys_problem("table", described.get("KeySchema", []), spec.keys)
    indexes = {i["IndexName"]: i for i in described.get("GlobalSecondaryIndexes", [])}
    for index in spec.indexes:
        found = indexes.pop(index.name, None)
        if found is None:
            problems.append(f"global secondary index {index.name!r} missing")
            continue
        keys_problem(f"index {index.name!r}", found.get("KeySchema", []), index.keys)
        projection = found.get("Projection", {}).get("ProjectionType")
        if projection != index.projection:
            problems.append(
                f"index {index.name!r} projects {projection}, catalog needs {index.projection}"
            )
    return problems


def _show(keys: list[Any]) -> str:
    return ", ".join(f"{name} {kind} {kind_type}" for name, kind, kind_type in keys)
