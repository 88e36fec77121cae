"""`bootstrap` on GCP: create what the stack's spec (adapters/gcp/spec.py) names and is missing,
then run the doctor's checks; `bootstrap --verify-only` only checks.

It creates only on emulator endpoints (`http://...`): in a real project the Pulumi stack owns
these resources, and a key or a bucket created behind its back would drift from it, so there
it reports what is missing and points at `pulumi up`. It is idempotent (Firestore has no
tables to collide with), so unlike the AWS one it never refuses to run.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import partial
from typing import Any

from google.api_core import exceptions as gx
from google.cloud import kms

from ..operations import Check
from .clients import CALL_TIMEOUT, GcpClients
from .doctor import KEY_ROTATION_MAX, PULUMI, doctor, guarded
from .settings import GcpSettings
from .spec import gcp_stack
from .url import Service


@dataclass(frozen=True)
class _Resource:
    name: str
    service: Service
    exists: Callable[[], bool]
    create: Callable[[], object]
    command: str  # the gcloud equivalent, for the fix text


def bootstrap(clients: GcpClients, *, verify_only: bool) -> list[Check]:
    """With `verify_only`, the doctor's checks; otherwise create what is missing, then check."""
    if verify_only:
        return doctor(clients)
    return ensure_resources(clients) + doctor(clients)


def ensure_resources(clients: GcpClients) -> list[Check]:
    """One step per catalog resource: "exists", "created", or why it could not be created.
    Idempotent: existing resources are left as they are (Firestore itself needs no setup)."""
    s = clients.settings
    stack = gcp_stack(s.prefix, s.database)
    resources = [
        _Resource(
            f"key ring {s.key_ring_path}",
            "kms",
            partial(
                _exists,
                lambda: clients.kms.get_key_ring(
                    request={"name": s.key_ring_path}, retry=clients.reads, timeout=CALL_TIMEOUT
                ),
            ),
            partial(_create_key_ring, clients),
            f"gcloud kms keyrings create {s.key_ring_id} --location={s.location}",
        ),
        _Resource(
            f"crypto key {s.crypto_key_path}",
            "kms",
            partial(
                _exists,
                lambda: clients.kms.get_crypto_key(
                    request={"name": s.crypto_key_path}, retry=clients.reads, timeout=CALL_TIMEOUT
                ),
            ),
            partial(_create_crypto_key, clients),
            f"gcloud kms keys create {s.crypto_key_id} --keyring={s.key_ring_id} "
            f"--location={s.location} --purpose=encryption --rotation-period=90d "
            "--next-rotation-time=+P90D",
        ),
        *(
            _Resource(
                f"secret {s.secret_path(secret)}",
                "secretmanager",
                partial(
                    _exists,
                    partial(_get_secret, clients, s.secret_path(secret)),
                ),
                partial(_create_secret, clients, secret),
                f"gcloud secrets create {s.secret_id(secret)} --replication-policy=automatic",
            )
            for secret in (slot.secret for slot in stack.secrets)
        ),
        _Resource(
            f"bucket gs://{s.bucket}",
            "storage",
            partial(_bucket_exists, clients),
            partial(_create_bucket, clients),
            f"gcloud storage buckets create gs://{s.bucket} --uniform-bucket-level-access "
            f"--public-access-prevention && gcloud storage buckets update gs://{s.bucket} "
            "--versioning",
        ),
    ]
    return [
        guarded(resource.name, f"{PULUMI}; or {resource.command}", partial(_ensure, s, resource))
        for resource in resources
    ]


def _ensure(s: GcpSettings, resource: _Resource) -> Check:
    fix = f"{PULUMI}; or {resource.command}"
    if resource.exists():
        return Check.passed(resource.name, "exists")
    if not s.emulated(resource.service):
        detail = (
            "missing; bootstrap creates resources only on emulator endpoints "
            f"({resource.service}_endpoint=http://...)"
        )
        return Check.failed(resource.name, detail, fix)
    try:
        resource.create()
    except gx.Conflict:  # created concurrently by another bootstrap: fine
        return Check.passed(resource.name, "exists")
    return Check.passed(resource.name, "created")


def _get_secret(clients: GcpClients, name: str) -> object:
    return clients.secrets.get_secret(
        request={"name": name}, retry=clients.reads, timeout=CALL_TIMEOUT
    )


def _bucket_exists(clients: GcpClients) -> bool:
    bucket = clients.storage.bucket(clients.settings.bucket)
    return bool(bucket.exists(retry=clients.reads, timeout=CALL_TIMEOUT))


def _exists(get: Callable[[], object]) -> bool:
    try:
        get()
    except gx.NotFound:
        return False
    return True


def _create_key_ring(clients: GcpClients) -> None:
    s = clients.settings
    clients.kms.create_key_ring(
        request={"parent": s.location_path, "key_ring_id": s.key_ring_id, "key_ring": {}},
        retry=clients.reads,
        timeout=CALL_TIMEOUT,
    )


def _create_crypto_key(clients: GcpClients) -> None:
    s = clients.settings
    clients.kms.create_crypto_key(
        request={
            "parent": s.key_ring_path,
            "crypto_key_id": s.crypto_key_id,
            "crypto_key": {
                "purpose": kms.CryptoKey.CryptoKeyPurpose.ENCRYPT_DECRYPT,
                "rotation_period": KEY_ROTATION_MAX,
                "next_rotation_time": datetime.now(UTC) + KEY_ROTATION_MAX,
            },
        },
        retry=clients.reads,
        timeout=CALL_TIMEOUT,
    )


def _create_secret(clients: GcpClients, secret: Any) -> None:
    s = clients.settings
    clients.secrets.create_secret(
        request={
            "parent": f"projects/{s.project}",
            "secret_id": s.secret_id(secret),
            "secret": {
                "replication": {"automatic": {}},
                "labels": {"app": "phase-mirror", "secret": secret.value},
            },
        },
        retry=clients.reads,
        timeout=CALL_TIMEOUT,
    )


def _create_bucket(clients: GcpClients) -> None:
    s = clients.settings
    bucket = clients.storage.bucket(s.bucket)
    bucket.versioning_enabled = True
    bucket.iam_configuration.uniform_bucket_level_access_enabled = True
    bucket.iam_configuration.public_access_prevention = "enforced"
    bucket.add_lifecycle_delete_rule(
        days_since_noncurrent_time=gcp_stack(s.prefix, s.database).bucket.noncurrent_version_days
    )
    location = None if s.location == "global" else s.location
    clients.storage.create_bucket(
        bucket, location=location, retry=clients.reads, timeout=CALL_TIMEOUT
    )
