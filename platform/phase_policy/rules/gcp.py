"""GCP rules: Firestore, Cloud KMS, Secret Manager, Cloud Storage, Workload Identity, IAM."""

from __future__ import annotations

import re
from collections.abc import Sequence

from pulumi_policy import (
    PolicyResource,
    ReportViolation,
    ResourceValidationArgs,
    Severity,
    StackValidationArgs,
)

from ..props import MISSING, UNKNOWN, elements, present, read, value
from .base import Rule, of_type, resource_is_production, resource_rule, stack_rule

DATABASE = "gcp:firestore/database:Database"
CRYPTO_KEY = "gcp:kms/cryptoKey:CryptoKey"
SECRET = "gcp:secretmanager/secret:Secret"  # noqa: S105 - a type token
BUCKET = "gcp:storage/bucket:Bucket"
WIF_PROVIDER = "gcp:iam/workloadIdentityPoolProvider:WorkloadIdentityPoolProvider"
PROJECT_IAM = ("gcp:projects/iAMMember:IAMMember", "gcp:projects/iAMBinding:IAMBinding")
RUN_SERVICE_IAM = (
    "gcp:cloudrunv2/serviceIamMember:ServiceIamMember",
    "gcp:cloudrunv2/serviceIamBinding:ServiceIamBinding",
)
RUN_JOB_IAM = (
    "gcp:cloudrunv2/jobIamMember:JobIamMember",
    "gcp:cloudrunv2/jobIamBinding:JobIamBinding",
)
REGISTRY_IAM = (
    "gcp:artifactregistry/repositoryIamMember:RepositoryIamMember",
    "gcp:artifactregistry/repositoryIamBinding:RepositoryIamBinding",
)
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
    *RUN_SERVICE_IAM,
    *RUN_JOB_IAM,
    *REGISTRY_IAM,
)

PITR_ENABLED = "POINT_IN_TIME_RECOVERY_ENABLED"
DELETE_PROTECTION_ENABLED = "DELETE_PROTECTION_ENABLED"
MAX_ROTATION_SECONDS = 90 * 24 * 3600
BASIC_ROLES = ("roles/owner", "roles/editor", "roles/viewer")
PUBLIC_MEMBERS = ("allUsers", "allAuthenticatedUsers")
#: Project-wide roles that let a principal act as any service account of the project.
IMPERSONATION_ROLES = ("roles/iam.serviceAccountUser", "roles/iam.serviceAccountTokenCreator")
GITHUB_ISSUER = "https://token.actions.githubusercontent.com"
SA_IAM = ("gcp:serviceaccount/iAMMember:IAMMember", "gcp:serviceaccount/iAMBinding:IAMBinding")
AUDIT_CONFIGS = (
    "gcp:projects/iAMAuditConfig:IAMAuditConfig",
    "gcp:folder/iAMAuditConfig:IAMAuditConfig",
    "gcp:organizations/iAMAuditConfig:IAMAuditConfig",
)
ALERT_POLICY = "gcp:monitoring/alertPolicy:AlertPolicy"
SA_KEY = "gcp:serviceaccount/key:Key"
COMPUTE = (
    "gcp:compute/instance:Instance",
    "gcp:compute/instanceTemplate:InstanceTemplate",
)
#: Google creates these in every project with broad rights; workloads get their own account.
DEFAULT_ACCOUNT = re.compile(
    r"(\d+-compute@developer\.gserviceaccount\.com|@appspot\.gserviceaccount\.com)$"
)
#: Google's default destroy-scheduled duration of a crypto key version.
DEFAULT_DESTROY_SECONDS = 30 * 86400
_ADMIN_SUFFIXES = ("admin", "Admin", "owner", "Owner")
_PATTERN_FUNCTIONS = re.compile(r"\.(startsWith|endsWith|matches|contains)\s*\(")
_EXACT_SUBJECT = re.compile(
    r"""assertion\.(sub\s*(==\s*['"]|in\s*\[)|(ref|environment)\s*==\s*['"])"""
)
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
    twin="PM-AWS-001",
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
    twin="PM-AWS-004",
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
    twin="PM-AWS-005",
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
    twin="PM-AWS-014",
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
    twin="PM-AWS-017",
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
    twin="PM-AWS-009",
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
    twin="PM-AWS-007",
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
    twin="PM-AWS-008",
)
def gcs_cmek(args: ResourceValidationArgs, report: ReportViolation) -> None:
    if not present(args.props, "encryption", "defaultKmsKeyName"):
        report("objects are encrypted with a Google-managed key, not the stack's key", None)


@resource_rule(
    id="PM-GCP-009",
    title="wif-attribute-condition",
    description="Workload Identity Federation providers have an attribute condition; GitHub providers pin one repository (`assertion.repository == '<owner>/<name>'`, no `||`); in production they also pin exact subjects (`assertion.sub ==` or `in [...]`, or `assertion.ref`/`assertion.environment ==`) and use no pattern function (startsWith, endsWith, matches, contains).",
    severity=Severity.CRITICAL,
    remediation="Set `attribute_condition=\"assertion.repository == '<owner>/<name>'\"` (optionally `&& assertion.ref == ...`) on the GitHub provider.",
    cloud="gcp",
    types=[WIF_PROVIDER],
    checkov=["CKV_GCP_118", "CKV_GCP_125"],
    trivy=["AVD-GCP-0068"],
    twin="PM-AWS-013",
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
        production = resource_is_production(args)
        if production:
            for problem in exact_subject_problems(str(condition)):
                report(problem, None)


def is_admin_role(role: str) -> bool:
    """`roles/cloudkms.admin`, `roles/iam.serviceAccountAdmin`, `roles/owner`... (by name)."""
    return role.rsplit("/", 1)[-1].endswith(_ADMIN_SUFFIXES)


def exact_subject_problems(condition: str) -> list[str]:
    """Why a production GitHub provider's condition does not name exact subjects."""
    problems = []
    if not _EXACT_SUBJECT.search(condition):
        problems.append(
            f"the condition {condition!r} pins no exact subject: production needs "
            "`assertion.sub in [...]` (or `assertion.ref` / `assertion.environment ==`)"
        )
    pattern = _PATTERN_FUNCTIONS.search(condition)
    if pattern:
        problems.append(
            f"the condition uses {pattern.group(1)}(): production trusts exact subjects only"
        )
    return problems


def _members(args: ResourceValidationArgs) -> list[str]:
    member = read(args.props, "member")
    if isinstance(member, str):
        return [member]
    found = elements(args.props, "members")
    return [m for m in found if isinstance(m, str)] if isinstance(found, list) else []


@resource_rule(
    id="PM-GCP-010",
    title="gcp-iam-least-privilege",
    description="IAM grants (project or resource level: buckets, secrets, keys, service accounts, Artifact Registry repositories, Cloud Run services and jobs) use no basic role (owner/editor/viewer), no public member (allUsers, allAuthenticatedUsers; on Cloud Run judged by PM-GCP-021), no admin-level role at any level (a role named `*admin`, `*Admin`, `*owner` or `*Owner`: key, secret, storage, IAM administration), and no project-wide impersonation role (serviceAccountUser, serviceAccountTokenCreator).",
    severity=Severity.CRITICAL,
    remediation="Grant predefined narrow roles on the stack's own resources (bucket: storage.objectUser, secrets: secretAccessor, key: cryptoKeyEncrypterDecrypter) and the Firestore user role on the project; never owner/editor/viewer, allUsers or an admin role, even on one resource.",
    cloud="gcp",
    types=[*PROJECT_IAM, *RESOURCE_IAM],
    checkov=["CKV_GCP_117", "CKV_GCP_42", "CKV_GCP_41", "CKV_GCP_49", "CKV_GCP_28", "CKV_GCP_101"],
    trivy=["AVD-GCP-0007", "AVD-GCP-0011"],
    twin="PM-AWS-012",
)
def gcp_iam_least_privilege(args: ResourceValidationArgs, report: ReportViolation) -> None:
    role = value(args.props, "role")
    if not isinstance(role, str):
        return
    if role in BASIC_ROLES:
        report(f"grants the basic role {role}", None)
    # A public grant on a Cloud Run service or job is PM-GCP-021's: it knows what the stack
    # declares public.
    if args.resource_type not in (*RUN_SERVICE_IAM, *RUN_JOB_IAM):
        for member in _members(args):
            if member in PUBLIC_MEMBERS:
                report(f"grants {role} to {member} (public)", None)
    if is_admin_role(role):
        where = "the whole project" if args.resource_type in PROJECT_IAM else "a resource"
        report(f"grants the admin-level role {role} on {where}", None)
    if args.resource_type in PROJECT_IAM and role in IMPERSONATION_ROLES:
        report(f"grants {role} on the whole project (impersonation of every service account)", None)


def _bucket_label(bucket: PolicyResource) -> str:
    name = read(bucket.props, "name")
    return f"bucket {name}" if isinstance(name, str) else f"bucket {bucket.name}"


def _audits_storage_data_access(configs: Sequence[PolicyResource]) -> bool:
    for config in configs:
        service = read(config.props, "service")
        if service not in ("storage.googleapis.com", "allServices", UNKNOWN):
            continue
        logs = elements(config.props, "auditLogConfigs")
        if not isinstance(logs, list):
            return True
        kinds = {read(item, "logType") for item in logs if item is not UNKNOWN}
        if UNKNOWN in kinds or {"DATA_READ", "DATA_WRITE"} <= kinds:
            return True
    return False


@stack_rule(
    id="PM-GCP-011",
    title="gcs-access-logging",
    description="Every Cloud Storage bucket has its access logged: a `logging.log_bucket` on the bucket, or Data Access audit logs (DATA_READ and DATA_WRITE) for storage.googleapis.com (or allServices) in the stack.",
    severity=Severity.MEDIUM,
    remediation="Add a `gcp.projects.IAMAuditConfig(service='storage.googleapis.com', audit_log_configs=[{'log_type': 'DATA_READ'}, {'log_type': 'DATA_WRITE'}])` (or set `logging={'log_bucket': ...}` on the bucket).",
    cloud="gcp",
    types=[BUCKET, *AUDIT_CONFIGS],
    checkov=["CKV_GCP_62"],
    twin="PM-AWS-016",
)
def gcs_access_logging(args: StackValidationArgs, report: ReportViolation) -> None:
    if _audits_storage_data_access(of_type(args.resources, *AUDIT_CONFIGS)):
        return
    for bucket in of_type(args.resources, BUCKET):
        if not present(bucket.props, "logging", "logBucket"):
            report(
                f"{_bucket_label(bucket)}: no access logging and no Data Access audit logs "
                "for storage.googleapis.com",
                bucket.urn,
            )


@resource_rule(
    id="PM-GCP-012",
    title="gcs-abort-incomplete-uploads",
    description="Cloud Storage buckets have a lifecycle rule whose action is AbortIncompleteMultipartUpload.",
    severity=Severity.LOW,
    remediation="Add `{'action': {'type': 'AbortIncompleteMultipartUpload'}, 'condition': {'age': 7}}` to the bucket's `lifecycle_rules`.",
    cloud="gcp",
    types=[BUCKET],
    twin="PM-AWS-019",
)
def gcs_abort_incomplete_uploads(args: ResourceValidationArgs, report: ReportViolation) -> None:
    rules = elements(args.props, "lifecycleRules")
    if not isinstance(rules, list):
        return
    for rule in rules:
        if rule is UNKNOWN or read(rule, "action", "type") in (
            "AbortIncompleteMultipartUpload",
            UNKNOWN,
        ):
            return
    report("no lifecycle rule aborts incomplete multipart uploads", None)


@resource_rule(
    id="PM-GCP-013",
    title="alert-notification-channels",
    description="Cloud Monitoring alert policies are enabled (`enabled` not false) and notify at least one notification channel.",
    severity=Severity.MEDIUM,
    remediation="Set `notification_channels=[channel.name]` and leave `enabled` at its default true.",
    cloud="gcp",
    types=[ALERT_POLICY],
    twin="PM-AWS-024",
)
def alert_notification_channels(args: ResourceValidationArgs, report: ReportViolation) -> None:
    if value(args.props, "enabled") is False:
        report("the alert policy is disabled", None)
    if not present(args.props, "notificationChannels"):
        report("the alert policy has no notification channel: nobody is told", None)


@resource_rule(
    id="PM-GCP-014",
    title="sa-impersonation-scoped",
    description="Grants on a service account (who may act as or impersonate it) name no public member and no whole workload identity pool (`principalSet://.../*`); a principal set must narrow by an attribute, a group or a subject.",
    severity=Severity.CRITICAL,
    remediation="Grant `roles/iam.workloadIdentityUser` to `principalSet://iam.googleapis.com/<pool>/attribute.repository/<owner>/<name>` (or one `principal://.../subject/...`), never to `.../*`, allUsers or allAuthenticatedUsers.",
    cloud="gcp",
    types=SA_IAM,
    twin="PM-AWS-023",
)
def sa_impersonation_scoped(args: ResourceValidationArgs, report: ReportViolation) -> None:
    for member in _members(args):
        if member in PUBLIC_MEMBERS:
            report(f"anyone ({member}) may act as the service account", None)
        elif member.startswith("principalSet://") and member.rstrip("/").endswith("/*"):
            report(f"every identity of a pool ({member}) may act as the service account", None)


@resource_rule(
    id="PM-GCP-015",
    title="kms-destroy-scheduled-duration",
    description="Cloud KMS keys wait at least 7 days before a version is destroyed (30 in production); unset means Google's 30.",
    severity=Severity.MEDIUM,
    remediation="Set `destroy_scheduled_duration` to '2592000s' (30 days) in production and at least '604800s' elsewhere.",
    cloud="gcp",
    types=[CRYPTO_KEY],
    twin="PM-AWS-006",
)
def kms_destroy_duration(args: ResourceValidationArgs, report: ReportViolation) -> None:
    raw = value(args.props, "destroyScheduledDuration", default=f"{DEFAULT_DESTROY_SECONDS}s")
    seconds = rotation_seconds(raw)
    production = resource_is_production(args)
    minimum = 30 if production else 7
    if seconds is None:
        report(f"destroy_scheduled_duration {raw!r} is not a duration like '2592000s'", None)
    elif seconds < minimum * 86400:
        where = "production" if production else "any stack"
        report(
            f"versions are destroyed after {seconds / 86400:g} days; {where} needs {minimum}", None
        )


@resource_rule(
    id="PM-GCP-016",
    title="no-service-account-keys",
    description="The stack creates no user-managed service account keys (long-lived credentials); CI federates through Workload Identity.",
    severity=Severity.HIGH,
    remediation="Remove the `gcp.serviceaccount.Key`; let CI impersonate the deploy account through Workload Identity Federation and workloads use their attached account.",
    cloud="gcp",
    types=[SA_KEY],
    twin="PM-AWS-025",
)
def no_service_account_keys(args: ResourceValidationArgs, report: ReportViolation) -> None:
    report("a user-managed service account key is a long-lived credential that can leak", None)


@resource_rule(
    id="PM-GCP-017",
    title="no-default-service-account",
    description="No IAM grant names, and no VM runs as, a Google default service account (`<number>-compute@developer.gserviceaccount.com`, `<project>@appspot.gserviceaccount.com`).",
    severity=Severity.HIGH,
    remediation="Create a dedicated service account per workload (as the platform does for the service and deploy identities) and grant roles to it.",
    cloud="gcp",
    types=[*PROJECT_IAM, *RESOURCE_IAM, *COMPUTE],
    checkov=["CKV_GCP_30"],
    one_cloud_reason="AWS creates no default compute identity holding account-wide rights; every AWS role is declared, and their trust is checked by PM-AWS-023.",
)
def no_default_service_account(args: ResourceValidationArgs, report: ReportViolation) -> None:
    if args.resource_type in COMPUTE:
        email = read(args.props, "serviceAccount", "email")
        members = [f"serviceAccount:{email}"] if isinstance(email, str) else []
    else:
        members = _members(args)
    for member in members:
        if DEFAULT_ACCOUNT.search(member):
            report(f"{member} is a default service account", None)


@resource_rule(
    id="PM-GCP-018",
    title="firestore-cmek",
    description="Firestore databases are encrypted with a customer-managed key (`cmek_config.kms_key_name`).",
    severity=Severity.HIGH,
    remediation="Set `cmek_config={'kms_key_name': key.id}` and grant the Firestore service agent encrypt/decrypt on the key (the database must be created that way).",
    cloud="gcp",
    types=[DATABASE],
    twin="PM-AWS-003",
)
def firestore_cmek(args: ResourceValidationArgs, report: ReportViolation) -> None:
    if not present(args.props, "cmekConfig", "kmsKeyName"):
        report("the database is encrypted with a Google-managed key, not the stack's key", None)


@resource_rule(
    id="PM-GCP-019",
    title="secret-deletion-protection",
    description="Production Secret Manager secrets have deletion protection enabled (`deletion_protection=True`).",
    severity=Severity.HIGH,
    remediation="Set `deletion_protection=True` on every secret in production (the platform follows `deletionProtection`, which production forces).",
    cloud="gcp",
    types=[SECRET],
    production_only=True,
    one_cloud_reason="SSM parameters have no deletion-protection flag; on AWS, Pulumi's protect (PM-STACK-003) and the deletion gate guard them.",
)
def secret_deletion_protection(args: ResourceValidationArgs, report: ReportViolation) -> None:
    if value(args.props, "deletionProtection") is not True:
        report("deletion protection is off on a production secret", None)


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
    gcs_access_logging,
    gcs_abort_incomplete_uploads,
    alert_notification_channels,
    sa_impersonation_scoped,
    kms_destroy_duration,
    no_service_account_keys,
    no_default_service_account,
    firestore_cmek,
    secret_deletion_protection,
)
