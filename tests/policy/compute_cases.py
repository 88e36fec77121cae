"""Failing and passing fixtures of the compute rules (Lambda, HTTP API, log groups, Scheduler,
ECR; Cloud Run, Artifact Registry), on the compliant stacks of `builders`."""

from __future__ import annotations

from typing import Any

from tests.policy.builders import IMAGE, KEY_NAME, Case, Entry, Mutation, adding, both, setting

LEAKED_TOKEN = "ghp_" + "a1B2" * 9
ACCOUNT_ROLE = "arn:aws:iam::111122223333:role/pm-test-api-function"


def _grant(
    type_: str, name: str, target: str, member: str, role: str = "roles/run.invoker"
) -> Entry:
    return {
        "type": type_,
        "name": name,
        "parent": "gcp",
        "dependencies": [target],
        "inputs": {
            "name": f"pm-test-{target.removeprefix('run-')}",
            "role": role,
            "member": member,
        },
    }


SERVICE_IAM = "gcp:cloudrunv2/serviceIamMember:ServiceIamMember"
JOB_IAM = "gcp:cloudrunv2/jobIamMember:JobIamMember"


def _envs(*pairs: tuple[str, Any]) -> list[dict[str, Any]]:
    return [{"name": n, "value": v} for n, v in pairs]


def _gcp(rule: str, label: str, mutation: Mutation) -> Case:
    return Case(rule, label, mutation, cloud="gcp")


COMPUTE_FAILING = [
    # ---------------------------------------------------------------- Lambda
    Case(
        "PM-AWS-026", "pass-through", setting("function-api", "tracingConfig.mode", "PassThrough")
    ),
    Case("PM-AWS-026", "no-tracing", setting("function-anonymizer", "tracingConfig", None)),
    Case("PM-AWS-027", "unreserved", setting("function-api", "reservedConcurrentExecutions", None)),
    Case("PM-AWS-027", "minus-one", setting("function-api", "reservedConcurrentExecutions", -1)),
    Case("PM-AWS-027", "zero", setting("function-anonymizer", "reservedConcurrentExecutions", 0)),
    Case("PM-AWS-028", "service-key", setting("function-api", "kmsKeyArn", None)),
    Case("PM-AWS-028", "aws-managed", setting("function-api", "kmsKeyArn", "alias/aws/lambda")),
    Case(
        "PM-AWS-029",
        "password-literal",
        setting("function-api", "environment.variables.DB_PASSWORD", "correct-horse"),
    ),
    Case(
        "PM-AWS-029",
        "token-value",
        setting("function-api", "environment.variables.GH", LEAKED_TOKEN),
    ),
    Case(
        "PM-AWS-029",
        "access-key-value",
        setting("function-anonymizer", "environment.variables.AWS_KEY", "AKIAIOSFODNN7EXAMPLE"),
    ),
    Case(
        "PM-AWS-029",
        "password-in-url",
        setting("function-api", "environment.variables.DATABASE", "postgres://app:s3cret@db/x"),
    ),
    Case("PM-AWS-030", "python3-8", setting("function-api", "runtime", "python3.8")),
    Case("PM-AWS-030", "nodejs16", setting("function-anonymizer", "runtime", "nodejs16.x")),
    Case("PM-AWS-031", "no-source-arn", setting("http-api-invoke", "sourceArn", None)),
    Case("PM-AWS-031", "anyone", setting("http-api-invoke", "principal", "*")),
    Case(
        "PM-AWS-031",
        "open-function-url",
        setting("http-api-invoke", "functionUrlAuthType", "NONE"),
    ),
    Case(
        "PM-AWS-042",
        "shared-role",
        setting("function-anonymizer", "role", ACCOUNT_ROLE),
    ),
    # ---------------------------------------------------------------- HTTP API
    Case("PM-AWS-032", "no-access-log", setting("http-api-stage", "accessLogSettings", None)),
    Case("PM-AWS-032", "no-format", setting("http-api-stage", "accessLogSettings.format", None)),
    Case("PM-AWS-033", "no-throttling", setting("http-api-stage", "defaultRouteSettings", None)),
    Case(
        "PM-AWS-033",
        "zero-burst",
        setting("http-api-stage", "defaultRouteSettings.throttlingBurstLimit", 0),
    ),
    Case("PM-AWS-034", "undeclared-public", setting("http-api", "tags", None)),
    Case(
        "PM-AWS-034",
        "declares-something-else",
        setting("http-api", "tags", {"phase-mirror-public": "ingress"}),
    ),
    Case(
        "PM-AWS-034",
        "auth-missing",
        both(setting("http-api-route", "authorizationType", None), setting("http-api", "tags", {})),
    ),
    # ---------------------------------------------------------------- log groups
    Case("PM-AWS-035", "forever", setting("logs-api", "retentionInDays", None)),
    Case("PM-AWS-035", "zero", setting("logs-http-api-access", "retentionInDays", 0)),
    Case("PM-AWS-036", "cloudwatch-key", setting("logs-anonymizer", "kmsKeyId", None)),
    # ---------------------------------------------------------------- Scheduler
    Case("PM-AWS-037", "aws-owned-key", setting("schedule-anonymizer", "kmsKeyArn", None)),
    Case(
        "PM-AWS-038",
        "no-dlq",
        setting("schedule-anonymizer", "target.deadLetterConfig", None),
    ),
    # ---------------------------------------------------------------- ECR
    Case(
        "PM-AWS-039",
        "no-scan",
        setting("images", "imageScanningConfiguration.scanOnPush", False),
    ),
    Case("PM-AWS-039", "scan-unset", setting("images", "imageScanningConfiguration", None)),
    Case("PM-AWS-040", "mutable", setting("images", "imageTagMutability", "MUTABLE")),
    Case("PM-AWS-040", "default-mutable", setting("images", "imageTagMutability", None)),
    Case("PM-AWS-041", "aes256", setting("images", "encryptionConfigurations", None)),
    Case(
        "PM-AWS-041",
        "kms-aws-managed",
        setting("images", "encryptionConfigurations", [{"encryptionType": "KMS"}]),
    ),
    # ---------------------------------------------------------------- Cloud Run
    _gcp("PM-GCP-020", "ingress-all", setting("run-api", "ingress", "INGRESS_TRAFFIC_ALL")),
    _gcp("PM-GCP-020", "ingress-default", setting("run-api", "ingress", None)),
    _gcp(
        "PM-GCP-020",
        "declares-invoker-only",
        both(
            setting("run-api", "ingress", "INGRESS_TRAFFIC_ALL"),
            setting("run-api", "labels.phase-mirror-public", "invoker"),
        ),
    ),
    _gcp(
        "PM-GCP-021",
        "undeclared-public-invoker",
        adding(_grant(SERVICE_IAM, "run-api-public", "run-api", "allUsers")),
    ),
    _gcp(
        "PM-GCP-021",
        "public-developer",
        both(
            setting("run-api", "labels.phase-mirror-public", "invoker"),
            adding(
                _grant(SERVICE_IAM, "run-api-dev", "run-api", "allUsers", "roles/run.developer")
            ),
        ),
    ),
    _gcp(
        "PM-GCP-021",
        "public-job",
        setting("run-anonymizer-invoker", "member", "allAuthenticatedUsers"),
    ),
    _gcp(
        "PM-GCP-021",
        "public-binding",
        adding(
            {
                "type": "gcp:cloudrunv2/serviceIamBinding:ServiceIamBinding",
                "name": "run-api-binding",
                "parent": "gcp",
                "dependencies": ["run-api"],
                "inputs": {
                    "name": "pm-test-api",
                    "role": "roles/run.invoker",
                    "members": ["serviceAccount:a@pm-test.iam.gserviceaccount.com", "allUsers"],
                },
            }
        ),
    ),
    _gcp("PM-GCP-022", "default-account", setting("run-api", "template.serviceAccount", None)),
    _gcp(
        "PM-GCP-022",
        "compute-default",
        setting(
            "run-anonymizer",
            "template.template.serviceAccount",
            "1234-compute@developer.gserviceaccount.com",
        ),
    ),
    _gcp(
        "PM-GCP-029",
        "shared-account",
        setting(
            "run-anonymizer",
            "template.template.serviceAccount",
            "pm-test-api@pm-test.iam.gserviceaccount.com",
        ),
    ),
    _gcp("PM-GCP-023", "service-google-key", setting("run-api", "template.encryptionKey", None)),
    _gcp(
        "PM-GCP-023",
        "job-google-key",
        setting("run-anonymizer", "template.template.encryptionKey", None),
    ),
    _gcp(
        "PM-GCP-024",
        "tag-only",
        setting("run-api", "template.containers.0.image", IMAGE.split("@")[0] + ":latest"),
    ),
    _gcp(
        "PM-GCP-024",
        "job-short-digest",
        setting("run-anonymizer", "template.template.containers.0.image", IMAGE[:-1]),
    ),
    _gcp("PM-GCP-025", "uncapped", setting("run-api", "template.scaling", None)),
    _gcp("PM-GCP-025", "zero", setting("run-api", "template.scaling.maxInstanceCount", 0)),
    _gcp(
        "PM-GCP-026",
        "salt-literal",
        setting(
            "run-api",
            "template.containers.0.envs",
            _envs(("PHASE_MIRROR_SALT", "0123456789abcdef")),
        ),
    ),
    _gcp(
        "PM-GCP-026",
        "private-key",
        setting(
            "run-anonymizer",
            "template.template.containers.0.envs",
            _envs(("TLS", "-----BEGIN RSA PRIVATE KEY-----\nMIIE...")),
        ),
    ),
    # ---------------------------------------------------------------- Artifact Registry
    _gcp("PM-GCP-027", "google-key", setting("image-repository", "kmsKeyName", None)),
    _gcp(
        "PM-GCP-028",
        "mutable-tags",
        setting("image-repository", "dockerConfig.immutableTags", False),
    ),
    _gcp("PM-GCP-028", "docker-config-unset", setting("image-repository", "dockerConfig", None)),
    _gcp(
        "PM-GCP-010",
        "public-registry",
        setting("image-repository-deploy-writer", "member", "allUsers"),
    ),
    _gcp(
        "PM-GCP-010",
        "run-admin-on-service",
        setting("run-api-invoker", "role", "roles/run.admin"),
    ),
]

COMPUTE_PASSING = [
    Case(
        "PM-AWS-026",
        "active-on-image-function",
        both(
            setting("function-api", "packageType", "Image"),
            setting("function-api", "runtime", None),
        ),
    ),
    Case("PM-AWS-027", "one", setting("function-api", "reservedConcurrentExecutions", 1)),
    Case(
        "PM-AWS-028",
        "no-environment-no-key",
        both(
            setting("function-api", "environment", None), setting("function-api", "kmsKeyArn", None)
        ),
    ),
    Case("PM-AWS-028", "unknown-key", setting("function-api", "kmsKeyArn", "<unknown>")),
    Case(
        "PM-AWS-029",
        "references-and-settings",
        setting(
            "function-api",
            "environment.variables",
            {
                "SALT_PARAMETER_NAME": "/pm-test/anonymizer-salt",
                "API_TOKEN_SECRET_ARN": "arn:aws:secretsmanager:us-east-1:1:secret:x",
                "TOKEN_TTL_SECONDS": "300",
                "PHASE_MIRROR_BACKEND": "aws://?region=us-east-1&prefix=pm-test",
                "SECRET_SOURCE": "/pm-test/redaction-key",
            },
        ),
    ),
    Case(
        "PM-AWS-029",
        "unknown-value",
        setting("function-api", "environment.variables.DB_PASSWORD", "<unknown>"),
    ),
    Case("PM-AWS-030", "python3-13", setting("function-api", "runtime", "python3.13")),
    Case(
        "PM-AWS-030",
        "image-function",
        both(
            setting("function-api", "packageType", "Image"),
            setting("function-api", "runtime", None),
        ),
    ),
    Case(
        "PM-AWS-031",
        "account-principal",
        both(
            setting("http-api-invoke", "principal", "111122223333"),
            setting("http-api-invoke", "sourceArn", None),
        ),
    ),
    Case("PM-AWS-031", "unknown-source-arn", setting("http-api-invoke", "sourceArn", "<unknown>")),
    Case(
        "PM-AWS-032",
        "unknown-destination",
        setting("http-api-stage", "accessLogSettings.destinationArn", "<unknown>"),
    ),
    Case(
        "PM-AWS-033",
        "stricter-limits",
        setting(
            "http-api-stage",
            "defaultRouteSettings",
            {"throttlingRateLimit": 1, "throttlingBurstLimit": 1},
        ),
    ),
    Case(
        "PM-AWS-034",
        "iam-route-private-api",
        both(
            setting("http-api", "tags", None),
            setting("http-api-route", "authorizationType", "AWS_IAM"),
        ),
    ),
    Case(
        "PM-AWS-034",
        "declared-with-other-facets",
        setting("http-api", "tags", {"phase-mirror-public": "ingress_routes"}),
    ),
    Case("PM-AWS-035", "one-year", setting("logs-api", "retentionInDays", 365)),
    Case("PM-AWS-036", "unknown-key", setting("logs-api", "kmsKeyId", "<unknown>")),
    Case("PM-AWS-037", "unknown-key", setting("schedule-anonymizer", "kmsKeyArn", "<unknown>")),
    Case(
        "PM-AWS-038",
        "unknown-queue",
        setting("schedule-anonymizer", "target.deadLetterConfig.arn", "<unknown>"),
    ),
    Case(
        "PM-AWS-039",
        "no-ecr",
        lambda entries: entries.remove(next(e for e in entries if e["name"] == "images")),
    ),
    Case("PM-AWS-040", "immutable", setting("images", "imageTagMutability", "IMMUTABLE")),
    Case(
        "PM-AWS-041",
        "unknown-key",
        setting("images", "encryptionConfigurations.0.kmsKey", "<unknown>"),
    ),
    Case(
        "PM-AWS-042",
        "unknown-roles",
        both(
            setting("function-api", "role", "<unknown>"),
            setting("function-anonymizer", "role", "<unknown>"),
        ),
    ),
    _gcp(
        "PM-GCP-020",
        "declared-ingress",
        both(
            setting("run-api", "ingress", "INGRESS_TRAFFIC_ALL"),
            setting("run-api", "labels.phase-mirror-public", "ingress_invoker"),
        ),
    ),
    _gcp(
        "PM-GCP-020",
        "internal-only",
        setting("run-api", "ingress", "INGRESS_TRAFFIC_INTERNAL_ONLY"),
    ),
    _gcp(
        "PM-GCP-021",
        "declared-public-invoker",
        both(
            setting("run-api", "labels.phase-mirror-public", "invoker"),
            adding(_grant(SERVICE_IAM, "run-api-public", "run-api", "allUsers")),
        ),
    ),
    _gcp(
        "PM-GCP-021",
        "named-invoker-on-job",
        setting("run-anonymizer-invoker", "member", "group:ops@example.com"),
    ),
    _gcp(
        "PM-GCP-022",
        "unknown-account",
        setting("run-api", "template.serviceAccount", "<unknown>"),
    ),
    _gcp("PM-GCP-023", "unknown-key", setting("run-api", "template.encryptionKey", "<unknown>")),
    _gcp(
        "PM-GCP-024",
        "tag-and-digest",
        setting(
            "run-api",
            "template.containers.0.image",
            IMAGE.replace("@sha256", ":v1.2.3@sha256"),
        ),
    ),
    _gcp("PM-GCP-025", "one", setting("run-api", "template.scaling.maxInstanceCount", 1)),
    _gcp(
        "PM-GCP-026",
        "secret-reference",
        setting(
            "run-api",
            "template.containers.0.envs",
            [
                {
                    "name": "PHASE_MIRROR_SALT",
                    "valueSource": {"secretKeyRef": {"secret": "pm-test-salt", "version": "2"}},
                },
                {"name": "SECRET_NAME", "value": "projects/pm-test/secrets/pm-test-salt"},
            ],
        ),
    ),
    _gcp("PM-GCP-027", "key-name", setting("image-repository", "kmsKeyName", KEY_NAME)),
    _gcp(
        "PM-GCP-028",
        "python-repository",
        both(
            setting("image-repository", "format", "PYTHON"),
            setting("image-repository", "dockerConfig", None),
        ),
    ),
    _gcp(
        "PM-GCP-029",
        "distinct-accounts",
        setting(
            "run-anonymizer",
            "template.template.serviceAccount",
            "pm-test-other@pm-test.iam.gserviceaccount.com",
        ),
    ),
]
