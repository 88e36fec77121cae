"""GCP identities: who may use the key, the service account of the service, the deploy service
account GitHub Actions of one repository impersonate through Workload Identity Federation,
and least-privilege role bindings on exactly this stack's database, key, secrets and bucket."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import pulumi
import pulumi_gcp as gcp

from adapters.catalog import Secret

from ..naming import (
    GITHUB_OIDC_URL,
    gcp_pool_id,
    gcp_service_account_id,
    github_subjects,
)
from .scope import GcpScope
from .storage import ServiceAgents

KEY_ROLE = "roles/cloudkms.cryptoKeyEncrypterDecrypter"
DATABASE_ROLE = "roles/datastore.user"
BUCKET_ROLE = "roles/storage.objectUser"
#: Reading secrets: the payload (accessor) and the version list (viewer) for current/previous.
SECRET_READ_ROLES = ("roles/secretmanager.secretAccessor", "roles/secretmanager.viewer")
#: Rotating secrets (runbook, CI): add and disable versions.
SECRET_ROTATE_ROLE = "roles/secretmanager.secretVersionManager"  # noqa: S105 - a role name


def agent_key_access(
    scope: GcpScope, key: gcp.kms.CryptoKey, agents: ServiceAgents
) -> dict[str, gcp.kms.CryptoKeyIAMMember]:
    """CMEK: Firestore, Secret Manager, Cloud Storage, Artifact Registry and Cloud Run encrypt
    with the key as themselves."""
    members: dict[str, pulumi.Input[str]] = {
        "firestore": agents.firestore,
        "secretmanager": agents.secretmanager,
        "storage": agents.storage,
        "artifactregistry": agents.artifactregistry,
        "run": agents.run,
    }
    return {
        service: gcp.kms.CryptoKeyIAMMember(
            scope.child("key-user", service),
            crypto_key_id=key.id,
            role=KEY_ROLE,
            member=member,
            opts=scope.opts(),
        )
        for service, member in members.items()
    }


def database_condition(scope: GcpScope) -> gcp.projects.IAMMemberConditionArgsDict:
    """Firestore roles are project-wide; this condition limits them to the stack's database."""
    return {
        "title": f"only-{scope.prefix}-database",
        "description": "Firestore access limited to this stack's database",
        "expression": f'resource.name == "projects/{scope.project}/databases/{scope.prefix}"',
    }


def data_access(
    scope: GcpScope,
    role: str,
    member: pulumi.Input[str],
    *,
    database: gcp.firestore.Database,
    key: gcp.kms.CryptoKey | None,
    secrets: Mapping[Secret, gcp.secretmanager.Secret],
    bucket: gcp.storage.Bucket | None,
    secret_roles: tuple[str, ...] = SECRET_READ_ROLES,
) -> None:
    """Least privilege on exactly this stack's data: the database (conditioned), the key and
    the bucket when given, and each of `secrets` (nothing else)."""
    gcp.projects.IAMMember(
        scope.child(role, "firestore"),
        project=scope.project,
        role=DATABASE_ROLE,
        member=member,
        condition=database_condition(scope),
        opts=scope.opts(depends_on=[database]),
    )
    if key is not None:
        gcp.kms.CryptoKeyIAMMember(
            scope.child(role, "key"),
            crypto_key_id=key.id,
            role=KEY_ROLE,
            member=member,
            opts=scope.opts(),
        )
    if bucket is not None:
        gcp.storage.BucketIAMMember(
            scope.child(role, "bucket"),
            bucket=bucket.name,
            role=BUCKET_ROLE,
            member=member,
            opts=scope.opts(),
        )
    for secret, resource in secrets.items():
        for secret_role in secret_roles:
            gcp.secretmanager.SecretIamMember(
                scope.child(role, secret.value, secret_role.rsplit(".", 1)[-1].lower()),
                project=scope.project,
                secret_id=resource.secret_id,
                role=secret_role,
                member=member,
                opts=scope.opts(),
            )


@dataclass(frozen=True)
class Identities:
    service: gcp.serviceaccount.Account
    deploy: gcp.serviceaccount.Account
    pool: gcp.iam.WorkloadIdentityPool
    provider: gcp.iam.WorkloadIdentityPoolProvider


def attribute_condition(scope: GcpScope) -> str:
    """CEL on the GitHub token: this repository, and only the subjects AWS trusts too."""
    subjects = ", ".join(f"'{subject}'" for subject in github_subjects(scope.config))
    return (
        f"assertion.repository == '{scope.config.github_repository}' "
        f"&& assertion.sub in [{subjects}]"
    )


def identities(
    scope: GcpScope,
    *,
    database: gcp.firestore.Database,
    key: gcp.kms.CryptoKey,
    secrets: Mapping[Secret, gcp.secretmanager.Secret],
    bucket: gcp.storage.Bucket,
) -> Identities:
    config = scope.config
    accounts = {
        role: gcp.serviceaccount.Account(
            scope.child("sa", role),
            project=scope.project,
            account_id=gcp_service_account_id(scope.prefix, role),
            display_name=f"Phase Mirror {role} ({config.environment})",
            description=description,
            opts=scope.opts(),
        )
        for role, description in (
            ("service", "Runtime identity of the Phase Mirror service"),
            ("deploy", f"GitHub Actions of {config.github_repository} via Workload Identity"),
        )
    }
    for role, account in accounts.items():
        data_access(
            scope,
            role,
            account.member,
            database=database,
            key=key,
            secrets=secrets,
            bucket=bucket,
            secret_roles=SECRET_READ_ROLES + ((SECRET_ROTATE_ROLE,) if role == "deploy" else ()),
        )
    pool = gcp.iam.WorkloadIdentityPool(
        scope.child("github-pool"),
        project=scope.project,
        workload_identity_pool_id=gcp_pool_id(scope.prefix),
        display_name="GitHub Actions",
        description=f"GitHub Actions of {config.github_repository}",
        opts=scope.opts(),
    )
    provider = gcp.iam.WorkloadIdentityPoolProvider(
        scope.child("github-provider"),
        project=scope.project,
        workload_identity_pool_id=pool.workload_identity_pool_id,
        workload_identity_pool_provider_id="github",
        display_name="GitHub OIDC",
        attribute_mapping={
            "google.subject": "assertion.sub",
            "attribute.repository": "assertion.repository",
            "attribute.ref": "assertion.ref",
        },
        attribute_condition=attribute_condition(scope),
        oidc={"issuer_uri": GITHUB_OIDC_URL},
        opts=scope.opts(),
    )
    gcp.serviceaccount.IAMMember(
        scope.child("deploy", "workload-identity"),
        service_account_id=accounts["deploy"].name,
        role="roles/iam.workloadIdentityUser",
        member=pool.name.apply(
            lambda name: (
                f"principalSet://iam.googleapis.com/{name}/attribute.repository/"
                f"{config.github_repository}"
            )
        ),
        opts=scope.opts(depends_on=[provider]),
    )
    return Identities(accounts["service"], accounts["deploy"], pool, provider)
