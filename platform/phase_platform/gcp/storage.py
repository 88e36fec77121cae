"""GCP data resources: the project's APIs, the Cloud KMS key, the Firestore database with the
catalog's TTL policies and composite indexes, the Secret Manager secrets and the baselines
bucket. Everything holding data is encrypted with the stack's key (CMEK). Names and shapes come
from the stack's spec records (`adapters.gcp.spec`, which bootstrap and doctor read too)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import pulumi
import pulumi_gcp as gcp
import pulumi_random as random

from adapters.catalog import BASELINES_BUCKET, Secret
from adapters.gcp.spec import gcp_stack

from .scope import GcpScope

APIS = (
    "artifactregistry.googleapis.com",
    "cloudkms.googleapis.com",
    "cloudscheduler.googleapis.com",
    "firestore.googleapis.com",
    "iam.googleapis.com",
    "iamcredentials.googleapis.com",
    "logging.googleapis.com",
    "monitoring.googleapis.com",
    "run.googleapis.com",
    "secretmanager.googleapis.com",
    "storage.googleapis.com",
    "sts.googleapis.com",
)
SECRET_BYTES = 32


def enable_apis(scope: GcpScope) -> tuple[gcp.projects.Service, ...]:
    return tuple(
        gcp.projects.Service(
            scope.child("api", api.removesuffix(".googleapis.com")),
            project=scope.project,
            service=api,
            # Other workloads in the project may use the same API; never switch it off.
            disable_on_destroy=False,
            opts=scope.opts(),
        )
        for api in APIS
    )


def stack_key(scope: GcpScope) -> gcp.kms.CryptoKey:
    spec = gcp_stack(scope.prefix).key
    ring = gcp.kms.KeyRing(
        scope.child("key-ring"),
        project=scope.project,
        name=spec.key_ring,
        location=scope.location,
        # Key rings cannot be deleted in GCP; keep a destroy from failing on them.
        opts=scope.opts(protect=scope.config.deletion_protection),
    )
    return gcp.kms.CryptoKey(
        scope.child("key"),
        name=spec.crypto_key,
        key_ring=ring.id,
        purpose="ENCRYPT_DECRYPT",
        # CKV_GCP_43: rotate at least every 90 days.
        rotation_period=f"{spec.rotation_seconds}s",
        destroy_scheduled_duration=f"{scope.config.key_deletion_window_days * 86400}s",
        version_template={
            "algorithm": "GOOGLE_SYMMETRIC_ENCRYPTION",
            "protection_level": "SOFTWARE",
        },
        deletion_policy=scope.deletion_policy,
        labels={"stack": scope.prefix},
        opts=scope.data_opts(),
    )


@dataclass(frozen=True)
class ServiceAgents:
    """Google-managed identities that encrypt with the key on the project's behalf."""

    firestore: pulumi.Output[str]
    secretmanager: pulumi.Output[str]
    storage: str
    artifactregistry: pulumi.Output[str]
    #: Cloud Run's agent (service-NUMBER@serverless-robot-prod.iam.gserviceaccount.com).
    run: pulumi.Output[str]


def service_agents(scope: GcpScope) -> ServiceAgents:
    identities = {
        service: gcp.projects.ServiceIdentity(
            scope.child("agent", service),
            project=scope.project,
            service=f"{service}.googleapis.com",
            opts=scope.opts(),
        )
        for service in ("firestore", "secretmanager", "artifactregistry", "run")
    }
    storage = gcp.storage.get_project_service_account(
        project=scope.project,
        opts=pulumi.InvokeOptions(parent=scope.parent, provider=scope.provider),
    )
    return ServiceAgents(
        firestore=identities["firestore"].member,
        secretmanager=identities["secretmanager"].member,
        storage=storage.member,
        artifactregistry=identities["artifactregistry"].member,
        run=identities["run"].member,
    )


def database(
    scope: GcpScope, key: gcp.kms.CryptoKey, *, after: Sequence[pulumi.Resource]
) -> gcp.firestore.Database:
    """The named Firestore database (its id is the prefix); collections are the catalog's
    physical store names, TTL policies and composite indexes come from the catalog."""
    protected = scope.config.deletion_protection
    db = gcp.firestore.Database(
        scope.child("firestore"),
        project=scope.project,
        name=gcp_stack(scope.prefix).database,
        location_id=scope.location,
        type="FIRESTORE_NATIVE",
        concurrency_mode="PESSIMISTIC",
        point_in_time_recovery_enablement="POINT_IN_TIME_RECOVERY_ENABLED",
        delete_protection_state=(
            "DELETE_PROTECTION_ENABLED" if protected else "DELETE_PROTECTION_DISABLED"
        ),
        # ABANDON: a destroy leaves a production database in place instead of deleting it.
        deletion_policy="ABANDON" if protected else "DELETE",
        cmek_config={"kms_key_name": key.id},
        opts=scope.data_opts(depends_on=after),
    )
    for collection in gcp_stack(scope.prefix).collections:
        store = collection.store.name
        if collection.ttl_field is not None:
            gcp.firestore.Field(
                scope.child("ttl", store),
                project=scope.project,
                database=db.name,
                collection=collection.name,
                field=collection.ttl_field,
                ttl_config={},
                # No single-field index on the TTL timestamp: Google's advice for TTL fields
                # (monotonic values hot-spot an index); nothing queries on it.
                index_config={},
                opts=scope.opts(),
            )
        for index in collection.indexes:
            gcp.firestore.Index(
                scope.child(
                    "index", store, index.hash_field, index.range_field, index.order.lower()
                ),
                project=scope.project,
                database=db.name,
                collection=collection.name,
                query_scope="COLLECTION",
                fields=[
                    {"field_path": index.hash_field, "order": "ASCENDING"},
                    {"field_path": index.range_field, "order": index.order},
                ],
                opts=scope.opts(),
            )
    return db


def secrets(
    scope: GcpScope, key: gcp.kms.CryptoKey, *, after: Sequence[pulumi.Resource]
) -> dict[Secret, gcp.secretmanager.Secret]:
    """One secret per catalog entry, replicated in the stack's region with the stack's key,
    and a random first version. Rotation adds versions outside Pulumi (adapters/gcp/secrets.py)
    and later disables this one, so `up` must not resurrect or rewrite it."""
    created = {}
    for slot in gcp_stack(scope.prefix).secrets:
        secret = slot.secret
        resource = gcp.secretmanager.Secret(
            scope.child("secret", secret.value),
            project=scope.project,
            secret_id=slot.secret_id,
            replication={
                "user_managed": {
                    "replicas": [
                        {
                            "location": scope.location,
                            "customer_managed_encryption": {"kms_key_name": key.id},
                        }
                    ]
                }
            },
            labels={"stack": scope.prefix, "secret": secret.value},
            deletion_protection=scope.config.deletion_protection,
            opts=scope.data_opts(depends_on=after),
        )
        initial = random.RandomId(
            scope.child("initial", secret.value),
            byte_length=SECRET_BYTES,
            opts=pulumi.ResourceOptions(parent=scope.parent),
        )
        gcp.secretmanager.SecretVersion(
            scope.child("secret", secret.value, "initial"),
            secret=resource.id,
            secret_data=initial.hex,
            # Keep the version's payload when the stack is destroyed in production.
            deletion_policy="ABANDON" if scope.config.deletion_protection else "DELETE",
            opts=scope.data_opts(ignore_changes=["secretData", "enabled"]),
        )
        created[secret] = resource
    return created


def baselines_bucket(
    scope: GcpScope, key: gcp.kms.CryptoKey, *, after: Sequence[pulumi.Resource]
) -> gcp.storage.Bucket:
    spec, record = BASELINES_BUCKET, gcp_stack(scope.prefix).bucket
    bucket = gcp.storage.Bucket(
        scope.child("bucket", spec.name),
        project=scope.project,
        name=record.name,
        location=scope.location.upper(),
        storage_class="STANDARD",
        versioning={"enabled": True},
        uniform_bucket_level_access=True,
        public_access_prevention="enforced",
        encryption={"default_kms_key_name": key.id},
        lifecycle_rules=[
            {
                "action": {"type": "Delete"},
                "condition": {"days_since_noncurrent_time": record.noncurrent_version_days},
            },
            {
                "action": {"type": "AbortIncompleteMultipartUpload"},
                "condition": {"age": 7},
            },
        ],
        force_destroy=False,
        deletion_policy=scope.deletion_policy,
        labels={"stack": scope.prefix, "bucket": spec.name},
        opts=scope.data_opts(depends_on=after),
    )
    # Who read or wrote which object (CKV_GCP_62's intent): Data Access audit logs for Cloud
    # Storage. IAMAuditConfig is authoritative for the service in the project.
    gcp.projects.IAMAuditConfig(
        scope.child("audit", "storage"),
        project=scope.project,
        service="storage.googleapis.com",
        audit_log_configs=[{"log_type": "DATA_READ"}, {"log_type": "DATA_WRITE"}],
        opts=scope.opts(),
    )
    return bucket
