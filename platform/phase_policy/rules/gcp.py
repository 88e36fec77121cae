"""GCP rules: Firestore, Cloud KMS, Secret Manager, Cloud Storage, Workload Identity, IAM."""

from __future__ import annotations

import re

from pulumi_policy import ReportViolation, ResourceValidationArgs, Severity

from ..props import MISSING, UNKNOWN, elements, present, read, value
from .base import Rule, resource_rule

DATABASE = "gcp:firestore/database:Database"
CRYPTO_KEY = "gcp:kms/cryptoKey:CryptoKey"
SECRET = "gcp:secretmanager/secret:Secret"  # noqa: S105 - a type token
BUCKET = "gcp:storage/bucket:Bucket"
WIF_PROVIDER = "gcp:iam/workloadIdentityPoolProvider:WorkloadIdentityPoolProvider"
PROJECT_IAM = ("gcp:projects/iAMMember:IAMMember", "gcp:projects/iAMBinding:IAMBinding")
RESOURCE_IAM = (
    "gcp:storage/bucketIAMMember:BucketIAMMember",
    "gcp:storage/bucketIAMBinding:BucketIAMBinding",
    "gcp:secretmanager/secretIamMember:SecretIamMember",
    "gcp:secretmanager/secretIamBinding:SecretIamBinding",
    "gcp:kms/cryptoKeyIAMMember:CryptoKeyIAMMember",
    "gcp:kms/cryptoKeyIAMBinding:CryptoKeyIAMBinding",
    "gcp:kms/keyRingIAMMember:KeyRingIAMMember",
    "gcp:kms/keyRingIAMBinding:KeyRingIAMBinding",
    "gcp:serviceaccount/iAMMember:IAMMember",
    "gcp:serviceaccount/iAMBinding:IAMBinding",
)

PITR_ENABLED = "POINT_IN_TIME_RECOVERY_ENABLED"
DELETE_PROTECTION_ENABLED = "DELETE_PROTECTION_ENABLED"
MAX_ROTATION_SECONDS = 90 * 24 * 3600
BASIC_ROLES = ("roles/owner", "roles/editor", "roles/viewer")
PUBLIC_MEMBERS = ("allUsers", "allAuthenticatedUsers")
#: Project-wide roles that let a principal act as any service account of the project.
IMPERSONATION_ROLES = ("roles/iam.serviceAccountUser", "roles/iam.serviceAccountTokenCreator")
GITHUB_ISSUER = "https://token.actions.githubusercontent.com"
_DURATION = re.compile(r"^(?P<seconds>\d+(\.\d+)?)s$")
_REPOSITORY_PIN = re.compile(
    r"""(assertion|attribute)\.repository\s*==\s*['"](?P<repo>[^'"*?]+/[^'"*?]+)['"]"""
)


@resource_rule(
    id="PM-GCP-001",
    title="firestore-pitr",
    description="The Firestore database has point-in-time recovery enabled.",
    severity=Severity.HIGH,
    remediation="Set `point_in_time_recovery_enablement='POINT_IN_TIME_RECOVERY_ENABLED'` on the database (no mainstream scanner checks this).",
    cloud="gcp",
    types=[DATABASE],
)
def firestore_pitr(args: ResourceValidationArgs, report: ReportViolation) -> None:
    state = value(args.props, "pointInTimeRecoveryEnablement")
    if state != PITR_ENABLED:
        report(f"point-in-time recovery is {state or 'not set (disabled)'}", None)


@resource_rule(
    id="PM-GCP-002",
    title="firestore-delete-protection",
    description="The production Firestore database has delete protection enabled.",
    severity=Severity.HIGH,
    remediation="Set `delete_protection_state='DELETE_PROTECTION_ENABLED'` (the platform does so when `deletionProtection` is true, which production forces).",
    cloud="gcp",
    types=[DATABASE],
    production_only=True,
)
def firestore_delete_protection(args: ResourceValidationArgs, report: ReportViolation) -> None:
    state = value(args.props, "deleteProtectionState")
    if state != DELETE_PROTECTION_ENABLED:
        report(
            f"delete protection is {state or 'not set (disabled)'} on a production database", None
        )


def rotation_seconds(text: object) -> float | None:
    """`7776000s` -> 7776000.0; None if it is not a duration."""
    match = _DURATION.match(text) if isinstance(text, str) else None
    return float(match.group("seconds")) if match else None


@resource_rule(
    id="PM-GCP-003",
    title="kms-rotation-90-days",
    description="Cloud KMS keys rotate at least every 90 days.",
    severity=Severity.HIGH,
    remediation="Set `rotation_period='7776000s'` (90 days) or shorter on the crypto key.",
    cloud="gcp",
    types=[CRYPTO_KEY],
    checkov=["CKV_GCP_43"],
    trivy=["AVD-GCP-0065"],
)
def kms_rotation(args: ResourceValidationArgs, report: ReportViolation) -> None:
    purpose = read(args.props, "purpose")
    if isinstance(purpose, str) and purpose != "ENCRYPT_DECRYPT":
        args.not_applicable(f"{purpose} keys cannot rotate automatically")
    period = value(args.props, "rotationPeriod")
    if period is None:
        report("the key never rotates (no rotation_period)", None)
        return
    seconds = rotation_seconds(period)
    if seconds is None:
        report(f"rotation period {period!r} is not a duration like '7776000s'", None)
    elif seconds > MAX_ROTATION_SECONDS:
        report(f"rotation period is {seconds / 86400:g} days; at most 90 are allowed", None)


def _cmek(kms_key: object) -> bool:
    return kms_key is UNKNOWN or (isinstance(kms_key, str) and bool(kms_key))


@resource_rule(
    id="PM-GCP-004",
    title="secret-replication-cmek",
    description="Secret Manager secrets declare their replication and encrypt every replica with a customer-managed key.",
    severity=Severity.HIGH,
    remediation="Use `replication={'user_managed': {'replicas': [{'location': <region>, 'customer_managed_encryption': {'kms_key_name': key.id}}]}}` (or `auto` with `customer_managed_encryption`); grant the Secret Manager service agent encrypt/decrypt on the key.",
    cloud="gcp",
    types=[SECRET],
)
def secret_replication_cmek(args: ResourceValidationArgs, report: ReportViolation) -> None:
    if not present(args.props, "replication"):
        report("the secret declares no replication", None)
        return
    if read(args.props, "replication") is UNKNOWN:
        return
    if read(args.props, "replication", "auto") is not MISSING:  # `auto: {}` is a declaration
        key = read(args.props, "replication", "auto", "customerManagedEncryption", "kmsKeyName")
        if not _cmek(key):
            report("automatic replication without customer-managed encryption", None)
        return
    replicas = elements(args.props, "replication", "userManaged", "replicas")
    if not isinstance(replicas, list):
        return
    if not replicas:
        report("user-managed replication lists no replica", None)
        return
    for index, replica in enumerate(replicas):
        key = (
            UNKNOWN
            if replica is UNKNOWN
            else read(replica, "customerManagedEncryption", "kmsKeyName")
        )
        if not _cmek(key):
            location = read(replica, "location") if replica is not UNKNOWN else "?"
            report(f"replica {index} ({location}) has no customer-managed encryption", None)


@resource_rule(
    id="PM-GCP-005",
    title="gcs-uniform-access",
    description="Cloud Storage buckets use uniform bucket-level access (no object ACLs).",
    severity=Severity.MEDIUM,
    remediation="Set `uniform_bucket_level_access=True` on the bucket.",
    cloud="gcp",
    types=[BUCKET],
    checkov=["CKV_GCP_29"],
    trivy=["AVD-GCP-0002"],
)
def gcs_uniform_access(args: ResourceValidationArgs, report: ReportViolation) -> None:
    if value(args.props, "uniformBucketLevelAccess") is not True:
        report("uniform bucket-level access is off: object ACLs can grant access", None)


@resource_rule(
    id="PM-GCP-006",
    title="gcs-public-access-prevention",
    description="Cloud Storage buckets enforce public access prevention.",
    severity=Severity.CRITICAL,
    remediation="Set `public_access_prevention='enforced'` on the bucket.",
    cloud="gcp",
    types=[BUCKET],
    checkov=["CKV_GCP_114"],
    trivy=["AVD-GCP-0001"],
)
def gcs_public_access_prevention(args: ResourceValidationArgs, report: ReportViolation) -> None:
    state = value(args.props, "publicAccessPrevention")
    if state != "enforced":
        report(f"public access prevention is {state or 'inherited'}, not enforced", None)


@resource_rule(
    id="PM-GCP-007",
    title="gcs-versioning",
    description="Cloud Storage buckets keep every object version.",
    severity=Severity.MEDIUM,
    remediation="Set `versioning={'enabled': True}` on the bucket.",
    cloud="gcp",
    types=[BUCKET],
    checkov=["CKV_GCP_78"],
    trivy=["AVD-GCP-0078"],
)
def gcs_versioning(args: ResourceValidationArgs, report: ReportViolation) -> None:
    if value(args.props, "versioning", "enabled") is not True:
        report("object versioning is off", None)


@resource_rule(
    id="PM-GCP-008",
    title="gcs-cmek",
    description="Cloud Storage buckets encrypt objects by default with a customer-managed key.",
    severity=Severity.HIGH,
    remediation="Set `encryption={'default_kms_key_name': key.id}` and grant the Cloud Storage service agent encrypt/decrypt on the key.",
    cloud="gcp",
    types=[BUCKET],
    trivy=["AVD-GCP-0066"],
)
def gcs_cmek(args: ResourceValidationArgs, report: ReportViolation) -> None:
    if not present(args.props, "encryption", "defaultKmsKeyName"):
        report("objects are encrypted with a Google-managed key, not the stack's key", None)


@resource_rule(
    id="PM-GCP-009",
    title="wif-attribute-condition",
    description="Workload Identity Federation providers have an attribute condition; GitHub providers pin one repository.",
    severity=Severity.CRITICAL,
    remediation="Set `attribute_condition=\"assertion.repository == '<owner>/<name>'\"` (optionally `&& assertion.ref == ...`) on the GitHub provider.",
    cloud="gcp",
    types=[WIF_PROVIDER],
    checkov=["CKV_GCP_118", "CKV_GCP_125"],
    trivy=["AVD-GCP-0068"],
)
def wif_attribute_condition(args: ResourceValidationArgs, report: ReportViolation) -> None:
    condition = value(args.props, "attributeCondition")
    if not condition:
        report("no attribute condition: any identity of the issuer may authenticate", None)
        return
    issuer = read(args.props, "oidc", "issuerUri")
    if isinstance(issuer, str) and issuer.rstrip("/") == GITHUB_ISSUER:
        repos = {m.group("repo").lower() for m in _REPOSITORY_PIN.finditer(str(condition))}
        if len(repos) != 1 or " || " in str(condition):
            report(
                f"the condition {condition!r} does not pin exactly one repository "
                "(expected assertion.repository == '<owner>/<name>')",
                None,
            )


def _members(args: ResourceValidationArgs) -> list[str]:
    member = read(args.props, "member")
    if isinstance(member, str):
        return [member]
    found = elements(args.props, "members")
    return [m for m in found if isinstance(m, str)] if isinstance(found, list) else []


@resource_rule(
    id="PM-GCP-010",
    title="gcp-iam-least-privilege",
    description="IAM grants use no basic role, no public member, and no project-wide admin or impersonation role.",
    severity=Severity.CRITICAL,
    remediation="Grant predefined narrow roles on the stack's own resources (bucket, secrets, key) and the Firestore user role on the project; never owner/editor/viewer, allUsers or *Admin.",
    cloud="gcp",
    types=[*PROJECT_IAM, *RESOURCE_IAM],
    checkov=["CKV_GCP_117", "CKV_GCP_42", "CKV_GCP_41", "CKV_GCP_49", "CKV_GCP_28"],
    trivy=["AVD-GCP-0007", "AVD-GCP-0011"],
)
def gcp_iam_least_privilege(args: ResourceValidationArgs, report: ReportViolation) -> None:
    role = value(args.props, "role")
    if not isinstance(role, str):
        return
    if role in BASIC_ROLES:
        report(f"grants the basic role {role}", None)
    for member in _members(args):
        if member in PUBLIC_MEMBERS:
            report(f"grants {role} to {member} (public)", None)
    if args.resource_type in PROJECT_IAM:
        short = role.rsplit("/", 1)[-1]
        if short.endswith(("admin", "Admin")) or role.endswith(".admin"):
            report(f"grants the admin role {role} on the whole project", None)
        if role in IMPERSONATION_ROLES:
            report(
                f"grants {role} on the whole project (impersonation of every service account)", None
            )


RULES: tuple[Rule, ...] = (
    firestore_pitr,
    firestore_delete_protection,
    kms_rotation,
    secret_replication_cmek,
    gcs_uniform_access,
    gcs_public_access_prevention,
    gcs_versioning,
    gcs_cmek,
    wif_attribute_condition,
    gcp_iam_least_privilege,
)
