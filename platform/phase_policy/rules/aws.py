"""AWS rules: DynamoDB, KMS, S3, SNS, IAM, SSM, AWS Backup."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from typing import Any

from pulumi_policy import (
    PolicyResource,
    ReportViolation,
    ResourceValidationArgs,
    Severity,
    StackValidationArgs,
)

from .. import iam
from ..links import LogLinks, companions_of, log_links
from ..posture import AWS_DEFAULT_ROTATION_DAYS, LOGGING_TYPES, MAX_ROTATION_DAYS
from ..props import MISSING, UNKNOWN, cannot_know, elements, present, read, value
from ..stores import expected_ttl_attribute, is_durable_table, table_spec
from .base import ADVISORY, Rule, of_type, resource_is_production, resource_rule, stack_rule

TABLE = "aws:dynamodb/table:Table"
KMS_KEY = "aws:kms/key:Key"
BUCKETS = ("aws:s3/bucket:Bucket", "aws:s3/bucketV2:BucketV2")
VERSIONING = (
    "aws:s3/bucketVersioning:BucketVersioning",
    "aws:s3/bucketVersioningV2:BucketVersioningV2",
)
ENCRYPTION = (
    "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
    "aws:s3/bucketServerSideEncryptionConfigurationV2:BucketServerSideEncryptionConfigurationV2",
)
PUBLIC_ACCESS_BLOCK = ("aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock",)
BUCKET_POLICY = ("aws:s3/bucketPolicy:BucketPolicy",)
TOPIC = "aws:sns/topic:Topic"
PARAMETER = "aws:ssm/parameter:Parameter"
BACKUP_VAULT = "aws:backup/vault:Vault"
ROLE = "aws:iam/role:Role"
LOGGING = LOGGING_TYPES
OWNERSHIP = ("aws:s3/bucketOwnershipControls:BucketOwnershipControls",)
LIFECYCLE = (
    "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration",
    "aws:s3/bucketLifecycleConfigurationV2:BucketLifecycleConfigurationV2",
)
KEY_POLICY = "aws:kms/keyPolicy:KeyPolicy"
TOPIC_POLICY = "aws:sns/topicPolicy:TopicPolicy"
ALARMS = (
    "aws:cloudwatch/metricAlarm:MetricAlarm",
    "aws:cloudwatch/compositeAlarm:CompositeAlarm",
)
ACCESS_KEY = "aws:iam/accessKey:AccessKey"
IDENTITY_POLICIES = {
    "aws:iam/policy:Policy": ("policy",),
    "aws:iam/rolePolicy:RolePolicy": ("policy",),
    "aws:iam/userPolicy:UserPolicy": ("policy",),
    "aws:iam/groupPolicy:GroupPolicy": ("policy",),
}
ATTACHMENTS = (
    "aws:iam/rolePolicyAttachment:RolePolicyAttachment",
    "aws:iam/policyAttachment:PolicyAttachment",
    "aws:iam/userPolicyAttachment:UserPolicyAttachment",
    "aws:iam/groupPolicyAttachment:GroupPolicyAttachment",
)
#: AWS-managed keys are not customer-managed keys (no key policy or rotation under our control).
AWS_MANAGED_ALIASES = ("alias/aws/",)
PUBLIC_ACCESS_FLAGS = (
    "blockPublicAcls",
    "blockPublicPolicy",
    "ignorePublicAcls",
    "restrictPublicBuckets",
)


def is_aws_managed_key(key: object) -> bool:
    return isinstance(key, str) and any(marker in key for marker in AWS_MANAGED_ALIASES)


@resource_rule(
    id="PM-AWS-001",
    title="dynamodb-pitr",
    description="Durable DynamoDB tables have point-in-time recovery enabled.",
    severity=Severity.HIGH,
    remediation="Set `point_in_time_recovery={'enabled': True}` on every table whose catalog store is durable (adapters/catalog.py).",
    cloud="aws",
    types=[TABLE],
    checkov=["CKV_AWS_28"],
    trivy=["AVD-AWS-0024"],
    twin="PM-GCP-001",
)
def dynamodb_pitr(args: ResourceValidationArgs, report: ReportViolation) -> None:
    if not is_durable_table(args.props):
        args.not_applicable("ephemeral store: counters and tokens are safe to lose")
    if value(args.props, "pointInTimeRecovery", "enabled") is not True:
        report("point-in-time recovery is off on a durable table", None)


@resource_rule(
    id="PM-AWS-002",
    title="dynamodb-ttl",
    description="DynamoDB tables of expiring stores have TTL enabled on the catalog's TTL attribute.",
    severity=Severity.MEDIUM,
    remediation="Set `ttl={'attribute_name': catalog.TTL_ATTRIBUTE, 'enabled': True}` on tables whose catalog store declares a default TTL (every ephemeral store does).",
    cloud="aws",
    types=[TABLE],
    twin="PM-STACK-001",
)
def dynamodb_ttl(args: ResourceValidationArgs, report: ReportViolation) -> None:
    expected = expected_ttl_attribute(args.props)
    if expected is None:
        args.not_applicable("the store's items never expire")
    if value(args.props, "ttl", "enabled") is not True:
        report("TTL is not enabled: expired items would accumulate forever", None)
        return
    attribute = value(args.props, "ttl", "attributeName")
    if isinstance(expected, str) and attribute != expected:
        report(
            f"TTL is on attribute {attribute!r} but the catalog's TTL attribute is {expected!r}",
            None,
        )


@resource_rule(
    id="PM-AWS-003",
    title="dynamodb-cmk",
    description="DynamoDB tables are encrypted with a customer-managed KMS key.",
    severity=Severity.HIGH,
    remediation="Set `server_side_encryption={'enabled': True, 'kms_key_arn': key.arn}` with the stack's customer-managed key.",
    cloud="aws",
    types=[TABLE],
    checkov=["CKV_AWS_119"],
    trivy=["AVD-AWS-0025"],
    twin="PM-GCP-018",
)
def dynamodb_cmk(args: ResourceValidationArgs, report: ReportViolation) -> None:
    if value(args.props, "serverSideEncryption", "enabled") is not True:
        report("server-side encryption with a customer-managed key is not enabled", None)
    elif not present(args.props, "serverSideEncryption", "kmsKeyArn"):
        report("encryption is enabled without a KMS key ARN (that is the AWS-owned key)", None)
    elif is_aws_managed_key(read(args.props, "serverSideEncryption", "kmsKeyArn")):
        report(
            "the table uses the AWS-managed key alias/aws/dynamodb, not a customer-managed key",
            None,
        )


@resource_rule(
    id="PM-AWS-004",
    title="dynamodb-deletion-protection",
    description="Production DynamoDB tables have deletion protection enabled.",
    severity=Severity.HIGH,
    remediation="Set `deletion_protection_enabled=True` (the platform does so when `deletionProtection` is true, which production forces).",
    cloud="aws",
    types=[TABLE],
    production_only=True,
    twin="PM-GCP-002",
)
def dynamodb_deletion_protection(args: ResourceValidationArgs, report: ReportViolation) -> None:
    if value(args.props, "deletionProtectionEnabled") is not True:
        report("deletion protection is off on a production table", None)


@resource_rule(
    id="PM-AWS-005",
    title="kms-rotation",
    description="Customer-managed symmetric KMS keys rotate automatically at least every 90 days (`rotation_period_in_days` <= 90; unset means AWS's 365).",
    severity=Severity.HIGH,
    remediation="Set `enable_key_rotation=True` and `rotation_period_in_days=90` (or fewer), the same limit as Cloud KMS (PM-GCP-003).",
    cloud="aws",
    types=[KMS_KEY],
    checkov=["CKV_AWS_7"],
    trivy=["AVD-AWS-0065"],
    twin="PM-GCP-003",
)
def kms_rotation(args: ResourceValidationArgs, report: ReportViolation) -> None:
    spec = read(args.props, "customerMasterKeySpec")
    if spec is MISSING:
        spec = read(args.props, "keySpec")
    if isinstance(spec, str) and spec != "SYMMETRIC_DEFAULT":
        args.not_applicable(f"{spec} keys cannot rotate automatically")
    if value(args.props, "enableKeyRotation") is not True:
        report("automatic key rotation is off", None)
        return
    days = value(args.props, "rotationPeriodInDays", default=AWS_DEFAULT_ROTATION_DAYS)
    if not isinstance(days, int | float) or days > MAX_ROTATION_DAYS:
        report(f"the key rotates every {days} days; at most {MAX_ROTATION_DAYS} are allowed", None)


@resource_rule(
    id="PM-AWS-006",
    title="kms-deletion-window",
    description="KMS keys wait at least 7 days before deletion (30 in production).",
    severity=Severity.MEDIUM,
    remediation="Set `deletion_window_in_days` to 30 in production and at least 7 elsewhere; a short window leaves no time to cancel an accidental deletion.",
    cloud="aws",
    types=[KMS_KEY],
    twin="PM-GCP-015",
)
def kms_deletion_window(args: ResourceValidationArgs, report: ReportViolation) -> None:
    days = value(args.props, "deletionWindowInDays", default=30)  # AWS's default is 30
    production = resource_is_production(args)
    minimum = 30 if production else 7
    if not isinstance(days, int | float) or days < minimum:
        where = "production" if production else "any stack"
        shown = f"{days:g}" if isinstance(days, int | float) else repr(days)
        report(f"deletion window is {shown} days; {where} needs at least {minimum}", None)


def _buckets(args: StackValidationArgs) -> list[PolicyResource]:
    return of_type(args.resources, *BUCKETS)


def _bucket_label(bucket: PolicyResource) -> str:
    name = read(bucket.props, "bucket")
    return f"bucket {name}" if isinstance(name, str) else f"bucket {bucket.name}"


def _inline_or_companion(
    args: StackValidationArgs, bucket: PolicyResource, types: tuple[str, ...]
) -> list[PolicyResource]:
    return companions_of(bucket, args.resources, _buckets(args), types)


@stack_rule(
    id="PM-AWS-007",
    title="s3-versioning",
    description="S3 buckets keep every object version.",
    severity=Severity.MEDIUM,
    remediation="Add an `aws.s3.BucketVersioning` with `versioning_configuration={'status': 'Enabled'}` for the bucket.",
    cloud="aws",
    types=[*BUCKETS, *VERSIONING],
    checkov=["CKV_AWS_21"],
    trivy=["AVD-AWS-0090"],
    twin="PM-GCP-007",
)
def s3_versioning(args: StackValidationArgs, report: ReportViolation) -> None:
    for bucket in _buckets(args):
        if read(bucket.props, "versioning", "enabled") is True:
            continue
        configs = _inline_or_companion(args, bucket, VERSIONING)
        statuses = [read(c.props, "versioningConfiguration", "status") for c in configs]
        if not any(status == "Enabled" or status is UNKNOWN for status in statuses):
            found = ", ".join(str(s) for s in statuses) or "no versioning configuration"
            report(f"{_bucket_label(bucket)} is not versioned ({found})", bucket.urn)


def _sse_is_kms(rules: Any) -> bool:
    """Whether a list of SSE rules encrypts by default with a customer-managed KMS key."""
    items = elements(rules)
    if not isinstance(items, list):  # unknown at preview
        return True
    for rule in items:
        default = (
            read(rule, "applyServerSideEncryptionByDefault") if rule is not UNKNOWN else UNKNOWN
        )
        if default is UNKNOWN:
            return True
        algorithm = read(default, "sseAlgorithm")
        key = read(default, "kmsMasterKeyId")
        kms = algorithm in ("aws:kms", "aws:kms:dsse") or algorithm is UNKNOWN
        if kms and present(default, "kmsMasterKeyId") and not is_aws_managed_key(key):
            return True
    return False


@stack_rule(
    id="PM-AWS-008",
    title="s3-sse-kms",
    description="S3 buckets encrypt objects by default with a customer-managed KMS key; a bucket receiving server access logs (a logging target) needs default encryption, SSE-S3 allowed (the only one S3 log delivery supports).",
    severity=Severity.HIGH,
    remediation="Add an `aws.s3.BucketServerSideEncryptionConfiguration` with `sse_algorithm='aws:kms'` and `kms_master_key_id=key.arn` (and `bucket_key_enabled=True`).",
    cloud="aws",
    types=[*BUCKETS, *ENCRYPTION],
    checkov=["CKV_AWS_145"],
    trivy=["AVD-AWS-0132"],
    twin="PM-GCP-008",
)
def s3_sse_kms(args: StackValidationArgs, report: ReportViolation) -> None:
    log_targets = _log_links(args).targets
    for bucket in _buckets(args):
        inline = read(bucket.props, "serverSideEncryptionConfiguration")
        if isinstance(inline, Mapping) and _sse_is_kms([read(inline, "rule")]):
            continue
        configs = _inline_or_companion(args, bucket, ENCRYPTION)
        if bucket.urn in log_targets:
            if not configs:
                report(
                    f"{_bucket_label(bucket)} (a log target) has no default encryption", bucket.urn
                )
            continue
        if not any(_sse_is_kms(read(c.props, "rules")) for c in configs):
            report(
                f"{_bucket_label(bucket)} has no default SSE-KMS encryption with a customer-managed key",
                bucket.urn,
            )


@stack_rule(
    id="PM-AWS-009",
    title="s3-public-access-block",
    description="S3 buckets have all four public access blocks on.",
    severity=Severity.CRITICAL,
    remediation="Add an `aws.s3.BucketPublicAccessBlock` with block_public_acls, block_public_policy, ignore_public_acls and restrict_public_buckets all True.",
    cloud="aws",
    types=[*BUCKETS, *PUBLIC_ACCESS_BLOCK],
    checkov=["CKV_AWS_53", "CKV_AWS_54", "CKV_AWS_55", "CKV_AWS_56", "CKV2_AWS_6"],
    trivy=["AVD-AWS-0086", "AVD-AWS-0087", "AVD-AWS-0091", "AVD-AWS-0093", "AVD-AWS-0094"],
    twin="PM-GCP-006",
)
def s3_public_access_block(args: StackValidationArgs, report: ReportViolation) -> None:
    for bucket in _buckets(args):
        blocks = _inline_or_companion(args, bucket, PUBLIC_ACCESS_BLOCK)
        if not blocks:
            report(f"{_bucket_label(bucket)} has no public access block", bucket.urn)
            continue
        best_missing: list[str] | None = None
        for block in blocks:
            missing = [
                flag
                for flag in PUBLIC_ACCESS_FLAGS
                if read(block.props, flag) is not True and read(block.props, flag) is not UNKNOWN
            ]
            if best_missing is None or len(missing) < len(best_missing):
                best_missing = missing
        if best_missing:
            report(
                f"{_bucket_label(bucket)}: public access block leaves {', '.join(best_missing)} off",
                bucket.urn,
            )


def _denies_insecure_transport(policy_doc: Any) -> bool | None:
    """True/False, or None when the document cannot be read yet (unknown at preview)."""
    if policy_doc is UNKNOWN:
        return None
    document, _ = iam.parse(policy_doc)
    if document is None:
        return False
    for st in iam.statements(document):
        if st.effect != "Deny":
            continue
        for operator, block in st.condition.items():
            if operator.startswith("Bool") and isinstance(block, dict):
                secure = {k.lower(): v for k, v in block.items()}.get("aws:securetransport")
                if str(secure).lower() in ("false", "['false']"):
                    return True
    return False


@stack_rule(
    id="PM-AWS-010",
    title="s3-tls-only",
    description="S3 bucket policies deny every request not made over TLS.",
    severity=Severity.MEDIUM,
    remediation="Attach an `aws.s3.BucketPolicy` with a Deny statement for all principals and `s3:*` when `aws:SecureTransport` is false.",
    cloud="aws",
    types=[*BUCKETS, *BUCKET_POLICY],
    checkov=["CKV_AWS_379"],
    one_cloud_reason="Cloud Storage serves HTTPS only: there is no plain-HTTP endpoint a bucket policy would have to deny.",
)
def s3_tls_only(args: StackValidationArgs, report: ReportViolation) -> None:
    for bucket in _buckets(args):
        inline = read(bucket.props, "policy")
        verdicts = [_denies_insecure_transport(inline)] if inline is not MISSING else []
        for policy in _inline_or_companion(args, bucket, BUCKET_POLICY):
            verdicts.append(_denies_insecure_transport(read(policy.props, "policy")))
        if not any(v is None or v for v in verdicts):
            report(
                f"{_bucket_label(bucket)} accepts plain-HTTP requests (no TLS-only deny)",
                bucket.urn,
            )


@resource_rule(
    id="PM-AWS-011",
    title="sns-cmk",
    description="SNS topics are encrypted with a customer-managed KMS key.",
    severity=Severity.MEDIUM,
    remediation="Set `kms_master_key_id=key.arn` on the topic (the key policy must let CloudWatch use it).",
    cloud="aws",
    types=[TOPIC],
    checkov=["CKV_AWS_26"],
    trivy=["AVD-AWS-0095", "AVD-AWS-0136"],
    one_cloud_reason="GCP alerts go to notification channels, which hold no messages and take no encryption key.",
)
def sns_cmk(args: ResourceValidationArgs, report: ReportViolation) -> None:
    if not present(args.props, "kmsMasterKeyId"):
        report("the topic is not encrypted", None)
    elif is_aws_managed_key(read(args.props, "kmsMasterKeyId")):
        report("the topic uses the AWS-managed key alias/aws/sns, not a customer-managed key", None)


def _identity_documents(args: ResourceValidationArgs) -> list[tuple[str, Any]]:
    if args.resource_type == ROLE:
        inline = elements(args.props, "inlinePolicies")
        if not isinstance(inline, list):
            return [("inline policies", UNKNOWN)]
        return [
            (
                f"inline policy {read(item, 'name')}",
                read(item, "policy") if item is not UNKNOWN else UNKNOWN,
            )
            for item in inline
        ]
    return [
        (prop, read(args.props, prop)) for prop in IDENTITY_POLICIES.get(args.resource_type, ())
    ]


def _parsed_identity_documents(
    args: ResourceValidationArgs,
) -> Iterator[tuple[str, dict[str, Any] | None, str | None]]:
    """(label, document, problem) of each identity document that is set; an unknown one stops
    the check."""
    for label, raw in _identity_documents(args):
        if raw is MISSING:
            continue
        if raw is UNKNOWN:
            cannot_know(label)
        document, problem = iam.parse(raw)
        yield label, document, problem


@resource_rule(
    id="PM-AWS-012",
    title="iam-least-privilege",
    description="IAM identity policies grant no wildcard action or resource, and no admin managed policy is attached.",
    severity=Severity.CRITICAL,
    remediation="List the exact actions and the ARNs of the stack's own resources (see platform/phase_platform/aws/documents.py); never attach AdministratorAccess/PowerUserAccess/IAMFullAccess. Key policies (where `Resource: *` means the key itself) and Deny statements grant nothing and are not checked.",
    cloud="aws",
    types=[ROLE, *IDENTITY_POLICIES, *ATTACHMENTS],
    checkov=["CKV_AWS_1", "CKV_AWS_62", "CKV_AWS_63", "CKV_AWS_355", "CKV_AWS_274"],
    trivy=["AVD-AWS-0057"],
    twin="PM-GCP-010",
)
def iam_least_privilege(args: ResourceValidationArgs, report: ReportViolation) -> None:
    if args.resource_type in ATTACHMENTS:
        arn = read(args.props, "policyArn")
        if isinstance(arn, str) and arn.startswith("arn:aws") and ":iam::aws:policy/" in arn:
            name = arn.rsplit("/", 1)[-1]
            if name in iam.ADMIN_MANAGED_POLICIES:
                report(f"attaches the AWS-managed {name} policy", None)
        return
    for label, document, problem in _parsed_identity_documents(args):
        if document is None:
            report(f"{label}: {problem}", None)
            continue
        for found in iam.wildcard_problems(document):
            report(f"{label}: {found}", None)


@resource_rule(
    id="PM-AWS-013",
    title="iam-oidc-trust-one-repository",
    description="Roles trusting GitHub's OIDC provider are restricted to one repository (every `sub` names repo:<owner>/<name>:...) and the STS audience; in production every `sub` is exact (no `*` or `?`).",
    severity=Severity.CRITICAL,
    remediation="In the trust policy, add StringEquals on `token.actions.githubusercontent.com:aud` = sts.amazonaws.com and on `token.actions.githubusercontent.com:sub` = repo:<owner>/<name>:ref:refs/heads/<branch> (and the pull_request / environment subjects), no wildcards.",
    cloud="aws",
    types=[ROLE],
    checkov=["CKV_AWS_358"],
    twin="PM-GCP-009",
)
def iam_oidc_trust(args: ResourceValidationArgs, report: ReportViolation) -> None:
    raw = value(args.props, "assumeRolePolicy")
    if raw is None:
        return
    document, problem = iam.parse(raw)
    if document is None:
        report(f"trust policy: {problem}", None)
        return
    production = resource_is_production(args)
    for found in iam.github_trust_problems(document, exact=production):
        report(found, None)


@resource_rule(
    id="PM-AWS-014",
    title="ssm-securestring-cmk",
    description="SSM parameters are SecureStrings encrypted with a customer-managed KMS key.",
    severity=Severity.HIGH,
    remediation="Use `type='SecureString'` and `key_id=key.arn` for every parameter (the catalog's secrets).",
    cloud="aws",
    types=[PARAMETER],
    checkov=["CKV2_AWS_34", "CKV_AWS_337"],
    twin="PM-GCP-004",
)
def ssm_securestring(args: ResourceValidationArgs, report: ReportViolation) -> None:
    kind = value(args.props, "type")
    if kind != "SecureString":
        report(f"parameter type is {kind!r}, not SecureString", None)
    elif not present(args.props, "keyId") or is_aws_managed_key(read(args.props, "keyId")):
        report(
            "the SecureString uses the AWS-managed key alias/aws/ssm, not a customer-managed key",
            None,
        )


@resource_rule(
    id="PM-AWS-015",
    title="backup-vault-cmk",
    description="AWS Backup vaults encrypt recovery points with a customer-managed KMS key.",
    severity=Severity.MEDIUM,
    remediation="Set `kms_key_arn=key.arn` on the backup vault.",
    cloud="aws",
    types=[BACKUP_VAULT],
    checkov=["CKV_AWS_166"],
    enforcement=ADVISORY,
    one_cloud_reason="The GCP stack has no backup vault: Firestore recovers through PITR (PM-GCP-001) inside the CMEK-encrypted database (PM-GCP-018).",
)
def backup_vault_cmk(args: ResourceValidationArgs, report: ReportViolation) -> None:
    if not present(args.props, "kmsKeyArn"):
        report("the vault uses the default AWS Backup key", None)


def _log_links(args: StackValidationArgs) -> LogLinks:
    return log_links(args.resources, _buckets(args), LOGGING)


@stack_rule(
    id="PM-AWS-016",
    title="s3-access-logging",
    description="Every S3 bucket delivers server access logs to a log bucket (a logging configuration with a `target_bucket`), except the log buckets themselves.",
    severity=Severity.MEDIUM,
    remediation="Add an `aws.s3.BucketLogging` with `target_bucket` = a dedicated log bucket (SSE-S3, BucketOwnerEnforced, a bucket policy allowing `logging.s3.amazonaws.com` for this account only, lifecycle expiry).",
    cloud="aws",
    types=[*BUCKETS, *LOGGING],
    checkov=["CKV_AWS_18"],
    trivy=["AVD-AWS-0089"],
    awsguard=["s3-bucket-logging-enabled"],
    twin="PM-GCP-011",
)
def s3_access_logging(args: StackValidationArgs, report: ReportViolation) -> None:
    links = _log_links(args)
    for bucket in _buckets(args):
        if bucket.urn not in links.sources and bucket.urn not in links.targets:
            report(f"{_bucket_label(bucket)} has no server access logging", bucket.urn)


@stack_rule(
    id="PM-AWS-017",
    title="s3-acls-disabled",
    description="S3 buckets disable ACLs: an `aws.s3.BucketOwnershipControls` sets object ownership to BucketOwnerEnforced.",
    severity=Severity.MEDIUM,
    remediation="Add `aws.s3.BucketOwnershipControls(bucket=..., rule={'object_ownership': 'BucketOwnerEnforced'})`; grant access with policies only.",
    cloud="aws",
    types=[*BUCKETS, *OWNERSHIP],
    checkov=["CKV2_AWS_65"],
    twin="PM-GCP-005",
)
def s3_acls_disabled(args: StackValidationArgs, report: ReportViolation) -> None:
    for bucket in _buckets(args):
        found = [
            read(c.props, "rule", "objectOwnership")
            for c in _inline_or_companion(args, bucket, OWNERSHIP)
        ]
        if not any(v == "BucketOwnerEnforced" or v is UNKNOWN for v in found):
            shown = ", ".join(str(v) for v in found) or "no ownership controls"
            report(f"{_bucket_label(bucket)} still honours ACLs ({shown})", bucket.urn)


def _document(args: ResourceValidationArgs, prop: str) -> dict[str, Any] | None:
    """The parsed policy document at `prop`: None when absent; a malformed one is reported
    by the caller through `iam.parse`'s problem; an unknown one stops the check."""
    raw = value(args.props, prop)
    if raw is None:
        return None
    document, problem = iam.parse(raw)
    if document is None:
        return {"_problem": problem}
    return document


def _report_document(
    args: ResourceValidationArgs,
    report: ReportViolation,
    prop: str,
    check: Callable[[dict[str, Any]], list[str]],
) -> None:
    document = _document(args, prop)
    if document is None:
        return
    if "_problem" in document:
        report(f"{prop}: {document['_problem']}", None)
        return
    for found in check(document):
        report(found, None)


@resource_rule(
    id="PM-AWS-018",
    title="s3-policy-not-public",
    description="No S3 bucket policy statement allows every principal (`*`); Deny statements such as the TLS-only deny are fine.",
    severity=Severity.CRITICAL,
    remediation="Name the principals (account roots, role ARNs, service principals with an aws:SourceAccount condition) in every Allow statement of the bucket policy.",
    cloud="aws",
    types=[*BUCKETS, *BUCKET_POLICY],
    checkov=["CKV_AWS_70"],
    twin="PM-GCP-010",
)
def s3_policy_not_public(args: ResourceValidationArgs, report: ReportViolation) -> None:
    _report_document(
        args, report, "policy", lambda doc: iam.public_allow_problems(doc, unless_scoped=False)
    )


def _aborts_multipart(rules: Any) -> bool:
    items = elements(rules)
    if not isinstance(items, list):
        return True  # unknown at preview
    for rule in items:
        if rule is UNKNOWN:
            return True
        enabled = read(rule, "status") in ("Enabled", UNKNOWN) or read(rule, "enabled") is True
        days = read(rule, "abortIncompleteMultipartUpload", "daysAfterInitiation")
        inline_days = read(rule, "abortIncompleteMultipartUploadDays")
        if enabled and (days is not MISSING or inline_days is not MISSING):
            return True
    return False


@stack_rule(
    id="PM-AWS-019",
    title="s3-abort-incomplete-uploads",
    description="S3 buckets have an enabled lifecycle rule that aborts incomplete multipart uploads.",
    severity=Severity.LOW,
    remediation="Add an `aws.s3.BucketLifecycleConfiguration` rule with `status='Enabled'` and `abort_incomplete_multipart_upload={'days_after_initiation': 7}`.",
    cloud="aws",
    types=[*BUCKETS, *LIFECYCLE],
    checkov=["CKV_AWS_300"],
    twin="PM-GCP-012",
)
def s3_abort_incomplete_uploads(args: StackValidationArgs, report: ReportViolation) -> None:
    for bucket in _buckets(args):
        if _aborts_multipart(read(bucket.props, "lifecycleRules")) and present(
            bucket.props, "lifecycleRules"
        ):
            continue
        configs = _inline_or_companion(args, bucket, LIFECYCLE)
        if not any(_aborts_multipart(read(c.props, "rules")) for c in configs):
            report(
                f"{_bucket_label(bucket)} keeps incomplete multipart uploads forever "
                "(no enabled abort rule)",
                bucket.urn,
            )


@resource_rule(
    id="PM-AWS-020",
    title="kms-key-policy",
    description="KMS key policies allow no `*` principal without a condition, grant `kms:*` to no principal but the account root, and never set bypass_policy_lockout_safety_check.",
    severity=Severity.HIGH,
    remediation="Name principals in every Allow statement (the account root for administration through IAM, roles for use), spell out actions instead of `kms:*`, and leave `bypass_policy_lockout_safety_check` unset.",
    cloud="aws",
    types=[KMS_KEY, KEY_POLICY],
    checkov=["CKV_AWS_33"],
    twin="PM-GCP-010",
)
def kms_key_policy(args: ResourceValidationArgs, report: ReportViolation) -> None:
    if value(args.props, "bypassPolicyLockoutSafetyCheck") is True:
        report("bypass_policy_lockout_safety_check is set: the key could become unmanageable", None)
    _report_document(args, report, "policy", iam.key_policy_problems)


@resource_rule(
    id="PM-AWS-021",
    title="sns-topic-policy",
    description="SNS topic policies allow no `*` principal and no principal of another account unless a condition binds the caller (aws:SourceArn, aws:SourceAccount, aws:SourceOwner, aws:PrincipalOrgID).",
    severity=Severity.HIGH,
    remediation="Allow publishing to named principals (cloudwatch.amazonaws.com with aws:SourceAccount, this account's roles); add an aws:SourceArn/aws:SourceAccount condition to any cross-account statement.",
    cloud="aws",
    types=[TOPIC, TOPIC_POLICY],
    checkov=["CKV_AWS_169"],
    one_cloud_reason="GCP notification channels have no resource policy: who may use or change them is project IAM, which PM-GCP-010 checks.",
)
def sns_topic_policy(args: ResourceValidationArgs, report: ReportViolation) -> None:
    def problems(document: dict[str, Any]) -> list[str]:
        return [
            *iam.public_allow_problems(document, unless_scoped=True),
            *iam.cross_account_problems(document),
        ]

    _report_document(args, report, "policy", problems)


@resource_rule(
    id="PM-AWS-022",
    title="iam-no-privilege-escalation",
    description="IAM identity policies allow no iam:PassRole or sts:AssumeRole on a wildcard resource, no iam:Create*/Attach*/Put*Policy-style permission management without an iam:PermissionsBoundary or iam:PolicyARN condition, and no key or secret administration (kms:PutKeyPolicy, kms:ScheduleKeyDeletion, kms:DisableKey, secret deletion ...).",
    severity=Severity.CRITICAL,
    remediation="Pass or assume only named role ARNs; bound permission management with an iam:PermissionsBoundary condition; leave key and secret administration to the key policy's account root (humans), never to runtime or CI roles.",
    cloud="aws",
    types=[ROLE, *IDENTITY_POLICIES],
    checkov=["CKV_AWS_286", "CKV_AWS_289", "CKV_AWS_290"],
    twin="PM-GCP-010",
)
def iam_no_privilege_escalation(args: ResourceValidationArgs, report: ReportViolation) -> None:
    for label, document, _ in _parsed_identity_documents(args):
        if document is None:
            continue  # PM-AWS-012 reports unreadable documents
        for found in iam.escalation_problems(document):
            report(f"{label}: {found}", None)


@resource_rule(
    id="PM-AWS-023",
    title="iam-trust-not-public",
    description="No role trust policy allows every principal (`*` or AWS `*`) to assume the role, whatever its conditions.",
    severity=Severity.CRITICAL,
    remediation="Trust a service principal (with aws:SourceAccount), the GitHub OIDC provider (PM-AWS-013) or named account roles; never `*`.",
    cloud="aws",
    types=[ROLE],
    checkov=["CKV_AWS_60", "CKV_AWS_61"],
    twin="PM-GCP-014",
)
def iam_trust_not_public(args: ResourceValidationArgs, report: ReportViolation) -> None:
    _report_document(
        args,
        report,
        "assumeRolePolicy",
        lambda doc: [
            f"trust policy: {p}" for p in iam.public_allow_problems(doc, unless_scoped=False)
        ],
    )


@resource_rule(
    id="PM-AWS-024",
    title="alarm-actions",
    description="CloudWatch metric and composite alarms have actions enabled (`actions_enabled` not false) and at least one alarm action.",
    severity=Severity.MEDIUM,
    remediation="Set `alarm_actions=[topic.arn]` (and `ok_actions`) and leave `actions_enabled` at its default true.",
    cloud="aws",
    types=ALARMS,
    checkov=["CKV_AWS_319"],
    twin="PM-GCP-013",
)
def alarm_actions(args: ResourceValidationArgs, report: ReportViolation) -> None:
    if value(args.props, "actionsEnabled") is False:
        report("alarm actions are disabled: the alarm notifies no one", None)
    if not present(args.props, "alarmActions"):
        report("the alarm has no alarm action: nobody is told when it fires", None)


@resource_rule(
    id="PM-AWS-025",
    title="no-iam-access-keys",
    description="The stack creates no IAM access keys (long-lived credentials); identities are roles assumed through OIDC or a service.",
    severity=Severity.HIGH,
    remediation="Remove the `aws.iam.AccessKey`; let CI assume the deploy role through GitHub OIDC and the service its role.",
    cloud="aws",
    types=[ACCESS_KEY],
    twin="PM-GCP-016",
)
def no_iam_access_keys(args: ResourceValidationArgs, report: ReportViolation) -> None:
    report("an IAM access key is a long-lived credential that can leak", None)


RULES: tuple[Rule, ...] = (
    dynamodb_pitr,
    dynamodb_ttl,
    dynamodb_cmk,
    dynamodb_deletion_protection,
    kms_rotation,
    kms_deletion_window,
    s3_versioning,
    s3_sse_kms,
    s3_public_access_block,
    s3_tls_only,
    sns_cmk,
    iam_least_privilege,
    iam_oidc_trust,
    ssm_securestring,
    backup_vault_cmk,
    s3_access_logging,
    s3_acls_disabled,
    s3_policy_not_public,
    s3_abort_incomplete_uploads,
    kms_key_policy,
    sns_topic_policy,
    iam_no_privilege_escalation,
    iam_trust_not_public,
    alarm_actions,
    no_iam_access_keys,
)

__all__ = ["RULES", "table_spec"]
