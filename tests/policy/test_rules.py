"""Every rule against hand-made fixtures: a compliant stack per cloud and environment passes every
rule, one broken property at a time fails exactly where expected, and passing variants show
what each rule deliberately allows. Evaluation goes through pulumi_policy's own analyzer."""

from __future__ import annotations

import json

import pytest
from phase_policy.rules import RULES, RULES_BY_ID

from adapters.catalog import TTL_ATTRIBUTE
from tests.policy.builders import (
    KEY_NAME,
    OIDC_ARN,
    REPO,
    Case,
    Entry,
    adding,
    both,
    evaluate,
    github_trust,
    option,
    rule_ids,
    setting,
    stack_of,
)
from tests.policy.compute_cases import COMPUTE_FAILING, COMPUTE_PASSING

GITHUB = "token.actions.githubusercontent.com"


def _trust(condition: dict[str, object]) -> str:
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Principal": {"Federated": OIDC_ARN},
                    "Action": "sts:AssumeRoleWithWebIdentity",
                    **({"Condition": condition} if condition else {}),
                }
            ],
        }
    )


def _policy(*statements: dict[str, object]) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


FAILING = [
    # ---------------------------------------------------------------- AWS
    Case(
        "PM-AWS-001", "pitr-off", setting("table-fp-events", "pointInTimeRecovery.enabled", False)
    ),
    Case("PM-AWS-001", "pitr-missing", setting("table-consent", "pointInTimeRecovery", None)),
    Case("PM-AWS-002", "ttl-off", setting("table-nonce-store", "ttl.enabled", False)),
    Case("PM-AWS-002", "ttl-missing", setting("table-block-counter", "ttl", None)),
    Case(
        "PM-AWS-002",
        "ttl-wrong-attribute",
        setting("table-dedup-index", "ttl.attributeName", "expires"),
    ),
    Case(
        "PM-AWS-003",
        "aws-owned-key",
        setting("table-fp-events", "serverSideEncryption.kmsKeyArn", None),
    ),
    Case("PM-AWS-003", "sse-off", setting("table-api-keys", "serverSideEncryption", None)),
    Case(
        "PM-AWS-003",
        "aws-managed-alias",
        setting("table-api-keys", "serverSideEncryption.kmsKeyArn", "alias/aws/dynamodb"),
    ),
    Case(
        "PM-AWS-004",
        "no-deletion-protection",
        setting("table-consent", "deletionProtectionEnabled", False),
        stack="production",
    ),
    Case("PM-AWS-005", "rotation-off", setting("key", "enableKeyRotation", False)),
    Case("PM-AWS-005", "rotation-missing", setting("key", "enableKeyRotation", None)),
    Case("PM-AWS-006", "window-3-days", setting("key", "deletionWindowInDays", 3)),
    Case(
        "PM-AWS-006",
        "window-7-in-production",
        setting("key", "deletionWindowInDays", 7),
        stack="production",
    ),
    Case(
        "PM-AWS-007",
        "suspended",
        setting("bucket-versioning", "versioningConfiguration.status", "Suspended"),
    ),
    Case(
        "PM-AWS-007",
        "no-versioning-resource",
        option("bucket-versioning", "type", "aws:s3/bucketLogging:BucketLogging"),
    ),
    Case(
        "PM-AWS-008",
        "sse-s3",
        setting(
            "bucket-encryption",
            "rules",
            [{"applyServerSideEncryptionByDefault": {"sseAlgorithm": "AES256"}}],
        ),
    ),
    Case(
        "PM-AWS-008",
        "aws-managed-s3-key",
        setting(
            "bucket-encryption",
            "rules",
            [
                {
                    "applyServerSideEncryptionByDefault": {
                        "sseAlgorithm": "aws:kms",
                        "kmsMasterKeyId": "alias/aws/s3",
                    }
                }
            ],
        ),
    ),
    Case(
        "PM-AWS-009",
        "public-policy-allowed",
        setting("bucket-public-access-block", "blockPublicPolicy", False),
    ),
    Case(
        "PM-AWS-009",
        "no-block",
        option("bucket-public-access-block", "type", "aws:s3/bucketLogging:BucketLogging"),
    ),
    Case(
        "PM-AWS-010",
        "allow-only-policy",
        setting(
            "bucket-tls-only",
            "policy",
            _policy(
                {"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject", "Resource": "*"}
            ),
        ),
    ),
    Case("PM-AWS-011", "unencrypted-topic", setting("alarms", "kmsMasterKeyId", None)),
    Case(
        "PM-AWS-011", "aws-managed-topic-key", setting("alarms", "kmsMasterKeyId", "alias/aws/sns")
    ),
    Case(
        "PM-AWS-012",
        "star-action",
        setting(
            "data-access",
            "policy",
            _policy({"Effect": "Allow", "Action": "*", "Resource": "arn:aws:s3:::x"}),
        ),
    ),
    Case(
        "PM-AWS-012",
        "service-wildcard",
        setting(
            "data-access",
            "policy",
            _policy({"Effect": "Allow", "Action": ["dynamodb:*"], "Resource": ["arn:aws:s3:::x"]}),
        ),
    ),
    Case(
        "PM-AWS-012",
        "star-resource",
        setting(
            "data-access",
            "policy",
            _policy({"Effect": "Allow", "Action": "dynamodb:GetItem", "Resource": "*"}),
        ),
    ),
    Case(
        "PM-AWS-012",
        "all-tables",
        setting(
            "data-access",
            "policy",
            _policy(
                {
                    "Effect": "Allow",
                    "Action": "dynamodb:GetItem",
                    "Resource": "arn:aws:dynamodb:us-east-1:111122223333:table/*",
                }
            ),
        ),
    ),
    Case(
        "PM-AWS-012",
        "admin-attached",
        setting("service-data-access", "policyArn", "arn:aws:iam::aws:policy/AdministratorAccess"),
    ),
    Case(
        "PM-AWS-012",
        "inline-wildcard",
        setting(
            "service-role",
            "inlinePolicies",
            [
                {
                    "name": "all",
                    "policy": _policy({"Effect": "Allow", "Action": "*", "Resource": "*"}),
                }
            ],
        ),
    ),
    Case("PM-AWS-012", "not-json", setting("data-access", "policy", "{not json")),
    Case(
        "PM-AWS-013",
        "no-subject",
        setting(
            "deploy-role",
            "assumeRolePolicy",
            _trust({"StringEquals": {f"{GITHUB}:aud": "sts.amazonaws.com"}}),
        ),
    ),
    Case(
        "PM-AWS-013",
        "any-repo",
        setting(
            "deploy-role",
            "assumeRolePolicy",
            _trust(
                {
                    "StringEquals": {f"{GITHUB}:aud": "sts.amazonaws.com"},
                    "StringLike": {f"{GITHUB}:sub": "repo:*"},
                }
            ),
        ),
    ),
    Case(
        "PM-AWS-013",
        "org-wide",
        setting(
            "deploy-role",
            "assumeRolePolicy",
            github_trust(["repo:PhaseMirror/*:ref:refs/heads/main"]),
        ),
    ),
    Case(
        "PM-AWS-013",
        "two-repos",
        setting(
            "deploy-role",
            "assumeRolePolicy",
            github_trust([f"repo:{REPO}:pull_request", "repo:Other/repo:pull_request"]),
        ),
    ),
    Case("PM-AWS-013", "no-condition", setting("deploy-role", "assumeRolePolicy", _trust({}))),
    Case("PM-AWS-014", "plain-string", setting("parameter-redaction-key", "type", "String")),
    Case("PM-AWS-014", "default-key", setting("parameter-anonymizer-salt", "keyId", None)),
    Case("PM-AWS-015", "default-vault-key", setting("backup-vault", "kmsKeyArn", None)),
    # ---------------------------------------------------------------- GCP
    Case(
        "PM-GCP-001",
        "pitr-disabled",
        setting("firestore", "pointInTimeRecoveryEnablement", "POINT_IN_TIME_RECOVERY_DISABLED"),
        cloud="gcp",
    ),
    Case(
        "PM-GCP-001",
        "pitr-unset",
        setting("firestore", "pointInTimeRecoveryEnablement", None),
        cloud="gcp",
    ),
    Case(
        "PM-GCP-002",
        "delete-protection-off",
        setting("firestore", "deleteProtectionState", "DELETE_PROTECTION_DISABLED"),
        cloud="gcp",
        stack="production",
    ),
    Case("PM-GCP-003", "365-days", setting("key", "rotationPeriod", "31536000s"), cloud="gcp"),
    Case("PM-GCP-003", "never", setting("key", "rotationPeriod", None), cloud="gcp"),
    Case("PM-GCP-003", "not-a-duration", setting("key", "rotationPeriod", "90d"), cloud="gcp"),
    Case(
        "PM-GCP-004",
        "auto-without-cmek",
        setting("secret-redaction-key", "replication", {"auto": {}}),
        cloud="gcp",
    ),
    Case(
        "PM-GCP-004",
        "replica-without-cmek",
        setting(
            "secret-anonymizer-salt",
            "replication",
            {"userManaged": {"replicas": [{"location": "us-central1"}]}},
        ),
        cloud="gcp",
    ),
    Case(
        "PM-GCP-004",
        "no-replication",
        setting("secret-anonymizer-salt", "replication", None),
        cloud="gcp",
    ),
    Case("PM-GCP-005", "acls", setting("bucket", "uniformBucketLevelAccess", False), cloud="gcp"),
    Case(
        "PM-GCP-006",
        "inherited",
        setting("bucket", "publicAccessPrevention", "inherited"),
        cloud="gcp",
    ),
    Case("PM-GCP-007", "unversioned", setting("bucket", "versioning", None), cloud="gcp"),
    Case("PM-GCP-008", "google-managed", setting("bucket", "encryption", None), cloud="gcp"),
    Case(
        "PM-GCP-009",
        "no-condition",
        setting("github-provider", "attributeCondition", None),
        cloud="gcp",
    ),
    Case(
        "PM-GCP-009",
        "owner-wide",
        setting(
            "github-provider", "attributeCondition", "assertion.repository_owner == 'PhaseMirror'"
        ),
        cloud="gcp",
    ),
    Case(
        "PM-GCP-009",
        "either-repo",
        setting(
            "github-provider",
            "attributeCondition",
            f"assertion.repository == '{REPO}' || assertion.repository == 'a/b'",
        ),
        cloud="gcp",
    ),
    Case("PM-GCP-010", "owner", setting("service-firestore", "role", "roles/owner"), cloud="gcp"),
    Case(
        "PM-GCP-010",
        "project-admin",
        setting("service-firestore", "role", "roles/storage.admin"),
        cloud="gcp",
    ),
    Case(
        "PM-GCP-010",
        "public-member",
        setting("service-bucket", "member", "allUsers"),
        cloud="gcp",
    ),
    Case(
        "PM-GCP-010",
        "project-impersonation",
        setting("service-firestore", "role", "roles/iam.serviceAccountTokenCreator"),
        cloud="gcp",
    ),
    # ---------------------------------------------------------------- stack
    Case(
        "PM-STACK-001",
        "aws-store-missing",
        setting("table-rate-limits", "name", "pm-test-rate-limit"),
    ),
    Case(
        "PM-STACK-001",
        "aws-secret-missing",
        setting("parameter-redaction-key", "name", "/pm-test/nonce"),
    ),
    Case(
        "PM-STACK-001",
        "gcp-ttl-missing",
        setting("ttl-nonce-store", "field", "ttl"),
        cloud="gcp",
    ),
    Case(
        "PM-STACK-001",
        "gcp-index-missing",
        option("index-fp-events-ruleid-ts-DESCENDING", "type", "gcp:firestore/field:Field"),
        cloud="gcp",
    ),
    Case("PM-STACK-002", "aws-365-day-rotation", setting("key", "rotationPeriodInDays", 365)),
    Case(
        "PM-STACK-002",
        "aws-default-rotation",
        setting("key", "rotationPeriodInDays", None),
    ),
    Case(
        "PM-STACK-002",
        "gcp-firestore-no-cmek",
        setting("firestore", "cmekConfig", None),
        cloud="gcp",
    ),
    Case(
        "PM-STACK-003",
        "unprotected-table",
        option("table-fp-events", "protect", False),
        stack="production",
    ),
    Case(
        "PM-STACK-003",
        "unprotected-crypto-key",
        option("key", "protect", False),
        cloud="gcp",
        stack="production",
    ),
    # ---------------------------------------------------------------- issue 13 / 16 additions
    Case("PM-AWS-005", "rotation-365-days", setting("key", "rotationPeriodInDays", 365)),
    Case("PM-AWS-005", "rotation-period-unset", setting("key", "rotationPeriodInDays", None)),
    Case(
        "PM-AWS-008",
        "log-target-unencrypted",
        option("log-bucket-encryption", "type", "aws:s3/bucketAnalyticsConfiguration:X"),
    ),
    Case(
        "PM-AWS-013",
        "production-wildcard-subject",
        setting("deploy-role", "assumeRolePolicy", github_trust([f"repo:{REPO}:*"])),
        stack="production",
    ),
    Case("PM-AWS-016", "no-logging", option("bucket-logging", "type", "aws:s3/bucketAcl:X")),
    Case("PM-AWS-016", "logging-without-target", setting("bucket-logging", "targetBucket", None)),
    Case(
        "PM-AWS-017",
        "object-writer",
        setting("bucket-ownership", "rule.objectOwnership", "ObjectWriter"),
    ),
    Case("PM-AWS-017", "no-ownership-controls", option("log-bucket-ownership", "type", "x:y:Z")),
    Case(
        "PM-AWS-018",
        "public-read",
        setting(
            "bucket-tls-only",
            "policy",
            _policy(
                {"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject", "Resource": "*"},
                {
                    "Effect": "Deny",
                    "Principal": "*",
                    "Action": "s3:*",
                    "Resource": "*",
                    "Condition": {"Bool": {"aws:SecureTransport": "false"}},
                },
            ),
        ),
    ),
    Case(
        "PM-AWS-018",
        "aws-star-principal",
        setting(
            "log-bucket-tls-only",
            "policy",
            _policy(
                {
                    "Effect": "Allow",
                    "Principal": {"AWS": ["*"]},
                    "Action": "s3:PutObject",
                    "Resource": "*",
                }
            ),
        ),
    ),
    Case(
        "PM-AWS-019",
        "no-abort-rule",
        setting("bucket-lifecycle", "rules", [{"id": "x", "status": "Enabled"}]),
    ),
    Case(
        "PM-AWS-019",
        "abort-rule-disabled",
        setting("log-bucket-lifecycle", "rules.0.status", "Disabled"),
    ),
    Case(
        "PM-AWS-020",
        "public-key-policy",
        setting(
            "key",
            "policy",
            _policy(
                {"Effect": "Allow", "Principal": "*", "Action": "kms:Decrypt", "Resource": "*"}
            ),
        ),
    ),
    Case(
        "PM-AWS-020",
        "kms-star-to-a-role",
        setting(
            "key",
            "policy",
            _policy(
                {
                    "Effect": "Allow",
                    "Principal": {"AWS": "arn:aws:iam::111122223333:role/app"},
                    "Action": "kms:*",
                    "Resource": "*",
                }
            ),
        ),
    ),
    Case("PM-AWS-020", "lockout-bypass", setting("key", "bypassPolicyLockoutSafetyCheck", True)),
    Case(
        "PM-AWS-021",
        "public-publish",
        setting(
            "alarms-policy",
            "policy",
            _policy(
                {"Effect": "Allow", "Principal": "*", "Action": "sns:Publish", "Resource": "*"}
            ),
        ),
    ),
    Case(
        "PM-AWS-021",
        "cross-account-publish",
        setting(
            "alarms-policy",
            "policy",
            _policy(
                {
                    "Effect": "Allow",
                    "Principal": {"AWS": "arn:aws:iam::999988887777:root"},
                    "Action": "sns:Publish",
                    "Resource": "arn:aws:sns:us-east-1:111122223333:pm-test-alarms",
                }
            ),
        ),
    ),
    Case(
        "PM-AWS-022",
        "pass-any-role",
        setting(
            "data-access",
            "policy",
            _policy(
                {"Effect": "Allow", "Action": "iam:PassRole", "Resource": "arn:aws:iam::1:role/*"}
            ),
        ),
    ),
    Case(
        "PM-AWS-022",
        "put-policy-unbounded",
        setting(
            "data-access",
            "policy",
            _policy(
                {"Effect": "Allow", "Action": "iam:Put*", "Resource": "arn:aws:iam::1:role/app"}
            ),
        ),
    ),
    Case(
        "PM-AWS-022",
        "key-administration",
        setting(
            "data-access",
            "policy",
            _policy(
                {
                    "Effect": "Allow",
                    "Action": ["kms:ScheduleKeyDeletion"],
                    "Resource": "arn:aws:kms:us-east-1:1:key/k",
                }
            ),
        ),
    ),
    Case(
        "PM-AWS-023",
        "anyone-may-assume",
        setting(
            "service-role",
            "assumeRolePolicy",
            _policy(
                {
                    "Effect": "Allow",
                    "Principal": {"AWS": "*"},
                    "Action": "sts:AssumeRole",
                    "Condition": {"StringEquals": {"aws:PrincipalOrgID": "o-1"}},
                }
            ),
        ),
    ),
    Case("PM-AWS-024", "no-actions", setting("alarm-throttles", "alarmActions", [])),
    Case("PM-AWS-024", "actions-disabled", setting("system-health", "actionsEnabled", False)),
    Case(
        "PM-AWS-025",
        "access-key",
        adding({"type": "aws:iam/accessKey:AccessKey", "name": "ci-key", "inputs": {"user": "ci"}}),
    ),
    Case(
        "PM-GCP-009",
        "production-no-subject",
        setting("github-provider", "attributeCondition", f"assertion.repository == '{REPO}'"),
        cloud="gcp",
        stack="production",
    ),
    Case(
        "PM-GCP-009",
        "production-prefix-match",
        setting(
            "github-provider",
            "attributeCondition",
            f"assertion.repository == '{REPO}' && assertion.ref.startsWith('refs/heads/')"
            f" && assertion.sub in ['repo:{REPO}:ref:refs/heads/main']",
        ),
        cloud="gcp",
        stack="production",
    ),
    Case(
        "PM-GCP-010",
        "resource-level-admin",
        setting("service-bucket", "role", "roles/storage.admin"),
        cloud="gcp",
    ),
    Case(
        "PM-GCP-010",
        "key-admin-on-key",
        setting("service-bucket", "role", "roles/cloudkms.admin"),
        cloud="gcp",
    ),
    Case(
        "PM-GCP-011",
        "no-data-access-logs",
        setting("storage-data-access", "auditLogConfigs", [{"logType": "ADMIN_READ"}]),
        cloud="gcp",
    ),
    Case(
        "PM-GCP-011",
        "audit-config-for-another-service",
        setting("storage-data-access", "service", "bigquery.googleapis.com"),
        cloud="gcp",
    ),
    Case(
        "PM-GCP-012",
        "no-abort-rule",
        setting(
            "bucket", "lifecycleRules", [{"action": {"type": "Delete"}, "condition": {"age": 9}}]
        ),
        cloud="gcp",
    ),
    Case(
        "PM-GCP-013",
        "no-channel",
        setting("alert-breaker", "notificationChannels", []),
        cloud="gcp",
    ),
    Case("PM-GCP-013", "disabled", setting("alert-secrets", "enabled", False), cloud="gcp"),
    Case(
        "PM-GCP-014",
        "whole-pool",
        setting(
            "deploy-workload-identity",
            "member",
            "principalSet://iam.googleapis.com/projects/1/locations/global/workloadIdentityPools/p/*",
        ),
        cloud="gcp",
    ),
    Case(
        "PM-GCP-014",
        "all-users",
        setting("deploy-workload-identity", "member", "allAuthenticatedUsers"),
        cloud="gcp",
    ),
    Case(
        "PM-GCP-015", "one-day", setting("key", "destroyScheduledDuration", "86400s"), cloud="gcp"
    ),
    Case(
        "PM-GCP-015",
        "seven-days-in-production",
        setting("key", "destroyScheduledDuration", "604800s"),
        cloud="gcp",
        stack="production",
    ),
    Case(
        "PM-GCP-016",
        "sa-key",
        adding(
            {
                "type": "gcp:serviceaccount/key:Key",
                "name": "ci-key",
                "inputs": {"serviceAccountId": "x"},
            }
        ),
        cloud="gcp",
    ),
    Case(
        "PM-GCP-017",
        "default-compute-sa-granted",
        setting(
            "service-firestore",
            "member",
            "serviceAccount:123456-compute@developer.gserviceaccount.com",
        ),
        cloud="gcp",
    ),
    Case(
        "PM-GCP-017",
        "vm-as-app-engine-sa",
        adding(
            {
                "type": "gcp:compute/instance:Instance",
                "name": "vm",
                "inputs": {"serviceAccount": {"email": "pm-test@appspot.gserviceaccount.com"}},
            }
        ),
        cloud="gcp",
    ),
    Case("PM-GCP-018", "google-managed", setting("firestore", "cmekConfig", None), cloud="gcp"),
    Case(
        "PM-GCP-019",
        "unprotected-secret",
        setting("secret-redaction-key", "deletionProtection", False),
        cloud="gcp",
        stack="production",
    ),
    Case(
        "PM-STACK-001",
        "aws-hash-key-case",
        setting("table-consent", "hashKey", "orgId"),
    ),
    Case(
        "PM-STACK-001",
        "aws-attribute-type",
        setting(
            "table-fp-events",
            "attributes",
            [
                {"name": "eventid", "type": "N"},
                {"name": "findingid", "type": "S"},
                {"name": "ruleid", "type": "S"},
                {"name": "ts", "type": "S"},
            ],
        ),
    ),
    Case(
        "PM-STACK-001",
        "aws-gsi-missing",
        setting(
            "table-fp-events",
            "globalSecondaryIndexes",
            [
                {
                    "name": "by-rule",
                    "keySchemas": [
                        {"attributeName": "ruleid", "keyType": "HASH"},
                        {"attributeName": "ts", "keyType": "RANGE"},
                    ],
                }
            ],
        ),
    ),
    Case(
        "PM-STACK-001",
        "aws-range-key-missing",
        setting("table-calibration-store", "rangeKey", None),
    ),
    Case(
        "PM-STACK-001",
        "aws-backend-url-other-prefix",
        setting("phase-mirror", "backendUrl", "aws://?region=us-east-1&prefix=pm-other"),
    ),
    Case("PM-STACK-001", "aws-no-backend-url", setting("phase-mirror", "backendUrl", None)),
    Case(
        "PM-STACK-001",
        "gcp-backend-url-default-database",
        setting("phase-mirror", "backendUrl", "gcp://pm-test?prefix=pm-test&location=us-central1"),
        cloud="gcp",
    ),
    Case(
        "PM-STACK-001",
        "gcp-index-in-other-database",
        setting("index-fp-events-ruleid-ts-ASCENDING", "database", "(default)"),
        cloud="gcp",
    ),
    Case(
        "PM-STACK-001",
        "gcp-index-hash-descending",
        setting("index-consent-orgid-sk-DESCENDING", "fields.0.order", "DESCENDING"),
        cloud="gcp",
    ),
    Case(
        "PM-STACK-004",
        "aws-alarm-not-in-composite",
        setting("system-health", "alarmRule", 'ALARM("other")'),
    ),
    Case(
        "PM-STACK-004",
        "gcp-policy-not-in-system-health",
        setting(
            "alert-system-health",
            "conditions",
            [
                {"displayName": "a", "conditionThreshold": {"filter": "x"}},
                {"displayName": "b", "conditionThreshold": {"filter": "y"}},
            ],
        ),
        cloud="gcp",
    ),
    *COMPUTE_FAILING,
]

PASSING = [
    Case(
        "PM-AWS-001",
        "ephemeral-without-pitr",
        setting("table-nonce-store", "pointInTimeRecovery.enabled", False),
    ),
    Case(
        "PM-AWS-001",
        "uncatalogued-ephemeral-tag",
        both(
            setting("table-nonce-store", "name", "scratch"),
            setting("table-nonce-store", "pointInTimeRecovery", None),
        ),
    ),
    Case("PM-AWS-002", "durable-without-ttl", setting("table-fp-events", "ttl", None)),
    Case(
        "PM-AWS-003",
        "unknown-key-arn",
        setting("table-fp-events", "serverSideEncryption.kmsKeyArn", "<unknown>"),
    ),
    Case(
        "PM-AWS-004",
        "staging-unprotected",
        setting("table-consent", "deletionProtectionEnabled", False),
    ),
    Case(
        "PM-AWS-005",
        "asymmetric-key",
        both(
            setting("key", "enableKeyRotation", False),
            setting("key", "customerMasterKeySpec", "RSA_2048"),
        ),
    ),
    Case("PM-AWS-006", "default-window", setting("key", "deletionWindowInDays", None)),
    Case("PM-AWS-006", "seven-in-staging", setting("key", "deletionWindowInDays", 7)),
    Case(
        "PM-AWS-007",
        "companion-linked-by-value-only",
        option("bucket-versioning", "dependencies", []),
    ),
    Case(
        "PM-AWS-008",
        "unknown-key",
        setting(
            "bucket-encryption",
            "rules",
            [
                {
                    "applyServerSideEncryptionByDefault": {
                        "sseAlgorithm": "aws:kms",
                        "kmsMasterKeyId": "<unknown>",
                    }
                }
            ],
        ),
    ),
    Case("PM-AWS-009", "all-four-on", setting("bucket-public-access-block", "bucket", "<unknown>")),
    Case(
        "PM-AWS-010", "policy-unknown-at-preview", setting("bucket-tls-only", "policy", "<unknown>")
    ),
    Case("PM-AWS-011", "unknown-key", setting("alarms", "kmsMasterKeyId", "<unknown>")),
    Case(
        "PM-AWS-012",
        "deny-wildcards-and-object-paths",
        setting(
            "data-access",
            "policy",
            _policy(
                {"Effect": "Deny", "Action": "s3:*", "Resource": "*"},
                {
                    "Effect": "Allow",
                    "Action": "s3:GetObject",
                    "Resource": "arn:aws:s3:::pm-test-baselines/*",
                },
            ),
        ),
    ),
    Case(
        "PM-AWS-013",
        "branch-pr-environment-subjects",
        setting(
            "deploy-role",
            "assumeRolePolicy",
            github_trust(
                [
                    f"repo:{REPO}:ref:refs/heads/main",
                    f"repo:{REPO}:pull_request",
                    f"repo:{REPO}:environment:production",
                ]
            ),
        ),
    ),
    Case(
        "PM-AWS-014",
        "unknown-key",
        setting("parameter-redaction-key", "keyId", "<unknown>"),
    ),
    Case("PM-AWS-015", "vault-with-key", setting("backup-vault", "name", "other-vault")),
    Case(
        "PM-GCP-001",
        "pitr-unknown-at-preview",
        setting("firestore", "locationId", "<unknown>"),
        cloud="gcp",
    ),
    Case(
        "PM-GCP-002",
        "staging-unprotected",
        setting("firestore", "deleteProtectionState", "DELETE_PROTECTION_DISABLED"),
        cloud="gcp",
    ),
    Case("PM-GCP-003", "thirty-days", setting("key", "rotationPeriod", "2592000s"), cloud="gcp"),
    Case(
        "PM-GCP-003",
        "signing-key",
        both(setting("key", "purpose", "ASYMMETRIC_SIGN"), setting("key", "rotationPeriod", None)),
        cloud="gcp",
    ),
    Case(
        "PM-GCP-004",
        "auto-with-cmek",
        setting(
            "secret-redaction-key",
            "replication",
            {"auto": {"customerManagedEncryption": {"kmsKeyName": KEY_NAME}}},
        ),
        cloud="gcp",
    ),
    Case("PM-GCP-005", "ubla-on", setting("bucket", "location", "EU"), cloud="gcp"),
    Case("PM-GCP-006", "enforced", setting("bucket", "location", "EU"), cloud="gcp"),
    Case("PM-GCP-007", "versioned", setting("bucket", "location", "EU"), cloud="gcp"),
    Case(
        "PM-GCP-008",
        "unknown-key",
        setting("bucket", "encryption.defaultKmsKeyName", "<unknown>"),
        cloud="gcp",
    ),
    Case(
        "PM-GCP-009",
        "repository-and-ref",
        setting(
            "github-provider",
            "attributeCondition",
            f"assertion.repository == '{REPO}' && assertion.ref == 'refs/heads/main'",
        ),
        cloud="gcp",
    ),
    Case(
        "PM-GCP-009",
        "other-issuer-any-condition",
        both(
            setting("github-provider", "oidc.issuerUri", "https://gitlab.example.com"),
            setting("github-provider", "attributeCondition", "assertion.project_path != ''"),
        ),
        cloud="gcp",
    ),
    Case(
        "PM-GCP-010",
        "narrow-role-on-a-resource",
        setting("service-bucket", "role", "roles/storage.objectViewer"),
        cloud="gcp",
    ),
    Case("PM-STACK-001", "extra-table", setting("table-fp-events", "tags.Extra", "x")),
    Case("PM-STACK-002", "thirty-day-rotation", setting("key", "rotationPeriodInDays", 30)),
    Case(
        "PM-STACK-003",
        "staging-unprotected",
        option("table-fp-events", "protect", False),
    ),
    Case(
        "PM-STACK-003",
        "key-ring-exempt",
        option("key-ring", "protect", False),
        cloud="gcp",
        stack="production",
    ),
    Case("PM-AWS-005", "thirty-days", setting("key", "rotationPeriodInDays", 30)),
    Case(
        "PM-AWS-008",
        "log-target-with-sse-s3",
        setting("log-bucket-encryption", "rules.0.bucketKeyEnabled", False),
    ),
    Case(
        "PM-AWS-013",
        "staging-may-use-patterns",
        setting("deploy-role", "assumeRolePolicy", github_trust([f"repo:{REPO}:*"])),
    ),
    Case(
        "PM-AWS-016",
        "log-target-ids-unknown",
        both(
            setting("bucket-logging", "bucket", "<unknown>"),
            setting("bucket-logging", "targetBucket", "<unknown>"),
        ),
    ),
    Case(
        "PM-AWS-017",
        "ownership-unknown-at-preview",
        setting("bucket-ownership", "rule.objectOwnership", "<unknown>"),
    ),
    Case(
        "PM-AWS-018",
        "service-principal-allow",
        setting(
            "log-bucket-tls-only",
            "policy",
            _policy(
                {
                    "Effect": "Allow",
                    "Principal": {"Service": "logging.s3.amazonaws.com"},
                    "Action": "s3:PutObject",
                    "Resource": "arn:aws:s3:::pm-test-access-logs/*",
                    "Condition": {"StringEquals": {"aws:SourceAccount": "111122223333"}},
                }
            ),
        ),
    ),
    Case(
        "PM-AWS-019",
        "inline-v1-rule",
        both(
            option("bucket-lifecycle", "type", "x:y:Z"),
            setting(
                "bucket",
                "lifecycleRules",
                [{"enabled": True, "abortIncompleteMultipartUploadDays": 7}],
            ),
        ),
    ),
    Case(
        "PM-AWS-020",
        "root-may-hold-everything",
        setting(
            "key",
            "policy",
            _policy(
                {
                    "Effect": "Allow",
                    "Principal": {"AWS": "arn:aws:iam::111122223333:root"},
                    "Action": "kms:*",
                    "Resource": "*",
                }
            ),
        ),
    ),
    Case(
        "PM-AWS-021",
        "cross-account-with-source-arn",
        setting(
            "alarms-policy",
            "policy",
            _policy(
                {
                    "Effect": "Allow",
                    "Principal": {"AWS": "arn:aws:iam::999988887777:root"},
                    "Action": "sns:Publish",
                    "Resource": "arn:aws:sns:us-east-1:111122223333:pm-test-alarms",
                    "Condition": {"ArnEquals": {"aws:SourceArn": "arn:aws:s3:::x"}},
                }
            ),
        ),
    ),
    Case(
        "PM-AWS-022",
        "pass-one-role-bounded-management",
        setting(
            "data-access",
            "policy",
            _policy(
                {
                    "Effect": "Allow",
                    "Action": "iam:PassRole",
                    "Resource": "arn:aws:iam::1:role/app",
                },
                {
                    "Effect": "Allow",
                    "Action": "iam:CreateRole",
                    "Resource": "arn:aws:iam::1:role/app-x",
                    "Condition": {
                        "StringEquals": {"iam:PermissionsBoundary": "arn:aws:iam::1:policy/b"}
                    },
                },
            ),
        ),
    ),
    Case("PM-AWS-023", "service-trust", setting("service-role", "name", "pm-test-svc")),
    Case(
        "PM-AWS-024", "actions-unknown", setting("alarm-throttles", "alarmActions", ["<unknown>"])
    ),
    Case("PM-AWS-025", "roles-only", setting("service-role", "name", "pm-test-svc")),
    Case(
        "PM-GCP-009",
        "production-ref-pin",
        setting(
            "github-provider",
            "attributeCondition",
            f"assertion.repository == '{REPO}' && assertion.ref == 'refs/heads/main'",
        ),
        cloud="gcp",
        stack="production",
    ),
    Case(
        "PM-GCP-011",
        "bucket-logging-instead",
        both(
            setting("storage-data-access", "service", "bigquery.googleapis.com"),
            setting("bucket", "logging", {"logBucket": "pm-test-logs"}),
        ),
        cloud="gcp",
    ),
    Case(
        "PM-GCP-012",
        "abort-among-rules",
        setting(
            "bucket",
            "lifecycleRules",
            [
                {"action": {"type": "Delete"}, "condition": {"age": 9}},
                {"action": {"type": "AbortIncompleteMultipartUpload"}, "condition": {"age": 1}},
            ],
        ),
        cloud="gcp",
    ),
    Case(
        "PM-GCP-013", "explicitly-enabled", setting("alert-secrets", "enabled", True), cloud="gcp"
    ),
    Case(
        "PM-GCP-014",
        "one-subject",
        setting(
            "deploy-workload-identity",
            "member",
            "principal://iam.googleapis.com/projects/1/locations/global/workloadIdentityPools/p/subject/s",
        ),
        cloud="gcp",
    ),
    Case(
        "PM-GCP-015",
        "google-default",
        setting("key", "destroyScheduledDuration", None),
        cloud="gcp",
        stack="production",
    ),
    Case("PM-GCP-016", "no-keys", setting("bucket", "location", "EU"), cloud="gcp"),
    Case(
        "PM-GCP-017",
        "dedicated-account",
        setting(
            "service-firestore",
            "member",
            "serviceAccount:pm-test-service@pm-test.iam.gserviceaccount.com",
        ),
        cloud="gcp",
    ),
    Case(
        "PM-GCP-018",
        "key-unknown",
        setting("firestore", "cmekConfig.kmsKeyName", "<unknown>"),
        cloud="gcp",
    ),
    Case(
        "PM-GCP-019",
        "staging-unprotected",
        setting("secret-redaction-key", "deletionProtection", False),
        cloud="gcp",
    ),
    Case(
        "PM-STACK-001", "graph-without-outputs", option("phase-mirror", "type", "x:index:Outputs")
    ),
    Case(
        "PM-STACK-001",
        "gcp-bucket-named-in-url",
        setting(
            "phase-mirror",
            "backendUrl",
            "gcp://pm-test?prefix=pm-test&location=us-central1&database=pm-test&bucket=pm-test-baselines",
        ),
        cloud="gcp",
    ),
    Case("PM-STACK-004", "aws-unknown-rule", setting("system-health", "alarmRule", "<unknown>")),
    Case(
        "PM-STACK-004",
        "gcp-conditions-in-another-order",
        setting(
            "alert-system-health",
            "conditions",
            [
                {
                    "displayName": "secrets",
                    "conditionThreshold": {
                        "filter": 'metric.type="logging.googleapis.com/user/secrets"',
                        "thresholdValue": 0,
                    },
                },
                {
                    "displayName": "breaker",
                    "conditionThreshold": {
                        "filter": 'metric.type="logging.googleapis.com/user/breaker"',
                        "thresholdValue": 0,
                    },
                },
            ],
        ),
        cloud="gcp",
    ),
    *COMPUTE_PASSING,
]


def _entries(case: Case) -> list[Entry]:
    from phase_policy.props import UNKNOWN

    entries = stack_of(case.cloud, case.stack)
    case.mutation(entries)

    def unknowns(value: object) -> object:
        if value == "<unknown>":
            return UNKNOWN
        if isinstance(value, dict):
            return {k: unknowns(v) for k, v in value.items()}
        if isinstance(value, list):
            return [unknowns(v) for v in value]
        return value

    for entry in entries:
        entry["inputs"] = unknowns(entry.get("inputs", {}))
    return entries


@pytest.mark.parametrize(
    ("cloud", "stack"), [(c, s) for c in ("aws", "gcp") for s in ("staging", "production")]
)
def test_compliant_stacks_have_no_finding(cloud: str, stack: str) -> None:
    result = evaluate(stack_of(cloud, stack), cloud=cloud, stack=stack)
    assert [(f.rule_id, f.resource_name, f.message) for f in result.findings] == []


@pytest.mark.parametrize("case", FAILING, ids=[c.id for c in FAILING])
def test_broken_fixture_is_caught(case: Case) -> None:
    result = evaluate(_entries(case), cloud=case.cloud, stack=case.stack)
    meta = RULES_BY_ID[case.rule].meta
    if meta.enforcement.value == "mandatory":
        assert case.rule in rule_ids(result.findings), [
            (f.rule_id, f.message) for f in result.findings
        ]
    else:  # advisory: reported, never blocking
        found = [f for f in result.findings if f.rule_id == case.rule]
        assert found and not any(f.blocking for f in found)
    for finding in result.findings:
        assert finding.message and "Traceback" not in finding.message


@pytest.mark.parametrize("case", PASSING, ids=[c.id for c in PASSING])
def test_allowed_variant_passes(case: Case) -> None:
    result = evaluate(_entries(case), cloud=case.cloud, stack=case.stack)
    assert case.rule not in rule_ids(result.findings, blocking_only=False), [
        (f.rule_id, f.message) for f in result.findings
    ]


def test_every_rule_has_failing_and_passing_fixtures() -> None:
    every = {rule.id for rule in RULES}
    assert {c.rule for c in FAILING} == every
    assert {c.rule for c in PASSING} == every


def test_catalog_ttl_attribute_is_what_the_rule_expects() -> None:
    result = evaluate(
        _entries(
            Case("PM-AWS-002", "x", setting("table-consent-store", "ttl.attributeName", "exp"))
        )
    )
    messages = [f.message for f in result.findings if f.rule_id == "PM-AWS-002"]
    assert messages and TTL_ATTRIBUTE in messages[0]


def test_violation_names_the_resource() -> None:
    case = Case("PM-AWS-001", "x", setting("table-fp-events", "pointInTimeRecovery.enabled", False))
    [finding] = [f for f in evaluate(_entries(case)).findings if f.rule_id == "PM-AWS-001"]
    assert finding.resource_name == "table-fp-events"
    assert finding.resource_type == "aws:dynamodb/table:Table"
    assert finding.urn.startswith("urn:pulumi:staging::phase-mirror::")
