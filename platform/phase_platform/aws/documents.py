"""IAM, KMS key and bucket policy documents as plain data.

Pure functions of ARNs so the tests (and the policy pack) can read exactly what is granted.
Allow statements never use a wildcard action and never a `*` resource; the only `/*` is the
object path of the one baselines bucket. The two places AWS itself requires a wildcard are
Deny statements (TLS-only: every principal, every S3 action) and the `Resource: "*"` of a KMS
key policy, which by definition means "this key".
"""

from __future__ import annotations

from typing import Any

from ..naming import GITHUB_OIDC_ISSUER

Document = dict[str, Any]

VERSION = "2012-10-17"

#: Key administration through IAM (no kms:* and no use of the key itself).
KEY_ADMIN_ACTIONS = [
    "kms:CancelKeyDeletion",
    "kms:CreateAlias",
    "kms:CreateGrant",
    "kms:DeleteAlias",
    "kms:DescribeKey",
    "kms:DisableKey",
    "kms:DisableKeyRotation",
    "kms:EnableKey",
    "kms:EnableKeyRotation",
    "kms:GetKeyPolicy",
    "kms:GetKeyRotationStatus",
    "kms:ListGrants",
    "kms:ListKeyRotations",
    "kms:ListResourceTags",
    "kms:PutKeyPolicy",
    "kms:RetireGrant",
    "kms:RevokeGrant",
    "kms:RotateKeyOnDemand",
    "kms:ScheduleKeyDeletion",
    "kms:TagResource",
    "kms:UntagResource",
    "kms:UpdateAlias",
    "kms:UpdateKeyDescription",
]
#: What account principals may do with the key, only through these AWS services.
KEY_VIA_SERVICE_ACTIONS = [
    "kms:CreateGrant",
    "kms:Decrypt",
    "kms:DescribeKey",
    "kms:Encrypt",
    "kms:GenerateDataKey",
    "kms:GenerateDataKeyWithoutPlaintext",
    "kms:ReEncryptFrom",
    "kms:ReEncryptTo",
]
#: Lambda encrypts function environments, SQS the dead-letter queue and EventBridge Scheduler
#: the schedule's input with the stack key, each on behalf of the account principal using it.
KEY_VIA_SERVICES = ("dynamodb", "ssm", "s3", "sns", "backup", "lambda", "sqs", "scheduler")
#: Envelope encryption by the service (adapters/aws/keys.py) and reading SecureStrings.
#: GetKeyRotationStatus lets `phase-mirror doctor` verify rotation under the service role.
SERVICE_KEY_ACTIONS = [
    "kms:Decrypt",
    "kms:DescribeKey",
    "kms:GenerateDataKey",
    "kms:GetKeyRotationStatus",
]
#: Writing a SecureString version encrypts with the key.
ROTATION_KEY_ACTIONS = ["kms:Encrypt", "kms:GenerateDataKey"]

TABLE_ACTIONS = [
    "dynamodb:BatchGetItem",
    "dynamodb:BatchWriteItem",
    "dynamodb:ConditionCheckItem",
    "dynamodb:DeleteItem",
    "dynamodb:DescribeContinuousBackups",
    "dynamodb:DescribeTable",
    "dynamodb:DescribeTimeToLive",
    "dynamodb:GetItem",
    "dynamodb:PutItem",
    "dynamodb:Query",
    "dynamodb:Scan",
    "dynamodb:UpdateItem",
]
INDEX_ACTIONS = ["dynamodb:Query"]
#: What a function's table driver calls (adapters/aws/table.py), nothing more.
FUNCTION_TABLE_ACTIONS = [
    "dynamodb:DeleteItem",
    "dynamodb:GetItem",
    "dynamodb:PutItem",
    "dynamodb:Query",
    "dynamodb:Scan",
    "dynamodb:UpdateItem",
]
#: The secret driver reads a parameter's versions with GetParameterHistory (adapters/aws/
#: secrets.py); the first version exists from `pulumi up` on, so functions never write one.
FUNCTION_PARAMETER_ACTIONS = ["ssm:GetParameterHistory"]
#: Envelope encryption (adapters/aws/keys.py): data keys and unwrapping them.
FUNCTION_KEY_ACTIONS = ["kms:Decrypt", "kms:GenerateDataKey"]
LOG_ACTIONS = ["logs:CreateLogStream", "logs:PutLogEvents"]
#: What CloudWatch Logs needs of the key to encrypt a log group: a service's use, without grants.
LOGS_KEY_ACTIONS = [action for action in KEY_VIA_SERVICE_ACTIONS if action != "kms:CreateGrant"]
#: The scheduler's role: invoke the job, dead-letter what it could not deliver (an encrypted
#: queue: data keys from the stack key).
SCHEDULER_INVOKE_ACTIONS = ["lambda:InvokeFunction"]
DEAD_LETTER_ACTIONS = ["sqs:SendMessage"]
QUEUE_KEY_ACTIONS = ["kms:Decrypt", "kms:GenerateDataKey"]
PARAMETER_READ_ACTIONS = ["ssm:GetParameter", "ssm:GetParameterHistory", "ssm:GetParameters"]
PARAMETER_ROTATE_ACTIONS = [
    "ssm:LabelParameterVersion",
    "ssm:PutParameter",
    "ssm:UnlabelParameterVersion",
]
BUCKET_ACTIONS = [
    "s3:GetBucketVersioning",
    "s3:GetEncryptionConfiguration",
    "s3:ListBucket",
    "s3:ListBucketVersions",
]
OBJECT_ACTIONS = ["s3:GetObject", "s3:GetObjectVersion", "s3:PutObject"]


def _allow(sid: str, actions: list[str], resources: list[str]) -> Document:
    return {"Sid": sid, "Effect": "Allow", "Action": sorted(actions), "Resource": resources}


def key_policy(
    *,
    account_id: str,
    partition: str,
    region: str,
    service_role_arn: str,
    deploy_role_arn: str,
    function_role_arns: list[str],
    log_group_names: list[str],
    scheduler_role_arns: list[str],
    schedule_arns: list[str],
) -> Document:
    root = f"arn:{partition}:iam::{account_id}:root"
    log_groups = [
        f"arn:{partition}:logs:{region}:{account_id}:log-group:{name}" for name in log_group_names
    ]
    return {
        "Version": VERSION,
        "Statement": [
            {
                "Sid": "KeyAdministrationThroughIam",
                "Effect": "Allow",
                "Principal": {"AWS": root},
                "Action": KEY_ADMIN_ACTIONS,
                "Resource": "*",
            },
            {
                "Sid": "UseThroughAwsServices",
                "Effect": "Allow",
                "Principal": {"AWS": root},
                "Action": KEY_VIA_SERVICE_ACTIONS,
                "Resource": "*",
                "Condition": {
                    "StringEquals": {
                        "kms:CallerAccount": account_id,
                        "kms:ViaService": [
                            f"{service}.{region}.amazonaws.com" for service in KEY_VIA_SERVICES
                        ],
                    }
                },
            },
            {
                # A key policy grant needs no IAM policy, so each role gets only its own needs.
                "Sid": "ServiceRole",
                "Effect": "Allow",
                "Principal": {"AWS": service_role_arn},
                "Action": SERVICE_KEY_ACTIONS,
                "Resource": "*",
            },
            {
                "Sid": "DeployRole",
                "Effect": "Allow",
                "Principal": {"AWS": deploy_role_arn},
                "Action": sorted({*SERVICE_KEY_ACTIONS, *ROTATION_KEY_ACTIONS}),
                "Resource": "*",
            },
            {
                # Alarms publish to the KMS-encrypted SNS topic.
                "Sid": "CloudWatchAlarmsToEncryptedTopic",
                "Effect": "Allow",
                "Principal": {"Service": "cloudwatch.amazonaws.com"},
                "Action": ["kms:Decrypt", "kms:GenerateDataKey"],
                "Resource": "*",
                "Condition": {"StringEquals": {"aws:SourceAccount": account_id}},
            },
            {
                # The functions call KMS themselves (envelope encryption), not through a service.
                "Sid": "WorkloadFunctions",
                "Effect": "Allow",
                "Principal": {"AWS": function_role_arns},
                "Action": FUNCTION_KEY_ACTIONS,
                "Resource": "*",
            },
            {
                # CloudWatch Logs encrypts the compute's log groups, and only those.
                "Sid": "CloudWatchLogsOfTheCompute",
                "Effect": "Allow",
                "Principal": {"Service": f"logs.{region}.amazonaws.com"},
                "Action": LOGS_KEY_ACTIONS,
                "Resource": "*",
                "Condition": {"ArnEquals": {"kms:EncryptionContext:aws:logs:arn": log_groups}},
            },
            {
                # The schedule's input is encrypted with the key; its role decrypts it for
                # exactly its schedule (the encryption context names the schedule).
                "Sid": "SchedulerExecutionRoles",
                "Effect": "Allow",
                "Principal": {"AWS": scheduler_role_arns},
                "Action": ["kms:Decrypt"],
                "Resource": "*",
                "Condition": {
                    "StringEquals": {
                        "kms:EncryptionContext:aws:scheduler:schedule-arn": schedule_arns
                    }
                },
            },
        ],
    }


def data_access_policy(
    *,
    table_arns: list[str],
    index_arns: list[str],
    key_arn: str,
    parameter_arns: list[str],
    bucket_arn: str,
) -> Document:
    """What the running service needs: the catalog's tables, the key, reading the secrets and
    the baselines bucket; nothing else."""
    return {
        "Version": VERSION,
        "Statement": [
            _allow("CatalogTables", TABLE_ACTIONS, table_arns),
            _allow("CatalogIndexes", INDEX_ACTIONS, index_arns),
            _allow("EnvelopeKey", SERVICE_KEY_ACTIONS, [key_arn]),
            _allow("ReadSecrets", PARAMETER_READ_ACTIONS, parameter_arns),
            _allow("BaselinesBucket", BUCKET_ACTIONS, [bucket_arn]),
            _allow("BaselinesObjects", OBJECT_ACTIONS, [f"{bucket_arn}/*"]),
        ],
    }


def function_policy(
    *,
    table_arns: list[str],
    index_arns: list[str],
    parameter_arns: list[str],
    key_arns: list[str],
    log_group_arn: str,
) -> Document:
    """One function's role: the tables, indexes and parameters its catalog workload lists, the
    stack key if it encrypts, and its own log group. X-Ray writes come from AWS's managed
    policy (they support no resource-level permission, so they cannot be scoped here)."""
    statements = [
        _allow("WorkloadTables", FUNCTION_TABLE_ACTIONS, table_arns),
        _allow("WorkloadIndexes", INDEX_ACTIONS, index_arns),
        _allow("ReadSecrets", FUNCTION_PARAMETER_ACTIONS, parameter_arns),
        _allow("EnvelopeKey", FUNCTION_KEY_ACTIONS, key_arns),
        # `:*`: the streams of this one log group (AWS's own basic execution policy shape).
        _allow("OwnLogGroup", LOG_ACTIONS, [f"{log_group_arn}:*"]),
    ]
    # A statement naming no resource is invalid IAM: a workload without indexes gets none.
    return {"Version": VERSION, "Statement": [st for st in statements if st["Resource"]]}


def scheduler_policy(*, function_arn: str, queue_arn: str, key_arn: str) -> Document:
    """The schedule's role: invoke its one function, dead-letter into its one queue."""
    return {
        "Version": VERSION,
        "Statement": [
            _allow("InvokeJob", SCHEDULER_INVOKE_ACTIONS, [function_arn]),
            _allow("DeadLetter", DEAD_LETTER_ACTIONS, [queue_arn]),
            _allow("EncryptedQueue", QUEUE_KEY_ACTIONS, [key_arn]),
        ],
    }


def secret_rotation_policy(*, key_arn: str, parameter_arns: list[str]) -> Document:
    """Rotating the redaction key and salt (runbook, CI): new versions and version labels."""
    return {
        "Version": VERSION,
        "Statement": [
            _allow("RotateSecrets", PARAMETER_ROTATE_ACTIONS, parameter_arns),
            _allow("EncryptSecrets", ROTATION_KEY_ACTIONS, [key_arn]),
        ],
    }


def github_trust_policy(*, oidc_provider_arn: str, subjects: list[str]) -> Document:
    return {
        "Version": VERSION,
        "Statement": [
            {
                "Sid": "GitHubActionsOfOneRepository",
                "Effect": "Allow",
                "Principal": {"Federated": oidc_provider_arn},
                "Action": "sts:AssumeRoleWithWebIdentity",
                "Condition": {
                    "StringEquals": {
                        f"{GITHUB_OIDC_ISSUER}:aud": "sts.amazonaws.com",
                        f"{GITHUB_OIDC_ISSUER}:sub": subjects,
                    }
                },
            }
        ],
    }


def service_trust_policy(*, service_principal: str, account_id: str | None) -> Document:
    statement: Document = {
        "Sid": "AssumedByAwsService",
        "Effect": "Allow",
        "Principal": {"Service": service_principal},
        "Action": "sts:AssumeRole",
    }
    if account_id is not None:
        # Confused-deputy guard: only this account's compute.
        statement["Condition"] = {"StringEquals": {"aws:SourceAccount": account_id}}
    return {"Version": VERSION, "Statement": [statement]}


def access_log_bucket_policy(
    *, bucket_arn: str, source_bucket_arn: str, account_id: str
) -> Document:
    """The log bucket: TLS only, and S3 log delivery may write objects for this account's
    source bucket only (the bucket-policy method BucketOwnerEnforced requires)."""
    document = tls_only_bucket_policy(bucket_arn=bucket_arn)
    document["Statement"].append(
        {
            "Sid": "S3ServerAccessLogDelivery",
            "Effect": "Allow",
            "Principal": {"Service": "logging.s3.amazonaws.com"},
            "Action": "s3:PutObject",
            "Resource": f"{bucket_arn}/*",
            "Condition": {
                "ArnLike": {"aws:SourceArn": source_bucket_arn},
                "StringEquals": {"aws:SourceAccount": account_id},
            },
        }
    )
    return document


def tls_only_bucket_policy(*, bucket_arn: str) -> Document:
    return {
        "Version": VERSION,
        "Statement": [
            {
                "Sid": "DenyInsecureTransport",
                "Effect": "Deny",
                "Principal": "*",
                "Action": "s3:*",
                "Resource": [bucket_arn, f"{bucket_arn}/*"],
                "Condition": {"Bool": {"aws:SecureTransport": "false"}},
            }
        ],
    }
