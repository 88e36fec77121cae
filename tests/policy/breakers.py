"""Deliberately broken variants of the real Pulumi program.

Each breaker is a Pulumi stack transformation: the real `__main__.py` runs under Pulumi's mocks
with the transformation registered first, so the resource is *declared* broken by the program
itself (Pulumi applies the transformation before registering), not patched in the recorded
graph afterwards. `run_broken` builds a throwaway project root holding the repository's
`Pulumi.yaml` and stack files and an entry point that registers the breaker.
"""

from __future__ import annotations

import copy
import json
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pulumi
from phase_platform.testing import REPO_ROOT, run_stack
from phase_policy.graph import StackGraph
from phase_policy.program import graph_from_records

Transform = Callable[
    [pulumi.ResourceTransformationArgs], pulumi.ResourceTransformationResult | None
]
GITHUB = "token.actions.githubusercontent.com"


def _set(type_: str, /, name_suffix: str = "", **changes: Any) -> Transform:
    """Set input properties (snake_case, as the program passes them) on matching resources."""

    def transform(
        args: pulumi.ResourceTransformationArgs,
    ) -> pulumi.ResourceTransformationResult | None:
        if args.type_ != type_ or not args.name.endswith(name_suffix):
            return None
        props = dict(args.props)
        props.update(changes)
        return pulumi.ResourceTransformationResult(props, args.opts)

    return transform


def _set_in(type_: str, path: tuple[str | int, ...], new: Any) -> Transform:
    """Set (None: remove) one nested input, e.g. ("template", "containers", 0, "image")."""

    def transform(
        args: pulumi.ResourceTransformationArgs,
    ) -> pulumi.ResourceTransformationResult | None:
        if args.type_ != type_:
            return None
        props = dict(args.props)  # copied level by level below (Outputs are not deep-copyable)
        target: Any = props
        for step in path[:-1]:
            target[step] = copy.copy(target[step])
            target = target[step]
        if new is None:
            target.pop(path[-1], None)
        else:
            target[path[-1]] = new
        return pulumi.ResourceTransformationResult(props, args.opts)

    return transform


def _unprotect(type_: str) -> Transform:
    def transform(
        args: pulumi.ResourceTransformationArgs,
    ) -> pulumi.ResourceTransformationResult | None:
        if args.type_ != type_:
            return None
        opts = pulumi.ResourceOptions.merge(args.opts, pulumi.ResourceOptions(protect=False))
        return pulumi.ResourceTransformationResult(args.props, opts)

    return transform


def _json(*statements: dict[str, Any]) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


OPEN_TRUST = _json(
    {
        "Effect": "Allow",
        "Principal": {"Federated": f"arn:aws:iam::123456789012:oidc-provider/{GITHUB}"},
        "Action": "sts:AssumeRoleWithWebIdentity",
        "Condition": {
            "StringEquals": {f"{GITHUB}:aud": "sts.amazonaws.com"},
            "StringLike": {f"{GITHUB}:sub": "repo:*"},
        },
    }
)


PUBLIC_READ = _json(
    {"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::x/*"}
)


@dataclass(frozen=True)
class Broken:
    label: str
    cloud: str
    stack: str
    transform: Transform
    #: The rule id the gate must report.
    rule: str
    #: Python run after the program: declares an extra resource a transformation cannot add.
    extra: str = ""


TABLE = "aws:dynamodb/table:Table"
KEY = "aws:kms/key:Key"
FUNCTION = "aws:lambda/function:Function"
STAGE = "aws:apigatewayv2/stage:Stage"
LOG_GROUP = "aws:cloudwatch/logGroup:LogGroup"
SCHEDULE = "aws:scheduler/schedule:Schedule"
RUN_SERVICE = "gcp:cloudrunv2/service:Service"
RUN_JOB = "gcp:cloudrunv2/job:Job"
REGISTRY = "gcp:artifactregistry/repository:Repository"
ECR = (
    "import pulumi_aws as aws\n"
    "aws.ecr.Repository('images', opts=pulumi.ResourceOptions("
    "provider=aws.Provider('extra', region='us-east-1')))"
)

BROKEN = [
    Broken(
        "pitr-off",
        "aws",
        "staging",
        _set(TABLE, point_in_time_recovery={"enabled": False}),
        "PM-AWS-001",
    ),
    Broken(
        "ttl-renamed",
        "aws",
        "staging",
        _set(TABLE, "nonce-store", ttl={"attribute_name": "expires", "enabled": True}),
        "PM-AWS-002",
    ),
    Broken(
        "no-cmk",
        "aws",
        "staging",
        _set(TABLE, server_side_encryption={"enabled": True}),
        "PM-AWS-003",
    ),
    Broken(
        "table-unprotected",
        "aws",
        "production",
        _set(TABLE, deletion_protection_enabled=False),
        "PM-AWS-004",
    ),
    Broken("rotation-off", "aws", "staging", _set(KEY, enable_key_rotation=False), "PM-AWS-005"),
    Broken(
        "short-deletion-window",
        "aws",
        "production",
        _set(KEY, deletion_window_in_days=7),
        "PM-AWS-006",
    ),
    Broken(
        "versioning-suspended",
        "aws",
        "staging",
        _set(
            "aws:s3/bucketVersioning:BucketVersioning",
            versioning_configuration={"status": "Suspended"},
        ),
        "PM-AWS-007",
    ),
    Broken(
        "sse-s3",
        "aws",
        "staging",
        _set(
            "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
            rules=[{"apply_server_side_encryption_by_default": {"sse_algorithm": "AES256"}}],
        ),
        "PM-AWS-008",
    ),
    Broken(
        "public-bucket",
        "aws",
        "staging",
        _set(
            "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock",
            block_public_policy=False,
            restrict_public_buckets=False,
        ),
        "PM-AWS-009",
    ),
    Broken(
        "no-tls-policy",
        "aws",
        "staging",
        _set(
            "aws:s3/bucketPolicy:BucketPolicy",
            policy=_json(
                {
                    "Effect": "Allow",
                    "Principal": {"AWS": "arn:aws:iam::123456789012:root"},
                    "Action": "s3:GetObject",
                    "Resource": "arn:aws:s3:::x/*",
                }
            ),
        ),
        "PM-AWS-010",
    ),
    Broken(
        "plain-topic",
        "aws",
        "staging",
        _set("aws:sns/topic:Topic", kms_master_key_id=None),
        "PM-AWS-011",
    ),
    Broken(
        "wildcard-iam",
        "aws",
        "staging",
        _set(
            "aws:iam/policy:Policy",
            "data-access",
            policy=_json({"Effect": "Allow", "Action": "*", "Resource": "*"}),
        ),
        "PM-AWS-012",
    ),
    Broken(
        "admin-attached",
        "aws",
        "staging",
        _set(
            "aws:iam/rolePolicyAttachment:RolePolicyAttachment",
            policy_arn="arn:aws:iam::aws:policy/AdministratorAccess",
        ),
        "PM-AWS-012",
    ),
    Broken(
        "open-oidc-trust",
        "aws",
        "staging",
        _set("aws:iam/role:Role", "deploy-role", assume_role_policy=OPEN_TRUST),
        "PM-AWS-013",
    ),
    Broken(
        "plain-parameter",
        "aws",
        "staging",
        _set("aws:ssm/parameter:Parameter", type="String"),
        "PM-AWS-014",
    ),
    Broken(
        "vault-default-key",
        "aws",
        "staging",
        _set("aws:backup/vault:Vault", kms_key_arn=None),
        "PM-AWS-015",
    ),
    Broken(
        "store-missing",
        "aws",
        "staging",
        _set(TABLE, "table-fp-events", name="phase-mirror-staging-fp-events-v2"),
        "PM-STACK-001",
    ),
    Broken(
        "rotation-365-days",
        "aws",
        "staging",
        _set(KEY, rotation_period_in_days=365),
        "PM-STACK-002",
    ),
    Broken("unprotected-table", "aws", "production", _unprotect(TABLE), "PM-STACK-003"),
    Broken(
        "firestore-no-pitr",
        "gcp",
        "staging",
        _set(
            "gcp:firestore/database:Database",
            point_in_time_recovery_enablement="POINT_IN_TIME_RECOVERY_DISABLED",
        ),
        "PM-GCP-001",
    ),
    Broken(
        "firestore-delete-unprotected",
        "gcp",
        "production",
        _set(
            "gcp:firestore/database:Database", delete_protection_state="DELETE_PROTECTION_DISABLED"
        ),
        "PM-GCP-002",
    ),
    Broken(
        "kms-rotation-365-days",
        "gcp",
        "staging",
        _set("gcp:kms/cryptoKey:CryptoKey", rotation_period="31536000s"),
        "PM-GCP-003",
    ),
    Broken(
        "secret-without-cmek",
        "gcp",
        "staging",
        _set("gcp:secretmanager/secret:Secret", replication={"auto": {}}),
        "PM-GCP-004",
    ),
    Broken(
        "bucket-acls",
        "gcp",
        "staging",
        _set("gcp:storage/bucket:Bucket", uniform_bucket_level_access=False),
        "PM-GCP-005",
    ),
    Broken(
        "bucket-public",
        "gcp",
        "staging",
        _set("gcp:storage/bucket:Bucket", public_access_prevention="inherited"),
        "PM-GCP-006",
    ),
    Broken(
        "bucket-unversioned",
        "gcp",
        "staging",
        _set("gcp:storage/bucket:Bucket", versioning={"enabled": False}),
        "PM-GCP-007",
    ),
    Broken(
        "bucket-google-key",
        "gcp",
        "staging",
        _set("gcp:storage/bucket:Bucket", encryption=None),
        "PM-GCP-008",
    ),
    Broken(
        "wif-open",
        "gcp",
        "staging",
        _set(
            "gcp:iam/workloadIdentityPoolProvider:WorkloadIdentityPoolProvider",
            attribute_condition=None,
        ),
        "PM-GCP-009",
    ),
    Broken(
        "project-owner",
        "gcp",
        "staging",
        _set("gcp:projects/iAMMember:IAMMember", role="roles/owner"),
        "PM-GCP-010",
    ),
    Broken(
        "ttl-policy-missing",
        "gcp",
        "staging",
        _set("gcp:firestore/field:Field", "ttl-nonce-store", field="ttl"),
        "PM-STACK-001",
    ),
    Broken(
        "firestore-no-cmek",
        "gcp",
        "staging",
        _set("gcp:firestore/database:Database", cmek_config=None),
        "PM-STACK-002",
    ),
    Broken(
        "unprotected-crypto-key",
        "gcp",
        "production",
        _unprotect("gcp:kms/cryptoKey:CryptoKey"),
        "PM-STACK-003",
    ),
    Broken(
        "bucket-not-logged",
        "aws",
        "staging",
        _set("aws:s3/bucketLogging:BucketLogging", target_bucket=None),
        "PM-AWS-016",
    ),
    Broken(
        "bucket-acls-on",
        "aws",
        "staging",
        _set(
            "aws:s3/bucketOwnershipControls:BucketOwnershipControls",
            rule={"object_ownership": "ObjectWriter"},
        ),
        "PM-AWS-017",
    ),
    Broken(
        "public-bucket-policy",
        "aws",
        "staging",
        _set("aws:s3/bucketPolicy:BucketPolicy", "tls-only", policy=PUBLIC_READ),
        "PM-AWS-018",
    ),
    Broken(
        "uploads-never-aborted",
        "aws",
        "staging",
        _set(
            "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration",
            "baselines-lifecycle",
            rules=[
                {
                    "id": "x",
                    "status": "Enabled",
                    "filter": {"prefix": ""},
                    "expiration": {"days": 9},
                }
            ],
        ),
        "PM-AWS-019",
    ),
    Broken(
        "key-lockout-bypass",
        "aws",
        "staging",
        _set(KEY, bypass_policy_lockout_safety_check=True),
        "PM-AWS-020",
    ),
    Broken(
        "public-topic",
        "aws",
        "staging",
        _set(
            "aws:sns/topic:Topic",
            policy=_json(
                {"Effect": "Allow", "Principal": "*", "Action": "sns:Publish", "Resource": "*"}
            ),
        ),
        "PM-AWS-021",
    ),
    Broken(
        "pass-any-role",
        "aws",
        "staging",
        _set(
            "aws:iam/policy:Policy",
            "data-access",
            policy=_json({"Effect": "Allow", "Action": "iam:PassRole", "Resource": "*"}),
        ),
        "PM-AWS-022",
    ),
    Broken(
        "service-role-open",
        "aws",
        "staging",
        _set(
            "aws:iam/role:Role",
            "service-role",
            assume_role_policy=_json(
                {"Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "sts:AssumeRole"}
            ),
        ),
        "PM-AWS-023",
    ),
    Broken(
        "alarm-actions-off",
        "aws",
        "staging",
        _set("aws:cloudwatch/metricAlarm:MetricAlarm", actions_enabled=False),
        "PM-AWS-024",
    ),
    Broken(
        "iam-access-key",
        "aws",
        "staging",
        lambda args: None,
        "PM-AWS-025",
        extra=(
            "import pulumi_aws as aws\n"
            "aws.iam.AccessKey('ci-key', user='ci', opts=pulumi.ResourceOptions("
            "provider=aws.Provider('extra', region='us-east-1')))"
        ),
    ),
    Broken(
        "composite-misses-alarms",
        "aws",
        "staging",
        _set("aws:cloudwatch/compositeAlarm:CompositeAlarm", alarm_rule='ALARM("nothing")'),
        "PM-STACK-004",
    ),
    Broken(
        "no-storage-data-access-logs",
        "gcp",
        "staging",
        _set(
            "gcp:projects/iAMAuditConfig:IAMAuditConfig",
            audit_log_configs=[{"log_type": "ADMIN_READ"}],
        ),
        "PM-GCP-011",
    ),
    Broken(
        "bucket-uploads-never-aborted",
        "gcp",
        "staging",
        _set(
            "gcp:storage/bucket:Bucket",
            lifecycle_rules=[{"action": {"type": "Delete"}, "condition": {"age": 30}}],
        ),
        "PM-GCP-012",
    ),
    Broken(
        "alert-without-channel",
        "gcp",
        "staging",
        _set("gcp:monitoring/alertPolicy:AlertPolicy", notification_channels=[]),
        "PM-GCP-013",
    ),
    Broken(
        "deploy-sa-public",
        "gcp",
        "staging",
        _set("gcp:serviceaccount/iAMMember:IAMMember", "workload-identity", member="allUsers"),
        "PM-GCP-014",
    ),
    Broken(
        "key-destroyed-in-a-day",
        "gcp",
        "staging",
        _set("gcp:kms/cryptoKey:CryptoKey", destroy_scheduled_duration="86400s"),
        "PM-GCP-015",
    ),
    Broken(
        "service-account-key",
        "gcp",
        "staging",
        lambda args: None,
        "PM-GCP-016",
        extra=(
            "import pulumi_gcp as gcp\n"
            "gcp.serviceaccount.Key('ci-key', service_account_id='x', opts=pulumi.ResourceOptions("
            "provider=gcp.Provider('extra', project='pm-test')))"
        ),
    ),
    Broken(
        "default-compute-sa",
        "gcp",
        "staging",
        _set(
            "gcp:projects/iAMMember:IAMMember",
            member="serviceAccount:1234-compute@developer.gserviceaccount.com",
        ),
        "PM-GCP-017",
    ),
    Broken(
        "firestore-google-key",
        "gcp",
        "staging",
        _set("gcp:firestore/database:Database", cmek_config=None),
        "PM-GCP-018",
    ),
    Broken(
        "secret-unprotected",
        "gcp",
        "production",
        _set("gcp:secretmanager/secret:Secret", deletion_protection=False),
        "PM-GCP-019",
    ),
    # ---------------------------------------------------------------- compute
    Broken("no-tracing", "aws", "staging", _set(FUNCTION, tracing_config=None), "PM-AWS-026"),
    Broken(
        "unreserved-concurrency",
        "aws",
        "staging",
        _set(FUNCTION, reserved_concurrent_executions=-1),
        "PM-AWS-027",
    ),
    Broken("env-service-key", "aws", "staging", _set(FUNCTION, kms_key_arn=None), "PM-AWS-028"),
    Broken(
        "env-password",
        "aws",
        "staging",
        _set(FUNCTION, environment={"variables": {"DB_PASSWORD": "correct-horse-battery"}}),
        "PM-AWS-029",
    ),
    Broken(
        "runtime-python3-8", "aws", "staging", _set(FUNCTION, runtime="python3.8"), "PM-AWS-030"
    ),
    Broken(
        "invoke-from-anywhere",
        "aws",
        "staging",
        _set("aws:lambda/permission:Permission", source_arn=None),
        "PM-AWS-031",
    ),
    Broken("stage-unlogged", "aws", "staging", _set(STAGE, access_log_settings=None), "PM-AWS-032"),
    Broken(
        "stage-unthrottled",
        "aws",
        "staging",
        _set(STAGE, default_route_settings=None),
        "PM-AWS-033",
    ),
    Broken(
        "route-public-undeclared",
        "aws",
        "staging",
        _set("aws:apigatewayv2/api:Api", tags=None),
        "PM-AWS-034",
    ),
    Broken("logs-forever", "aws", "staging", _set(LOG_GROUP, retention_in_days=None), "PM-AWS-035"),
    Broken("logs-cloudwatch-key", "aws", "staging", _set(LOG_GROUP, kms_key_id=None), "PM-AWS-036"),
    Broken("schedule-aws-key", "aws", "staging", _set(SCHEDULE, kms_key_arn=None), "PM-AWS-037"),
    Broken(
        "schedule-without-dlq",
        "aws",
        "staging",
        _set_in(SCHEDULE, ("target", "dead_letter_config"), None),
        "PM-AWS-038",
    ),
    Broken("ecr-unscanned", "aws", "staging", lambda args: None, "PM-AWS-039", extra=ECR),
    Broken("ecr-mutable", "aws", "staging", lambda args: None, "PM-AWS-040", extra=ECR),
    Broken("ecr-aes256", "aws", "staging", lambda args: None, "PM-AWS-041", extra=ECR),
    Broken(
        "shared-function-role",
        "aws",
        "staging",
        _set(FUNCTION, role="arn:aws:iam::123456789012:role/shared"),
        "PM-AWS-042",
    ),
    Broken(
        "run-ingress-undeclared",
        "gcp",
        "staging",
        _set(RUN_SERVICE, labels={"stack": "phase-mirror-staging"}),
        "PM-GCP-020",
    ),
    Broken(
        "run-job-public",
        "gcp",
        "staging",
        _set("gcp:cloudrunv2/jobIamMember:JobIamMember", member="allUsers"),
        "PM-GCP-021",
    ),
    Broken(
        "run-default-account",
        "gcp",
        "staging",
        _set_in(RUN_SERVICE, ("template", "service_account"), None),
        "PM-GCP-022",
    ),
    Broken(
        "run-google-key",
        "gcp",
        "staging",
        _set_in(RUN_JOB, ("template", "template", "encryption_key"), None),
        "PM-GCP-023",
    ),
    Broken(
        "run-image-tag",
        "gcp",
        "staging",
        _set_in(
            RUN_SERVICE,
            ("template", "containers", 0, "image"),
            "us-central1-docker.pkg.dev/p/r/phase-mirror:latest",
        ),
        "PM-GCP-024",
    ),
    Broken(
        "run-uncapped",
        "gcp",
        "staging",
        _set_in(RUN_SERVICE, ("template", "scaling"), None),
        "PM-GCP-025",
    ),
    Broken(
        "run-env-token",
        "gcp",
        "staging",
        _set_in(
            RUN_JOB,
            ("template", "template", "containers", 0, "envs"),
            [{"name": "GITHUB_TOKEN", "value": "ghp_" + "x" * 36}],
        ),
        "PM-GCP-026",
    ),
    Broken(
        "registry-google-key", "gcp", "staging", _set(REGISTRY, kms_key_name=None), "PM-GCP-027"
    ),
    Broken(
        "registry-mutable-tags",
        "gcp",
        "staging",
        _set(REGISTRY, docker_config={"immutable_tags": False}),
        "PM-GCP-028",
    ),
    Broken(
        "registry-public",
        "gcp",
        "staging",
        _set("gcp:artifactregistry/repositoryIamMember:RepositoryIamMember", member="allUsers"),
        "PM-GCP-010",
    ),
    Broken(
        "run-shared-account",
        "gcp",
        "staging",
        _set_in(
            RUN_JOB,
            ("template", "template", "service_account"),
            "phase-mirror-staging-api@phase-mirror-staging.iam.gserviceaccount.com",
        ),
        "PM-GCP-029",
    ),
]

ENTRY = """\
import pulumi

from tests.policy.breakers import BY_LABEL

pulumi.runtime.register_stack_transformation(BY_LABEL[{label!r}].transform)

from phase_platform.program import main

main()
{extra}
"""

BY_LABEL = {broken.label: broken for broken in BROKEN}


def run_broken(broken: Broken, root: Path) -> StackGraph:
    """Run the program with the breaker registered; the graph the gate evaluates."""
    root.mkdir(parents=True, exist_ok=True)
    for name in ("Pulumi.yaml", f"Pulumi.{broken.stack}.yaml"):
        shutil.copy(REPO_ROOT / name, root / name)
    (root / "__main__.py").write_text(ENTRY.format(label=broken.label, extra=broken.extra))
    run = run_stack(broken.cloud, broken.stack, root=root)
    return graph_from_records(
        run.resources, stack=broken.stack, source=f"broken:{broken.label}", outputs=run.outputs
    )
