"""AWS Backup of the durable tables: a KMS-encrypted vault and a daily/weekly/monthly plan.

PITR covers the last 35 days at one-second granularity; the plan keeps restorable copies
longer than that and outside the table's own lifecycle (a deleted table loses its PITR)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import pulumi_aws as aws

from adapters.catalog import STORES, Store

from . import documents
from .scope import AwsScope, policy_json

#: (rule, schedule in UTC): daily 03:00, Sundays 04:00, the 1st of the month 05:00.
SCHEDULES = {
    "daily": "cron(0 3 * * ? *)",
    "weekly": "cron(0 4 ? * SUN *)",
    "monthly": "cron(0 5 1 * ? *)",
}
MANAGED_POLICIES = (
    "AWSBackupServiceRolePolicyForBackup",
    "AWSBackupServiceRolePolicyForRestores",
)


@dataclass(frozen=True)
class Backups:
    vault: aws.backup.Vault
    plan: aws.backup.Plan


def backups(
    scope: AwsScope, *, key: aws.kms.Key, tables: Mapping[Store, aws.dynamodb.Table]
) -> Backups:
    config = scope.config
    retention = {
        "daily": config.backup_daily_retention_days,
        "weekly": config.backup_weekly_retention_days,
        "monthly": config.backup_monthly_retention_days,
    }
    vault = aws.backup.Vault(
        scope.child("backup-vault"),
        name=f"{scope.prefix}-vault",
        kms_key_arn=key.arn,
        force_destroy=False,
        opts=scope.data_opts(),
    )
    plan = aws.backup.Plan(
        scope.child("backup-plan"),
        name=f"{scope.prefix}-plan",
        rules=[
            {
                "rule_name": rule,
                "target_vault_name": vault.name,
                "schedule": schedule,
                "start_window": 60,
                "completion_window": 360,
                "lifecycle": {"delete_after": retention[rule]},
                "recovery_point_tags": {"Schedule": rule},
            }
            for rule, schedule in SCHEDULES.items()
        ],
        opts=scope.opts(),
    )
    role = aws.iam.Role(
        scope.child("backup-role"),
        name=f"{scope.prefix}-backup",
        description="AWS Backup of the durable Phase Mirror tables",
        assume_role_policy=policy_json(
            documents.service_trust_policy,
            service_principal="backup.amazonaws.com",
            account_id=None,
        ),
        opts=scope.opts(),
    )
    attachments = [
        aws.iam.RolePolicyAttachment(
            scope.child("backup-role", name.removeprefix("AWSBackupServiceRolePolicy").lower()),
            role=role.name,
            policy_arn=f"arn:{scope.partition}:iam::aws:policy/service-role/{name}",
            opts=scope.opts(),
        )
        for name in MANAGED_POLICIES
    ]
    aws.backup.Selection(
        scope.child("backup-selection"),
        name="durable-tables",  # unique per plan; names are at most 50 characters
        plan_id=plan.id,
        iam_role_arn=role.arn,
        resources=[tables[store].arn for store, spec in STORES.items() if spec.durable],
        opts=scope.opts(depends_on=attachments),
    )
    return Backups(vault, plan)
