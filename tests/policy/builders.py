"""Hand-made resource graphs for the rule tests: a compliant AWS stack and a compliant GCP stack,
built from the store catalog, and small helpers to break one property at a time.

They are independent of `phase_platform` on purpose: the rules are specified against the cloud
resource shapes (the engine's camelCase inputs), not against one program's choices.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from phase_policy.findings import Finding, TargetResult
from phase_policy.gate import evaluate_graph
from phase_policy.graph import graph_from_entries
from phase_policy.props import UNKNOWN
from phase_policy.waivers import Waiver

from adapters.aws.spec import dynamo_table, key_alias, ssm_parameter_name
from adapters.aws.url import aws_backend_url
from adapters.catalog import BASELINES_BUCKET, SECRETS, STORES
from adapters.gcp.spec import (
    GCP_CRYPTO_KEY,
    TTL_TIMESTAMP_FIELD,
    firestore_indexes,
    secret_manager_id,
)
from adapters.gcp.url import gcp_backend_url

Entry = dict[str, Any]
PREFIX = "pm-test"
ACCOUNT = "111122223333"
KEY_ARN = f"arn:aws:kms:us-east-1:{ACCOUNT}:key/0f3c6c0e-5b7e-4f59-9a47-1c9f3e1b2d4a"
KEY_NAME = f"projects/pm-test/locations/us-central1/keyRings/{PREFIX}/cryptoKeys/{GCP_CRYPTO_KEY}"
REPO = "PhaseMirror/Phase-Mirror"
OIDC_ARN = f"arn:aws:iam::{ACCOUNT}:oidc-provider/token.actions.githubusercontent.com"
GITHUB = "token.actions.githubusercontent.com"
LOG_BUCKET = f"{PREFIX}-access-logs"
TOPIC_ARN = f"arn:aws:sns:us-east-1:{ACCOUNT}:{PREFIX}-alarms"
SERVICE_ACCOUNT = "serviceAccount:svc@pm-test.iam.gserviceaccount.com"


def _doc(*statements: dict[str, Any]) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


def github_trust(subjects: Sequence[str] = (f"repo:{REPO}:ref:refs/heads/main",)) -> str:
    return _doc(
        {
            "Effect": "Allow",
            "Principal": {"Federated": OIDC_ARN},
            "Action": "sts:AssumeRoleWithWebIdentity",
            "Condition": {
                "StringEquals": {
                    f"{GITHUB}:aud": "sts.amazonaws.com",
                    f"{GITHUB}:sub": list(subjects),
                }
            },
        }
    )


def data_policy() -> str:
    table = f"arn:aws:dynamodb:us-east-1:{ACCOUNT}:table/{PREFIX}-fp-events"
    return _doc(
        {
            "Sid": "Tables",
            "Effect": "Allow",
            "Action": ["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:Query"],
            "Resource": [table, f"{table}/index/by-rule"],
        },
        {
            "Sid": "Objects",
            "Effect": "Allow",
            "Action": ["s3:GetObject", "s3:PutObject"],
            "Resource": [f"arn:aws:s3:::{PREFIX}-baselines/*"],
        },
    )


def tls_only_policy(name: str = BASELINES_BUCKET.physical_name(PREFIX)) -> str:
    bucket = f"arn:aws:s3:::{name}"
    return _doc(
        {
            "Effect": "Deny",
            "Principal": "*",
            "Action": "s3:*",
            "Resource": [bucket, f"{bucket}/*"],
            "Condition": {"Bool": {"aws:SecureTransport": "false"}},
        }
    )


def key_policy() -> str:
    return _doc(
        {
            "Sid": "KeyAdministrationThroughIam",
            "Effect": "Allow",
            "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:root"},
            "Action": ["kms:DescribeKey", "kms:PutKeyPolicy", "kms:ScheduleKeyDeletion"],
            "Resource": "*",
        },
        {
            "Sid": "CloudWatchAlarms",
            "Effect": "Allow",
            "Principal": {"Service": "cloudwatch.amazonaws.com"},
            "Action": ["kms:Decrypt", "kms:GenerateDataKey"],
            "Resource": "*",
            "Condition": {"StringEquals": {"aws:SourceAccount": ACCOUNT}},
        },
    )


def topic_policy() -> str:
    return _doc(
        {
            "Sid": "CloudWatchPublishes",
            "Effect": "Allow",
            "Principal": {"Service": "cloudwatch.amazonaws.com"},
            "Action": "sns:Publish",
            "Resource": TOPIC_ARN,
            "Condition": {"StringEquals": {"aws:SourceAccount": ACCOUNT}},
        }
    )


def stack_outputs(backend_url: str) -> Entry:
    """The root stack resource: its properties are the program's outputs."""
    return {
        "type": "pulumi:pulumi:Stack",
        "name": "phase-mirror",
        "inputs": {"backendUrl": backend_url},
    }


def _s3_companions(parent: str, bucket: str, name: str, sse: dict[str, Any]) -> list[Entry]:
    """Versioning, default encryption, public access block, ownership, TLS-only policy and a
    lifecycle rule aborting incomplete uploads for one bucket."""
    companion = {"parent": parent, "dependencies": [name]}
    return [
        {
            **companion,
            "type": "aws:s3/bucketVersioning:BucketVersioning",
            "name": f"{name}-versioning",
            "inputs": {"bucket": bucket, "versioningConfiguration": {"status": "Enabled"}},
        },
        {
            **companion,
            "type": "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
            "name": f"{name}-encryption",
            "inputs": {"bucket": bucket, "rules": [sse]},
        },
        {
            **companion,
            "type": "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock",
            "name": f"{name}-public-access-block",
            "inputs": {
                "bucket": bucket,
                "blockPublicAcls": True,
                "blockPublicPolicy": True,
                "ignorePublicAcls": True,
                "restrictPublicBuckets": True,
            },
        },
        {
            **companion,
            "type": "aws:s3/bucketOwnershipControls:BucketOwnershipControls",
            "name": f"{name}-ownership",
            "inputs": {"bucket": bucket, "rule": {"objectOwnership": "BucketOwnerEnforced"}},
        },
        {
            **companion,
            "type": "aws:s3/bucketPolicy:BucketPolicy",
            "name": f"{name}-tls-only",
            "inputs": {"bucket": bucket, "policy": tls_only_policy(bucket)},
        },
        {
            **companion,
            "type": "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration",
            "name": f"{name}-lifecycle",
            "inputs": {
                "bucket": bucket,
                "rules": [
                    {
                        "id": "abort-uploads",
                        "status": "Enabled",
                        "abortIncompleteMultipartUpload": {"daysAfterInitiation": 7},
                    }
                ],
            },
        },
    ]


def aws_stack(*, production: bool = False) -> list[Entry]:
    """A compliant AWS stack: every rule passes on it."""
    protect = production
    parent = "aws"
    entries: list[Entry] = [
        stack_outputs(aws_backend_url(region="us-east-1", prefix=PREFIX)),
        {"type": "phase-mirror:platform:AwsPlatform", "name": parent},
        {
            "type": "aws:kms/key:Key",
            "name": "key",
            "parent": parent,
            "protect": protect,
            "inputs": {
                "enableKeyRotation": True,
                "rotationPeriodInDays": 90,
                "deletionWindowInDays": 30 if production else 7,
                "policy": key_policy(),
            },
        },
        {
            "type": "aws:kms/alias:Alias",
            "name": "key-alias",
            "parent": parent,
            "inputs": {"name": key_alias(PREFIX), "targetKeyId": "0f3c6c0e"},
        },
    ]
    for spec in STORES.values():
        record = dynamo_table(spec, PREFIX)
        inputs: dict[str, Any] = {
            "name": spec.physical_name(PREFIX),
            "billingMode": "PAY_PER_REQUEST",
            "hashKey": spec.hash_key.name,
            "attributes": [{"name": n, "type": t} for n, t in sorted(record.attributes.items())],
            "pointInTimeRecovery": {"enabled": spec.durable},
            "serverSideEncryption": {"enabled": True, "kmsKeyArn": KEY_ARN},
            "deletionProtectionEnabled": production,
            "tags": {"Store": spec.name, "Durability": "durable" if spec.durable else "ephemeral"},
        }
        if record.keys.range_key:
            inputs["rangeKey"] = record.keys.range_key
        if record.indexes:
            inputs["globalSecondaryIndexes"] = [
                {
                    "name": index.name,
                    "projectionType": "ALL",
                    "keySchemas": [
                        {"attributeName": a, "keyType": k} for a, k in index.keys.elements()
                    ],
                }
                for index in record.indexes
            ]
        if spec.ttl_attribute:
            inputs["ttl"] = {"attributeName": spec.ttl_attribute, "enabled": True}
        entries.append(
            {
                "type": "aws:dynamodb/table:Table",
                "name": f"table-{spec.name}",
                "parent": parent,
                "protect": protect,
                "inputs": inputs,
            }
        )
    for secret, spec in SECRETS.items():
        entries.append(
            {
                "type": "aws:ssm/parameter:Parameter",
                "name": f"parameter-{secret.value}",
                "parent": parent,
                "protect": protect,
                "inputs": {
                    "name": ssm_parameter_name(spec, PREFIX),
                    "type": "SecureString",
                    "keyId": KEY_ARN,
                    "value": "0" * 64,
                },
            }
        )
    bucket_name = BASELINES_BUCKET.physical_name(PREFIX)
    kms = {
        "applyServerSideEncryptionByDefault": {
            "sseAlgorithm": "aws:kms",
            "kmsMasterKeyId": KEY_ARN,
        },
        "bucketKeyEnabled": True,
    }
    sse_s3 = {"applyServerSideEncryptionByDefault": {"sseAlgorithm": "AES256"}}
    entries += [
        {
            "type": "aws:s3/bucket:Bucket",
            "name": "bucket",
            "parent": parent,
            "protect": protect,
            "inputs": {"bucket": bucket_name, "forceDestroy": False},
        },
        *_s3_companions(parent, bucket_name, "bucket", kms),
        {
            "type": "aws:s3/bucket:Bucket",
            "name": "log-bucket",
            "parent": parent,
            "protect": protect,
            "inputs": {"bucket": LOG_BUCKET, "forceDestroy": False},
        },
        *_s3_companions(parent, LOG_BUCKET, "log-bucket", sse_s3),
        {
            "type": "aws:s3/bucketLogging:BucketLogging",
            "name": "bucket-logging",
            "parent": parent,
            "dependencies": ["bucket", "log-bucket"],
            "inputs": {
                "bucket": bucket_name,
                "targetBucket": LOG_BUCKET,
                "targetPrefix": "baselines/",
            },
        },
        {
            "type": "aws:sns/topicPolicy:TopicPolicy",
            "name": "alarms-policy",
            "parent": parent,
            "dependencies": ["alarms"],
            "inputs": {"arn": TOPIC_ARN, "policy": topic_policy()},
        },
        {
            "type": "aws:cloudwatch/metricAlarm:MetricAlarm",
            "name": "alarm-throttles",
            "parent": parent,
            "inputs": {"name": f"{PREFIX}-throttles", "alarmActions": [TOPIC_ARN], "threshold": 10},
        },
        {
            "type": "aws:cloudwatch/compositeAlarm:CompositeAlarm",
            "name": "system-health",
            "parent": parent,
            "inputs": {
                "alarmName": f"{PREFIX}-system-health",
                "alarmRule": f'ALARM("{PREFIX}-throttles")',
                "alarmActions": [TOPIC_ARN],
            },
        },
        {
            "type": "aws:sns/topic:Topic",
            "name": "alarms",
            "parent": parent,
            "inputs": {"name": f"{PREFIX}-alarms", "kmsMasterKeyId": KEY_ARN},
        },
        {
            "type": "aws:iam/openIdConnectProvider:OpenIdConnectProvider",
            "name": "github-oidc",
            "parent": parent,
            "inputs": {"url": f"https://{GITHUB}", "clientIdLists": ["sts.amazonaws.com"]},
        },
        {
            "type": "aws:iam/role:Role",
            "name": "deploy-role",
            "parent": parent,
            "inputs": {"name": f"{PREFIX}-deploy", "assumeRolePolicy": github_trust()},
        },
        {
            "type": "aws:iam/role:Role",
            "name": "service-role",
            "parent": parent,
            "inputs": {
                "name": f"{PREFIX}-service",
                "assumeRolePolicy": _doc(
                    {
                        "Effect": "Allow",
                        "Principal": {"Service": "lambda.amazonaws.com"},
                        "Action": "sts:AssumeRole",
                    }
                ),
            },
        },
        {
            "type": "aws:iam/policy:Policy",
            "name": "data-access",
            "parent": parent,
            "inputs": {"name": f"{PREFIX}-data-access", "policy": data_policy()},
        },
        {
            "type": "aws:iam/rolePolicyAttachment:RolePolicyAttachment",
            "name": "service-data-access",
            "parent": parent,
            "inputs": {
                "role": f"{PREFIX}-service",
                "policyArn": f"arn:aws:iam::{ACCOUNT}:policy/{PREFIX}-data-access",
            },
        },
        {
            "type": "aws:backup/vault:Vault",
            "name": "backup-vault",
            "parent": parent,
            "inputs": {"name": f"{PREFIX}-vault", "kmsKeyArn": KEY_ARN},
        },
    ]
    entries.extend(aws_compute(parent))
    return entries


def gcp_stack(*, production: bool = False) -> list[Entry]:
    """A compliant GCP stack: every rule passes on it."""
    protect = production
    parent = "gcp"
    cmek = {"kmsKeyName": KEY_NAME}
    url = gcp_backend_url(project="pm-test", prefix=PREFIX, location="us-central1", database=PREFIX)
    entries: list[Entry] = [
        stack_outputs(url),
        {"type": "phase-mirror:platform:GcpPlatform", "name": parent},
        {
            "type": "gcp:firestore/database:Database",
            "name": "firestore",
            "parent": parent,
            "protect": protect,
            "inputs": {
                "name": PREFIX,
                "type": "FIRESTORE_NATIVE",
                "locationId": "us-central1",
                "pointInTimeRecoveryEnablement": "POINT_IN_TIME_RECOVERY_ENABLED",
                "deleteProtectionState": "DELETE_PROTECTION_ENABLED"
                if production
                else "DELETE_PROTECTION_DISABLED",
                "cmekConfig": cmek,
            },
        },
        {
            "type": "gcp:kms/keyRing:KeyRing",
            "name": "key-ring",
            "parent": parent,
            "protect": protect,
            "inputs": {"name": PREFIX, "location": "us-central1"},
        },
        {
            "type": "gcp:kms/cryptoKey:CryptoKey",
            "name": "key",
            "parent": parent,
            "protect": protect,
            "inputs": {
                "name": GCP_CRYPTO_KEY,
                "keyRing": KEY_NAME.rsplit("/cryptoKeys/", 1)[0],
                "purpose": "ENCRYPT_DECRYPT",
                "rotationPeriod": "7776000s",
                "destroyScheduledDuration": f"{(30 if production else 7) * 86400}s",
            },
        },
    ]
    for spec in STORES.values():
        collection = spec.physical_name(PREFIX)
        if spec.ttl_attribute:
            entries.append(
                {
                    "type": "gcp:firestore/field:Field",
                    "name": f"ttl-{spec.name}",
                    "parent": parent,
                    "inputs": {
                        "collection": collection,
                        "field": TTL_TIMESTAMP_FIELD,
                        "ttlConfig": {},
                        "database": PREFIX,
                    },
                }
            )
        for index in firestore_indexes(spec):
            entries.append(
                {
                    "type": "gcp:firestore/index:Index",
                    "name": f"index-{spec.name}-{index.hash_field}-{index.range_field}-{index.order}",
                    "parent": parent,
                    "inputs": {
                        "collection": collection,
                        "database": PREFIX,
                        "queryScope": "COLLECTION",
                        "fields": [
                            {"fieldPath": index.hash_field, "order": "ASCENDING"},
                            {"fieldPath": index.range_field, "order": index.order},
                        ],
                    },
                }
            )
    for secret, spec in SECRETS.items():
        entries.append(
            {
                "type": "gcp:secretmanager/secret:Secret",
                "name": f"secret-{secret.value}",
                "parent": parent,
                "protect": protect,
                "inputs": {
                    "secretId": secret_manager_id(spec, PREFIX),
                    "deletionProtection": production,
                    "replication": {
                        "userManaged": {
                            "replicas": [
                                {"location": "us-central1", "customerManagedEncryption": cmek}
                            ]
                        }
                    },
                },
            }
        )
    entries += [
        {
            "type": "gcp:storage/bucket:Bucket",
            "name": "bucket",
            "parent": parent,
            "protect": protect,
            "inputs": {
                "name": BASELINES_BUCKET.physical_name(PREFIX),
                "location": "US-CENTRAL1",
                "uniformBucketLevelAccess": True,
                "publicAccessPrevention": "enforced",
                "versioning": {"enabled": True},
                "encryption": {"defaultKmsKeyName": KEY_NAME},
                "forceDestroy": False,
                "lifecycleRules": [
                    {"action": {"type": "AbortIncompleteMultipartUpload"}, "condition": {"age": 7}}
                ],
            },
        },
        {
            "type": "gcp:projects/iAMAuditConfig:IAMAuditConfig",
            "name": "storage-data-access",
            "parent": parent,
            "inputs": {
                "project": "pm-test",
                "service": "storage.googleapis.com",
                "auditLogConfigs": [{"logType": "DATA_READ"}, {"logType": "DATA_WRITE"}],
            },
        },
        *alert_policies(parent),
        {
            "type": "gcp:serviceaccount/iAMMember:IAMMember",
            "name": "deploy-workload-identity",
            "parent": parent,
            "inputs": {
                "serviceAccountId": "projects/pm-test/serviceAccounts/deploy@pm-test.iam.gserviceaccount.com",
                "role": "roles/iam.workloadIdentityUser",
                "member": "principalSet://iam.googleapis.com/projects/1/locations/global/"
                f"workloadIdentityPools/{PREFIX}-github/attribute.repository/{REPO}",
            },
        },
        {
            "type": "gcp:iam/workloadIdentityPoolProvider:WorkloadIdentityPoolProvider",
            "name": "github-provider",
            "parent": parent,
            "inputs": {
                "workloadIdentityPoolId": f"{PREFIX}-github",
                "workloadIdentityPoolProviderId": "github",
                "attributeCondition": f"assertion.repository == '{REPO}' "
                f"&& assertion.sub in ['repo:{REPO}:ref:refs/heads/main']",
                "oidc": {"issuerUri": f"https://{GITHUB}"},
            },
        },
        {
            "type": "gcp:projects/iAMMember:IAMMember",
            "name": "service-firestore",
            "parent": parent,
            "inputs": {
                "project": "pm-test",
                "role": "roles/datastore.user",
                "member": "serviceAccount:svc@pm-test.iam.gserviceaccount.com",
            },
        },
        {
            "type": "gcp:storage/bucketIAMMember:BucketIAMMember",
            "name": "service-bucket",
            "parent": parent,
            "inputs": {
                "bucket": BASELINES_BUCKET.physical_name(PREFIX),
                "role": "roles/storage.objectUser",
                "member": SERVICE_ACCOUNT,
            },
        },
    ]
    entries.extend(gcp_compute(parent))
    return entries


def _condition(name: str, metric: str) -> dict[str, Any]:
    return {
        "displayName": name,
        "conditionThreshold": {"filter": f'metric.type="{metric}"', "thresholdValue": 0},
    }


def alert_policies(parent: str) -> list[Entry]:
    """Two single-condition alert policies and a system-health policy combining both."""
    channel = "projects/pm-test/notificationChannels/1"
    conditions = {
        "breaker": _condition("breaker", "logging.googleapis.com/user/breaker"),
        "secrets": _condition("secrets", "logging.googleapis.com/user/secrets"),
    }
    return [
        *(
            {
                "type": "gcp:monitoring/alertPolicy:AlertPolicy",
                "name": f"alert-{key}",
                "parent": parent,
                "inputs": {
                    "displayName": f"{PREFIX} {key}",
                    "combiner": "OR",
                    "conditions": [condition],
                    "notificationChannels": [channel],
                },
            }
            for key, condition in conditions.items()
        ),
        {
            "type": "gcp:monitoring/alertPolicy:AlertPolicy",
            "name": "alert-system-health",
            "parent": parent,
            "inputs": {
                "displayName": f"{PREFIX} system-health",
                "combiner": "OR",
                "conditions": list(conditions.values()),
                "notificationChannels": [channel],
            },
        },
    ]


# --------------------------------------------------------------------------- compute

IMAGE = f"us-central1-docker.pkg.dev/pm-test/{PREFIX}/phase-mirror@sha256:{'0' * 64}"
API_EXECUTION_ARN = f"arn:aws:execute-api:us-east-1:{ACCOUNT}:a1b2c3d4e5"


def _run_account(name: str) -> str:
    return f"{PREFIX}-{name}@pm-test.iam.gserviceaccount.com"


def aws_compute(parent: str) -> list[Entry]:
    """Two Lambda functions with their log groups, the HTTP API (public routes declared), the
    schedule with its dead-letter queue, and an ECR repository: every compute rule passes."""
    url = aws_backend_url(region="us-east-1", prefix=PREFIX)
    entries: list[Entry] = []
    for workload in ("api", "anonymizer"):
        name = f"{PREFIX}-{workload}"
        entries += [
            {
                "type": "aws:cloudwatch/logGroup:LogGroup",
                "name": f"logs-{workload}",
                "parent": parent,
                "inputs": {
                    "name": f"/aws/lambda/{name}",
                    "retentionInDays": 90,
                    "kmsKeyId": KEY_ARN,
                },
            },
            {
                "type": "aws:lambda/function:Function",
                "name": f"function-{workload}",
                "parent": parent,
                "dependencies": [f"logs-{workload}"],
                "inputs": {
                    "name": name,
                    "role": f"arn:aws:iam::{ACCOUNT}:role/{name}-function",
                    "runtime": "python3.13",
                    "handler": "service.runtime.lambda_http.handler",
                    "packageType": "Zip",
                    "tracingConfig": {"mode": "Active"},
                    "reservedConcurrentExecutions": 5 if workload == "api" else 1,
                    "environment": {"variables": {"PHASE_MIRROR_BACKEND": url}},
                    "kmsKeyArn": KEY_ARN,
                },
            },
        ]
    entries += [
        {
            "type": "aws:cloudwatch/logGroup:LogGroup",
            "name": "logs-http-api-access",
            "parent": parent,
            "inputs": {
                "name": f"/aws/apigateway/{PREFIX}-api/access",
                "retentionInDays": 90,
                "kmsKeyId": KEY_ARN,
            },
        },
        {
            "type": "aws:apigatewayv2/api:Api",
            "name": "http-api",
            "parent": parent,
            "inputs": {
                "name": f"{PREFIX}-api",
                "protocolType": "HTTP",
                "tags": {"phase-mirror-public": "routes"},
            },
        },
        {
            "type": "aws:apigatewayv2/route:Route",
            "name": "http-api-route",
            "parent": parent,
            "dependencies": ["http-api"],
            "inputs": {"apiId": "a1b2c3d4e5", "routeKey": "$default", "authorizationType": "NONE"},
        },
        {
            "type": "aws:apigatewayv2/stage:Stage",
            "name": "http-api-stage",
            "parent": parent,
            "dependencies": ["http-api", "logs-http-api-access"],
            "inputs": {
                "apiId": "a1b2c3d4e5",
                "name": "$default",
                "autoDeploy": True,
                "accessLogSettings": {
                    "destinationArn": f"arn:aws:logs:us-east-1:{ACCOUNT}:log-group:/aws/apigateway/{PREFIX}-api/access",
                    "format": '{"requestId":"$context.requestId"}',
                },
                "defaultRouteSettings": {"throttlingRateLimit": 20, "throttlingBurstLimit": 40},
            },
        },
        {
            "type": "aws:lambda/permission:Permission",
            "name": "http-api-invoke",
            "parent": parent,
            "inputs": {
                "action": "lambda:InvokeFunction",
                "function": f"{PREFIX}-api",
                "principal": "apigateway.amazonaws.com",
                "sourceArn": f"{API_EXECUTION_ARN}/*/*",
            },
        },
        {
            "type": "aws:scheduler/schedule:Schedule",
            "name": "schedule-anonymizer",
            "parent": parent,
            "inputs": {
                "name": f"{PREFIX}-anonymizer",
                "scheduleExpression": "cron(17 3 * * ? *)",
                "flexibleTimeWindow": {"mode": "OFF"},
                "kmsKeyArn": KEY_ARN,
                "target": {
                    "arn": f"arn:aws:lambda:us-east-1:{ACCOUNT}:function:{PREFIX}-anonymizer",
                    "roleArn": f"arn:aws:iam::{ACCOUNT}:role/{PREFIX}-anonymizer-schedule",
                    "retryPolicy": {"maximumRetryAttempts": 3},
                    "deadLetterConfig": {
                        "arn": f"arn:aws:sqs:us-east-1:{ACCOUNT}:{PREFIX}-anonymizer-dlq"
                    },
                },
            },
        },
        {
            "type": "aws:ecr/repository:Repository",
            "name": "images",
            "parent": parent,
            "inputs": {
                "name": PREFIX,
                "imageTagMutability": "IMMUTABLE",
                "imageScanningConfiguration": {"scanOnPush": True},
                "encryptionConfigurations": [{"encryptionType": "KMS", "kmsKey": KEY_ARN}],
            },
        },
    ]
    return entries


def gcp_compute(parent: str) -> list[Entry]:
    """The image repository, the API service (private ingress, no public invoker), the
    anonymizer job and its scheduler invoker: every compute rule passes."""
    url = gcp_backend_url(project="pm-test", prefix=PREFIX, location="us-central1", database=PREFIX)

    def template(account: str) -> dict[str, Any]:
        return {
            "serviceAccount": _run_account(account),
            "encryptionKey": KEY_NAME,
            "containers": [
                {"image": IMAGE, "envs": [{"name": "PHASE_MIRROR_BACKEND", "value": url}]}
            ],
        }

    return [
        {
            "type": "gcp:artifactregistry/repository:Repository",
            "name": "image-repository",
            "parent": parent,
            "inputs": {
                "repositoryId": PREFIX,
                "format": "DOCKER",
                "kmsKeyName": KEY_NAME,
                "dockerConfig": {"immutableTags": True},
            },
        },
        {
            "type": "gcp:artifactregistry/repositoryIamMember:RepositoryIamMember",
            "name": "image-repository-deploy-writer",
            "parent": parent,
            "inputs": {
                "repository": PREFIX,
                "role": "roles/artifactregistry.writer",
                "member": f"serviceAccount:{_run_account('deploy')}",
            },
        },
        {
            "type": "gcp:cloudrunv2/service:Service",
            "name": "run-api",
            "parent": parent,
            "inputs": {
                "name": f"{PREFIX}-api",
                "ingress": "INGRESS_TRAFFIC_INTERNAL_LOAD_BALANCER",
                "labels": {"stack": PREFIX},
                "template": {**template("api"), "scaling": {"maxInstanceCount": 10}},
            },
        },
        {
            "type": "gcp:cloudrunv2/serviceIamMember:ServiceIamMember",
            "name": "run-api-invoker",
            "parent": parent,
            "dependencies": ["run-api"],
            "inputs": {
                "name": f"{PREFIX}-api",
                "role": "roles/run.invoker",
                "member": f"serviceAccount:{_run_account('caller')}",
            },
        },
        {
            "type": "gcp:cloudrunv2/job:Job",
            "name": "run-anonymizer",
            "parent": parent,
            "inputs": {
                "name": f"{PREFIX}-anonymizer",
                "template": {"taskCount": 1, "template": template("anonymizer")},
            },
        },
        {
            "type": "gcp:cloudrunv2/jobIamMember:JobIamMember",
            "name": "run-anonymizer-invoker",
            "parent": parent,
            "dependencies": ["run-anonymizer"],
            "inputs": {
                "name": f"{PREFIX}-anonymizer",
                "role": "roles/run.invoker",
                "member": f"serviceAccount:{_run_account('scheduler')}",
            },
        },
    ]


# --------------------------------------------------------------------------- mutation helpers

Mutation = Callable[[list[Entry]], None]


@dataclass(frozen=True)
class Case:
    """A rule fixture: the compliant stack of `cloud`/`stack` with one `mutation`."""

    rule: str
    label: str
    mutation: Mutation
    cloud: str = "aws"
    stack: str = "staging"

    @property
    def id(self) -> str:
        return f"{self.rule}-{self.label}"


def find(entries: list[Entry], name: str) -> Entry:
    for entry in entries:
        if entry["name"] == name:
            return entry
    raise KeyError(f"no fixture resource named {name!r}")


def setting(name: str, path: str, new: Any) -> Callable[[list[Entry]], None]:
    """A mutation: set `inputs.<dotted path>` of resource `name` (None deletes it); a numeric
    part indexes a list (`rules.0.status`)."""

    def mutate(entries: list[Entry]) -> None:
        target: Any = find(entries, name).setdefault("inputs", {})
        *parents, last = path.split(".")
        for part in parents:  # a digit indexes a list
            target = target[int(part)] if part.isdigit() else target.setdefault(part, {})
        if new is None:
            target.pop(last, None)
        else:
            target[last] = new

    return mutate


def option(name: str, key: str, new: Any) -> Callable[[list[Entry]], None]:
    def mutate(entries: list[Entry]) -> None:
        find(entries, name)[key] = new

    return mutate


def adding(entry: Entry) -> Mutation:
    """A mutation: add resource `entry` (a fresh copy each time) to the stack."""

    def mutate(entries: list[Entry]) -> None:
        entries.append(copy.deepcopy(entry))

    return mutate


def both(*mutations: Callable[[list[Entry]], None]) -> Callable[[list[Entry]], None]:
    def mutate(entries: list[Entry]) -> None:
        for mutation in mutations:
            mutation(entries)

    return mutate


def stack_of(cloud: str, stack: str) -> list[Entry]:
    production = stack == "production"
    return aws_stack(production=production) if cloud == "aws" else gcp_stack(production=production)


def evaluate(
    entries: list[Entry],
    *,
    cloud: str = "aws",
    stack: str = "staging",
    waivers: Sequence[Waiver] = (),
    today: date | None = None,
) -> TargetResult:
    graph = graph_from_entries(copy.deepcopy(entries), project="phase-mirror", stack=stack)
    return evaluate_graph(cloud, graph, waivers=waivers, today=today or date(2026, 1, 1))


def rule_ids(findings: Sequence[Finding], *, blocking_only: bool = True) -> set[str]:
    return {f.rule_id for f in findings if f.blocking or not blocking_only}


def unknown_everywhere(entries: list[Entry], keys: Sequence[str]) -> list[Entry]:
    """A copy where every input named in `keys` (at any depth) is unknown, as in a preview."""

    def blank(value: Any) -> Any:
        if isinstance(value, dict):
            return {k: UNKNOWN if k in keys else blank(v) for k, v in value.items()}
        if isinstance(value, list):
            return [blank(v) for v in value]
        return value

    copied = copy.deepcopy(entries)
    for entry in copied:
        entry["inputs"] = blank(entry.get("inputs", {}))
    return copied
