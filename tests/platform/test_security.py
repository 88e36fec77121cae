"""PITR, customer-managed encryption, rotation, public access, deletion protection, least
privilege and the OIDC / Workload Identity trust, on both clouds and both stacks."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

from phase_platform.testing import ProgramRun

from adapters.catalog import BASELINES_BUCKET, SECRETS, STORES

from .conftest import as_list, policy, statements

PRODUCTION = "production"
DATA_TYPES_AWS = {
    "aws:dynamodb/table:Table",
    "aws:kms/key:Key",
    "aws:ssm/parameter:Parameter",
    "aws:s3/bucket:Bucket",
    "aws:backup/vault:Vault",
}
DATA_TYPES_GCP = {
    "gcp:firestore/database:Database",
    "gcp:kms/cryptoKey:CryptoKey",
    "gcp:kms/keyRing:KeyRing",
    "gcp:secretmanager/secret:Secret",
    "gcp:secretmanager/secretVersion:SecretVersion",
    "gcp:storage/bucket:Bucket",
}


def _production(run: ProgramRun) -> bool:
    return run.stack == PRODUCTION


# --------------------------------------------------------------------------- AWS


def test_aws_durable_tables_have_pitr_and_every_table_the_stack_key(aws_run: ProgramRun) -> None:
    (key,) = aws_run.of_type("aws:kms/key:Key")
    for table in aws_run.of_type("aws:dynamodb/table:Table"):
        store = table.inputs["tags"]["Store"]
        spec = next(s for s in STORES.values() if s.name == store)
        assert table.inputs["pointInTimeRecovery"]["enabled"] is spec.durable
        assert table.inputs["serverSideEncryption"]["kmsKeyArn"] == key.outputs["arn"]
        assert table.inputs["deletionProtectionEnabled"] is _production(aws_run)


def test_aws_key_rotates_and_waits_before_deletion(aws_run: ProgramRun) -> None:
    (key,) = aws_run.of_type("aws:kms/key:Key")
    assert key.inputs["enableKeyRotation"] is True
    assert key.inputs["rotationPeriodInDays"] <= 90
    assert key.inputs["deletionWindowInDays"] == (30 if _production(aws_run) else 7)


def test_aws_key_policy_names_the_account_and_the_two_roles(aws_run: ProgramRun) -> None:
    (key,) = aws_run.of_type("aws:kms/key:Key")
    roles = {r.name: r.outputs["arn"] for r in aws_run.of_type("aws:iam/role:Role")}
    account = aws_run.outputs["deployRoleArn"].split(":")[4]
    found = {s["Sid"]: s for s in statements(policy(key))}
    assert found["KeyAdministrationThroughIam"]["Principal"] == {
        "AWS": f"arn:aws:iam::{account}:root"
    }
    assert found["ServiceRole"]["Principal"] == {"AWS": roles["phase-mirror-service-role"]}
    assert found["DeployRole"]["Principal"] == {"AWS": roles["phase-mirror-deploy-role"]}
    assert "kms:Encrypt" not in found["ServiceRole"]["Action"]
    via = found["UseThroughAwsServices"]["Condition"]["StringEquals"]
    assert via["kms:CallerAccount"] == account
    for statement in found.values():
        # In a key policy "*" means "this key"; actions are always spelled out.
        assert statement["Resource"] == "*"
        assert not any("*" in action for action in as_list(statement["Action"]))


def test_aws_secrets_are_secure_strings_with_random_values_rotation_keeps(
    aws_run: ProgramRun,
) -> None:
    (key,) = aws_run.of_type("aws:kms/key:Key")
    for parameter in aws_run.of_type("aws:ssm/parameter:Parameter"):
        spec = next(
            s for s in SECRETS.values() if parameter.inputs["name"].endswith(s.secret.value)
        )
        assert parameter.inputs["type"] == "SecureString"
        assert parameter.inputs["keyId"] == key.outputs["arn"]
        assert re.match(spec.value_pattern, parameter.inputs["value"])
        assert "value" in parameter.secret_inputs
        assert parameter.ignore_changes == ("value",)


def test_aws_bucket_is_private_versioned_encrypted_tls_only(aws_run: ProgramRun) -> None:
    (key,) = aws_run.of_type("aws:kms/key:Key")
    (bucket,) = [
        b
        for b in aws_run.of_type("aws:s3/bucket:Bucket")
        if b.inputs["bucket"].endswith(f"-{BASELINES_BUCKET.name}")
    ]
    name = bucket.inputs["bucket"]

    def one(type_: str) -> dict[str, Any]:
        (found,) = [r for r in aws_run.of_type(type_) if r.inputs["bucket"] == name]
        return found.inputs

    block = one("aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock")
    for flag in (
        "blockPublicAcls",
        "blockPublicPolicy",
        "ignorePublicAcls",
        "restrictPublicBuckets",
    ):
        assert block[flag] is True
    assert one("aws:s3/bucketOwnershipControls:BucketOwnershipControls")["rule"] == {
        "objectOwnership": "BucketOwnerEnforced"
    }
    assert one("aws:s3/bucketVersioning:BucketVersioning")["versioningConfiguration"] == {
        "status": "Enabled"
    }
    (rule,) = one(
        "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration"
    )["rules"]
    assert rule["applyServerSideEncryptionByDefault"] == {
        "sseAlgorithm": "aws:kms",
        "kmsMasterKeyId": key.outputs["arn"],
    }
    assert rule["bucketKeyEnabled"] is True
    (lifecycle,) = one("aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration")["rules"]
    assert lifecycle["noncurrentVersionExpiration"] == {
        "noncurrentDays": BASELINES_BUCKET.noncurrent_version_days
    }
    (deny,) = statements(json.loads(one("aws:s3/bucketPolicy:BucketPolicy")["policy"]))
    assert deny["Effect"] == "Deny"
    assert deny["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
    assert deny["Resource"] == [bucket.outputs["arn"], f"{bucket.outputs['arn']}/*"]
    assert bucket.inputs["forceDestroy"] is False


def test_aws_alarm_topic_is_encrypted_and_mails_the_configured_address(aws_run: ProgramRun) -> None:
    (key,) = aws_run.of_type("aws:kms/key:Key")
    (topic,) = aws_run.of_type("aws:sns/topic:Topic")
    (subscription,) = aws_run.of_type("aws:sns/topicSubscription:TopicSubscription")
    assert topic.inputs["kmsMasterKeyId"] == key.outputs["arn"]
    assert subscription.inputs["protocol"] == "email"
    assert subscription.inputs["endpoint"] == aws_run.config["phase-mirror:alarmEmail"]
    alarms = aws_run.of_type("aws:cloudwatch/metricAlarm:MetricAlarm")
    assert all(a.inputs["alarmActions"] == [topic.outputs["arn"]] for a in alarms)
    (health,) = aws_run.of_type("aws:cloudwatch/compositeAlarm:CompositeAlarm")
    assert set(health.inputs["alarmRule"].split(" OR ")) == {
        f'ALARM("{a.inputs["name"]}")' for a in alarms
    }
    assert health.inputs["alarmActions"] == [topic.outputs["arn"]]


def _identity_documents(run: ProgramRun) -> list[tuple[str, dict[str, Any]]]:
    """Every IAM document this program writes: permission policies and trust policies."""
    docs = [(p.name, policy(p)) for p in run.of_type("aws:iam/policy:Policy")]
    docs += [(r.name, policy(r, "assumeRolePolicy")) for r in run.of_type("aws:iam/role:Role")]
    return docs


def test_aws_iam_documents_have_no_wildcards(aws_run: ProgramRun) -> None:
    resources_seen: set[str] = set()
    for name, document in _identity_documents(aws_run):
        for statement in statements(document):
            assert statement["Effect"] == "Allow", name
            for action in as_list(statement["Action"]):
                assert "*" not in action, (name, action)
            for resource in as_list(statement.get("Resource", [])):
                resources_seen.add(resource)
                assert resource != "*" and not resource.endswith(":*"), (name, resource)
                # The one path wildcard: objects of the baselines bucket.
                assert "*" not in resource or resource == (
                    f"arn:aws:s3:::{aws_run.outputs['bucketName']}/*"
                ), (name, resource)
            principal = statement.get("Principal")
            assert principal != "*" and "*" not in json.dumps(principal), name


def test_aws_data_policy_is_built_from_exactly_the_stack_arns(aws_run: ProgramRun) -> None:
    data = policy(aws_run.one("aws:iam/policy:Policy", "phase-mirror-data-access"))
    by_sid = {s["Sid"]: s["Resource"] for s in statements(data)}
    tables = aws_run.of_type("aws:dynamodb/table:Table")
    assert sorted(by_sid["CatalogTables"]) == sorted(t.outputs["arn"] for t in tables)
    assert sorted(by_sid["CatalogIndexes"]) == sorted(
        f"{t.outputs['arn']}/index/{i['name']}"
        for t in tables
        for i in t.inputs.get("globalSecondaryIndexes", [])
    )
    assert by_sid["EnvelopeKey"] == [aws_run.outputs["keyArn"]]
    assert sorted(by_sid["ReadSecrets"]) == sorted(
        p.outputs["arn"] for p in aws_run.of_type("aws:ssm/parameter:Parameter")
    )
    attachments = {
        (a.inputs["role"], a.inputs["policyArn"].rsplit("/", 1)[-1])
        for a in aws_run.of_type("aws:iam/rolePolicyAttachment:RolePolicyAttachment")
    }
    prefix = aws_run.outputs["prefix"]
    assert (f"{prefix}-service", f"{prefix}-data-access") in attachments
    assert (f"{prefix}-github-deploy", f"{prefix}-data-access") in attachments
    assert (f"{prefix}-github-deploy", f"{prefix}-secret-rotation") in attachments
    assert (f"{prefix}-service", f"{prefix}-secret-rotation") not in attachments


def test_aws_deploy_role_trusts_only_the_configured_repository(aws_run: ProgramRun) -> None:
    role = aws_run.one("aws:iam/role:Role", "phase-mirror-deploy-role")
    (statement,) = statements(policy(role, "assumeRolePolicy"))
    (provider,) = aws_run.of_type("aws:iam/openIdConnectProvider:OpenIdConnectProvider")
    assert provider.inputs["url"] == "https://token.actions.githubusercontent.com"
    assert provider.inputs["clientIdLists"] == ["sts.amazonaws.com"]
    assert statement["Principal"] == {"Federated": provider.outputs["arn"]}
    assert statement["Action"] == "sts:AssumeRoleWithWebIdentity"
    condition = statement["Condition"]["StringEquals"]
    assert condition["token.actions.githubusercontent.com:aud"] == "sts.amazonaws.com"
    subjects = condition["token.actions.githubusercontent.com:sub"]
    repository = aws_run.config["phase-mirror:githubRepository"]
    assert subjects == [
        f"repo:{repository}:ref:refs/heads/main",
        f"repo:{repository}:pull_request",
        f"repo:{repository}:environment:{aws_run.stack}",
    ]


def test_aws_existing_oidc_provider_is_reused(build: Callable[..., ProgramRun]) -> None:
    arn = "arn:aws:iam::123456789012:oidc-provider/token.actions.githubusercontent.com"
    run = build("aws", "staging", overrides={"awsGithubOidcProviderArn": arn})
    assert run.of_type("aws:iam/openIdConnectProvider:OpenIdConnectProvider") == []
    role = run.one("aws:iam/role:Role", "phase-mirror-deploy-role")
    assert statements(policy(role, "assumeRolePolicy"))[0]["Principal"] == {"Federated": arn}


def test_aws_service_role_trusts_one_service_of_this_account(aws_run: ProgramRun) -> None:
    role = aws_run.one("aws:iam/role:Role", "phase-mirror-service-role")
    (statement,) = statements(policy(role, "assumeRolePolicy"))
    assert statement["Principal"] == {"Service": "lambda.amazonaws.com"}
    assert statement["Condition"]["StringEquals"]["aws:SourceAccount"].isdigit()


def test_aws_backups_cover_every_durable_table(aws_run: ProgramRun) -> None:
    (vault,) = aws_run.of_type("aws:backup/vault:Vault")
    (plan,) = aws_run.of_type("aws:backup/plan:Plan")
    (selection,) = aws_run.of_type("aws:backup/selection:Selection")
    assert vault.inputs["kmsKeyArn"] == aws_run.outputs["keyArn"]
    retention = {
        rule["ruleName"]: rule["lifecycle"]["deleteAfter"] for rule in plan.inputs["rules"]
    }
    config = aws_run.config
    assert retention == {
        "daily": int(config["phase-mirror:backupDailyRetentionDays"]),
        "weekly": int(config["phase-mirror:backupWeeklyRetentionDays"]),
        "monthly": int(config["phase-mirror:backupMonthlyRetentionDays"]),
    }
    durable = [
        t.outputs["arn"]
        for t in aws_run.of_type("aws:dynamodb/table:Table")
        if t.inputs["pointInTimeRecovery"]["enabled"]
    ]
    assert sorted(selection.inputs["resources"]) == sorted(durable)
    assert len(durable) == len([s for s in STORES.values() if s.durable])


def test_aws_data_resources_are_protected_in_production_only(aws_run: ProgramRun) -> None:
    for resource in aws_run.resources:
        if resource.type in DATA_TYPES_AWS:
            assert resource.protect is _production(aws_run), resource.name
        else:
            assert resource.protect is False, resource.name


# --------------------------------------------------------------------------- GCP


def test_gcp_key_rotates_within_90_days(gcp_run: ProgramRun) -> None:
    (key,) = gcp_run.of_type("gcp:kms/cryptoKey:CryptoKey")
    assert key.inputs["purpose"] == "ENCRYPT_DECRYPT"
    assert int(key.inputs["rotationPeriod"].removesuffix("s")) <= 90 * 86400
    days = 30 if _production(gcp_run) else 7
    assert key.inputs["destroyScheduledDuration"] == f"{days * 86400}s"
    assert key.inputs["deletionPolicy"] == ("PREVENT" if _production(gcp_run) else "DELETE")


def test_gcp_data_is_encrypted_with_the_stack_key(gcp_run: ProgramRun) -> None:
    (key,) = gcp_run.of_type("gcp:kms/cryptoKey:CryptoKey")
    key_id = key.id
    (database,) = gcp_run.of_type("gcp:firestore/database:Database")
    assert database.inputs["cmekConfig"] == {"kmsKeyName": key_id}
    (bucket,) = gcp_run.of_type("gcp:storage/bucket:Bucket")
    assert bucket.inputs["encryption"] == {"defaultKmsKeyName": key_id}
    for secret in gcp_run.of_type("gcp:secretmanager/secret:Secret"):
        (replica,) = secret.inputs["replication"]["userManaged"]["replicas"]
        assert replica == {
            "location": gcp_run.outputs["location"],
            "customerManagedEncryption": {"kmsKeyName": key_id},
        }
    # The Google service agents doing that encryption may use exactly this key.
    agents = {
        m.name.rsplit("-", 1)[-1]: m.inputs
        for m in gcp_run.of_type("gcp:kms/cryptoKeyIAMMember:CryptoKeyIAMMember")
        if "key-user" in m.name
    }
    assert set(agents) == {"firestore", "secretmanager", "storage", "artifactregistry", "run"}
    assert all(a["cryptoKeyId"] == key_id for a in agents.values())
    assert agents["storage"]["member"].endswith("@gs-project-accounts.iam.gserviceaccount.com")
    assert agents["run"]["member"].endswith("@serverless-robot-prod.iam.gserviceaccount.com")


def test_gcp_database_pitr_and_deletion_protection(gcp_run: ProgramRun) -> None:
    (database,) = gcp_run.of_type("gcp:firestore/database:Database")
    inputs = database.inputs
    assert inputs["type"] == "FIRESTORE_NATIVE"
    assert inputs["locationId"] == gcp_run.outputs["location"]
    assert inputs["pointInTimeRecoveryEnablement"] == "POINT_IN_TIME_RECOVERY_ENABLED"
    protected = _production(gcp_run)
    assert inputs["deleteProtectionState"] == (
        "DELETE_PROTECTION_ENABLED" if protected else "DELETE_PROTECTION_DISABLED"
    )
    assert inputs["deletionPolicy"] == ("ABANDON" if protected else "DELETE")


def test_gcp_bucket_is_private_versioned_uniform(gcp_run: ProgramRun) -> None:
    (bucket,) = gcp_run.of_type("gcp:storage/bucket:Bucket")
    inputs = bucket.inputs
    assert inputs["versioning"] == {"enabled": True}
    assert inputs["uniformBucketLevelAccess"] is True
    assert inputs["publicAccessPrevention"] == "enforced"
    assert inputs["forceDestroy"] is False
    delete = [r for r in inputs["lifecycleRules"] if r["action"]["type"] == "Delete"]
    assert (
        delete[0]["condition"]["daysSinceNoncurrentTime"]
        == BASELINES_BUCKET.noncurrent_version_days
    )


def test_gcp_secret_versions_are_random_and_survive_rotation(gcp_run: ProgramRun) -> None:
    versions = gcp_run.of_type("gcp:secretmanager/secretVersion:SecretVersion")
    assert len(versions) == len(SECRETS)
    for version in versions:
        assert re.match(r"^[0-9a-f]{64}$", version.inputs["secretData"])
        assert "secretData" in version.secret_inputs
        assert set(version.ignore_changes) == {"secretData", "enabled"}
    for secret in gcp_run.of_type("gcp:secretmanager/secret:Secret"):
        assert secret.inputs["deletionProtection"] is _production(gcp_run)


ALLOWED_GCP_ROLES = {
    "roles/cloudkms.cryptoKeyEncrypterDecrypter",
    "roles/datastore.user",
    "roles/storage.objectUser",
    "roles/secretmanager.secretAccessor",
    "roles/secretmanager.viewer",
    "roles/secretmanager.secretVersionManager",
    "roles/iam.workloadIdentityUser",
    # Compute (tests/platform/test_compute_gcp.py pins who holds these, on what).
    "roles/iam.serviceAccountUser",
    "roles/artifactregistry.writer",
    "roles/run.invoker",
}
IAM_MEMBER_TYPES = {
    "gcp:projects/iAMMember:IAMMember",
    "gcp:kms/cryptoKeyIAMMember:CryptoKeyIAMMember",
    "gcp:secretmanager/secretIamMember:SecretIamMember",
    "gcp:storage/bucketIAMMember:BucketIAMMember",
    "gcp:serviceaccount/iAMMember:IAMMember",
    "gcp:artifactregistry/repositoryIamMember:RepositoryIamMember",
    "gcp:cloudrunv2/serviceIamMember:ServiceIamMember",
    "gcp:cloudrunv2/jobIamMember:JobIamMember",
}


def test_gcp_bindings_are_least_privilege_on_exactly_these_resources(gcp_run: ProgramRun) -> None:
    prefix, project = gcp_run.outputs["prefix"], gcp_run.outputs["project"]
    bindings = [r for r in gcp_run.resources if r.type in IAM_MEMBER_TYPES]
    assert bindings
    for binding in bindings:
        assert binding.inputs["role"] in ALLOWED_GCP_ROLES, binding.name
    # The only project-level grant is Firestore access, conditioned on this stack's database.
    for binding in gcp_run.of_type("gcp:projects/iAMMember:IAMMember"):
        assert binding.inputs["role"] == "roles/datastore.user"
        assert binding.inputs["condition"]["expression"] == (
            f'resource.name == "projects/{project}/databases/{prefix}"'
        )
    secret_ids = {s.inputs["secretId"] for s in gcp_run.of_type("gcp:secretmanager/secret:Secret")}
    for binding in gcp_run.of_type("gcp:secretmanager/secretIamMember:SecretIamMember"):
        assert binding.inputs["secretId"] in secret_ids
        if binding.inputs["role"] == "roles/secretmanager.secretVersionManager":
            assert "deploy" in binding.inputs["member"]
    for binding in gcp_run.of_type("gcp:storage/bucketIAMMember:BucketIAMMember"):
        assert binding.inputs["bucket"] == gcp_run.outputs["bucketName"]
    accounts = {a.outputs["member"] for a in gcp_run.of_type("gcp:serviceaccount/account:Account")}
    service_member = f"serviceAccount:{gcp_run.outputs['serviceAccountEmail']}"
    assert service_member in accounts
    service_roles = {b.inputs["role"] for b in bindings if b.inputs["member"] == service_member}
    assert service_roles == {
        "roles/cloudkms.cryptoKeyEncrypterDecrypter",
        "roles/datastore.user",
        "roles/storage.objectUser",
        "roles/secretmanager.secretAccessor",
        "roles/secretmanager.viewer",
    }


def test_gcp_workload_identity_trusts_only_the_configured_repository(gcp_run: ProgramRun) -> None:
    (provider,) = gcp_run.of_type(
        "gcp:iam/workloadIdentityPoolProvider:WorkloadIdentityPoolProvider"
    )
    repository = gcp_run.config["phase-mirror:githubRepository"]
    condition = provider.inputs["attributeCondition"]
    assert condition.startswith(f"assertion.repository == '{repository}' && assertion.sub in [")
    for subject in (
        f"repo:{repository}:ref:refs/heads/main",
        f"repo:{repository}:pull_request",
        f"repo:{repository}:environment:{gcp_run.stack}",
    ):
        assert f"'{subject}'" in condition
    assert provider.inputs["oidc"] == {"issuerUri": "https://token.actions.githubusercontent.com"}
    (binding,) = [
        b
        for b in gcp_run.of_type("gcp:serviceaccount/iAMMember:IAMMember")
        if b.inputs["role"] == "roles/iam.workloadIdentityUser"
    ]
    (pool,) = gcp_run.of_type("gcp:iam/workloadIdentityPool:WorkloadIdentityPool")
    assert binding.inputs["member"] == (
        f"principalSet://iam.googleapis.com/{pool.outputs['name']}/attribute.repository/{repository}"
    )
    deploy = gcp_run.one("gcp:serviceaccount/account:Account", "phase-mirror-sa-deploy")
    assert binding.inputs["serviceAccountId"] == deploy.outputs["name"]


def test_same_github_subjects_on_both_clouds(build: Callable[..., ProgramRun]) -> None:
    aws_run = build("aws", "staging", overrides={"githubBranch": "release"})
    role = aws_run.one("aws:iam/role:Role", "phase-mirror-deploy-role")
    aws_subjects = statements(policy(role, "assumeRolePolicy"))[0]["Condition"]["StringEquals"][
        "token.actions.githubusercontent.com:sub"
    ]
    gcp_run = build("gcp", "staging", overrides={"githubBranch": "release"})
    (provider,) = gcp_run.of_type(
        "gcp:iam/workloadIdentityPoolProvider:WorkloadIdentityPoolProvider"
    )
    assert all(f"'{s}'" in provider.inputs["attributeCondition"] for s in aws_subjects)
    assert aws_subjects == [
        "repo:PhaseMirror/Phase-Mirror:ref:refs/heads/release",
        "repo:PhaseMirror/Phase-Mirror:pull_request",
        "repo:PhaseMirror/Phase-Mirror:environment:staging",
    ]


def test_gcp_no_primitive_roles_and_no_public_members(gcp_run: ProgramRun) -> None:
    """The one public member a stack may have is the API service's invoker, and only when the
    stack says `apiPublic` (the shipped stacks do: the API is Internet-facing by design)."""
    public = []
    for resource in gcp_run.resources:
        member = str(resource.inputs.get("member", ""))
        if member in ("allUsers", "allAuthenticatedUsers"):
            public.append((resource.type, resource.inputs.get("role"), member))
        assert resource.inputs.get("role") not in ("roles/owner", "roles/editor", "roles/viewer")
    expected = [
        ("gcp:cloudrunv2/serviceIamMember:ServiceIamMember", "roles/run.invoker", "allUsers")
    ]
    assert public == (expected if gcp_run.outputs["apiPublic"] else [])


def test_gcp_data_resources_are_protected_in_production_only(gcp_run: ProgramRun) -> None:
    for resource in gcp_run.resources:
        if resource.type in DATA_TYPES_GCP:
            assert resource.protect is _production(gcp_run), resource.name
        else:
            assert resource.protect is False, resource.name


def test_aws_baselines_bucket_logs_to_a_private_log_bucket(aws_run: ProgramRun) -> None:
    """Server access logs (CKV_AWS_18) go to a log bucket that only S3 log delivery for this
    account's baselines bucket may write to; S3 log delivery supports SSE-S3 only there."""
    buckets = {b.inputs["bucket"]: b for b in aws_run.of_type("aws:s3/bucket:Bucket")}
    (logging,) = aws_run.of_type("aws:s3/bucketLogging:BucketLogging")
    source, target = logging.inputs["bucket"], logging.inputs["targetBucket"]
    assert source.endswith(f"-{BASELINES_BUCKET.name}") and target.endswith("-access-logs")
    assert set(buckets) == {source, target}

    def one(type_: str) -> dict[str, Any]:
        (found,) = [r for r in aws_run.of_type(type_) if r.inputs["bucket"] == target]
        return found.inputs

    (rule,) = one(
        "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration"
    )["rules"]
    assert rule["applyServerSideEncryptionByDefault"] == {"sseAlgorithm": "AES256"}
    assert one("aws:s3/bucketOwnershipControls:BucketOwnershipControls")["rule"] == {
        "objectOwnership": "BucketOwnerEnforced"
    }
    deny, delivery = statements(json.loads(one("aws:s3/bucketPolicy:BucketPolicy")["policy"]))
    assert deny["Effect"] == "Deny"
    assert delivery["Principal"] == {"Service": "logging.s3.amazonaws.com"}
    assert delivery["Condition"]["ArnLike"] == {"aws:SourceArn": buckets[source].outputs["arn"]}
