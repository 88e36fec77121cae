"""`doctor` and `bootstrap` on GCP: is every resource the catalog names there, and shaped right?

`doctor` checks Firestore (reachable; point-in-time recovery, composite indexes and TTL policies
where the Admin API reports them), the Cloud KMS key (purpose, rotation, a wrap/unwrap round
trip), the secrets and the versioned bucket. Each failure carries the command that fixes it.

`bootstrap` creates what is missing, then runs the doctor's checks; `bootstrap --verify-only`
only checks. It creates only on emulator endpoints (`http://...`): in a real project the Pulumi
stack owns these resources, and a key or a bucket created behind its back would drift from it,
so there it reports what is missing and points at `pulumi up`. It is idempotent (Firestore has
no tables to collide with), so unlike the AWS one it never refuses to run.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import Any

from google.api_core import exceptions as gx
from google.cloud import kms

from ..backend import Check
from ..catalog import (
    BASELINES_BUCKET,
    GCP_CRYPTO_KEY,
    SECRETS,
    STORES,
    TTL_TIMESTAMP_FIELD,
    FirestoreIndex,
    Store,
    firestore_indexes,
)
from ..errors import StoreError
from .clients import CALL_TIMEOUT, GcpClients
from .errors import map_error, mapped
from .kms import CloudKmsKeyWrapper
from .settings import GcpSettings, Service

#: CKV_GCP_43: Cloud KMS keys rotate at least every 90 days (the platform stack sets 90).
KEY_ROTATION_MAX = timedelta(days=90)
_PULUMI = "run `pulumi up` on the gcp stack (it creates and configures this)"


def _guarded(name: str, fix: str, probe: Callable[[], Check]) -> Check:
    """Run one check; any failure becomes a failing `Check` instead of stopping the report."""
    try:
        check = probe()
    except gx.MethodNotImplemented:
        return Check(name, True, "not reported by this endpoint (the emulator has no Admin API)")
    except StoreError as error:
        return Check(name, False, str(error), fix)
    except Exception as error:
        mapped_error = map_error(error, name)
        if mapped_error is None:
            raise
        return Check(name, False, str(mapped_error), fix)
    return check if check.ok or check.fix else replace(check, fix=fix)


# --------------------------------------------------------------------------- doctor


def doctor(clients: GcpClients) -> list[Check]:
    s = clients.settings
    checks = [_guarded("firestore", _PULUMI, partial(_firestore_reachable, clients))]
    if checks[0].ok:
        checks += _firestore_admin_checks(clients)
    checks.append(_guarded("cloud kms key", _key_fix(s), lambda: _kms_key(clients)))
    checks.append(
        _guarded(
            "cloud kms encrypt/decrypt",
            f"{_PULUMI}: it creates the key and grants the service account "
            f"roles/cloudkms.cryptoKeyEncrypterDecrypter on {s.crypto_key_path}",
            lambda: _kms_roundtrip(clients),
        )
    )
    for secret in SECRETS:
        checks.append(
            _guarded(f"secret {s.secret_id(secret)}", _PULUMI, partial(_secret, clients, secret))
        )
    checks.append(_guarded(f"bucket gs://{s.bucket}", _bucket_fix(s), lambda: _bucket(clients)))
    return checks


def _firestore_reachable(clients: GcpClients) -> Check:
    s = clients.settings
    collection = s.collection(STORES[Store.NONCES])
    with mapped("firestore"):
        query = clients.firestore.collection(collection).limit(1)
        list(query.stream(retry=clients.reads, timeout=CALL_TIMEOUT))
    where = f"projects/{s.project}/databases/{s.database}"
    endpoint = s.endpoint("firestore")
    return Check(
        "firestore", True, f"{where} reachable" + (f" at {endpoint.url}" if endpoint else "")
    )


def _firestore_admin_checks(clients: GcpClients) -> list[Check]:
    s = clients.settings
    admin = clients.firestore_admin()
    try:
        return [
            _guarded(
                "firestore point-in-time recovery",
                f"gcloud firestore databases update --database='{s.database}' --enable-pitr "
                f"--project={s.project}, or {_PULUMI}",
                lambda: _pitr(admin, clients),
            ),
            _guarded("firestore composite indexes", _PULUMI, lambda: _indexes(admin, clients)),
            _guarded("firestore ttl policies", _PULUMI, lambda: _ttl_policies(admin, clients)),
        ]
    finally:
        admin.transport.close()


def _database_path(s: GcpSettings) -> str:
    return f"projects/{s.project}/databases/{s.database}"


def _pitr(admin: Any, clients: GcpClients) -> Check:
    s = clients.settings
    from google.cloud.firestore_admin_v1.types import Database

    database = admin.get_database(name=_database_path(s), retry=clients.reads, timeout=CALL_TIMEOUT)
    enabled = (
        database.point_in_time_recovery_enablement
        == Database.PointInTimeRecoveryEnablement.POINT_IN_TIME_RECOVERY_ENABLED
    )
    detail = "enabled (7-day recovery window)" if enabled else "disabled"
    return Check("firestore point-in-time recovery", enabled, detail)


def _indexes(admin: Any, clients: GcpClients) -> Check:
    s = clients.settings
    from google.cloud.firestore_admin_v1.types import Index

    needed = [index for spec in STORES.values() for index in firestore_indexes(spec)]
    ready: set[tuple[str, str, str, str]] = set()
    for group in sorted({_group(s, index) for index in needed}):
        parent = f"{_database_path(s)}/collectionGroups/{group}"
        for found in admin.list_indexes(parent=parent, retry=clients.reads, timeout=CALL_TIMEOUT):
            fields = [f for f in found.fields if f.field_path != "__name__"]
            if found.state != Index.State.READY or len(fields) != 2:
                continue
            if fields[0].order != Index.IndexField.Order.ASCENDING:
                continue
            ready.add((group, fields[0].field_path, fields[1].field_path, fields[1].order.name))
    missing = [
        index
        for index in needed
        if (_group(s, index), index.hash_field, index.range_field, index.order) not in ready
    ]
    if not missing:
        return Check("firestore composite indexes", True, f"all {len(needed)} ready")
    first = missing[0]
    return Check(
        "firestore composite indexes",
        False,
        "missing or not ready: "
        + ", ".join(
            f"{_group(s, i)}({i.hash_field} asc, {i.range_field} {i.order.lower()})"
            for i in missing
        ),
        f"{_PULUMI}; or e.g. gcloud firestore indexes composite create "
        f"--database='{s.database}' --collection-group={_group(s, first)} "
        f"--field-config=field-path={first.hash_field},order=ascending "
        f"--field-config=field-path={first.range_field},order={first.order.lower()}",
    )


def _group(s: GcpSettings, index: FirestoreIndex) -> str:
    return s.collection(STORES[index.store])


def _ttl_policies(admin: Any, clients: GcpClients) -> Check:
    s = clients.settings
    from google.cloud.firestore_admin_v1.types import Field

    inactive = []
    for spec in STORES.values():
        if spec.default_ttl is None:
            continue
        group = s.collection(spec)
        name = f"{_database_path(s)}/collectionGroups/{group}/fields/{TTL_TIMESTAMP_FIELD}"
        field = admin.get_field(name=name, retry=clients.reads, timeout=CALL_TIMEOUT)
        if field.ttl_config.state not in (
            Field.TtlConfig.State.ACTIVE,
            Field.TtlConfig.State.CREATING,
        ):
            inactive.append(group)
    if not inactive:
        return Check("firestore ttl policies", True, f"{TTL_TIMESTAMP_FIELD} TTL active")
    return Check(
        "firestore ttl policies",
        False,
        f"no active TTL policy on {TTL_TIMESTAMP_FIELD} in: {', '.join(inactive)} "
        "(reads still hide expired items, but nothing deletes them)",
        f"{_PULUMI}; or gcloud firestore fields ttls update {TTL_TIMESTAMP_FIELD} "
        f"--collection-group={inactive[0]} --enable-ttl --database='{s.database}'",
    )


def _key_fix(s: GcpSettings) -> str:
    return (
        f"{_PULUMI}; or gcloud kms keys update {GCP_CRYPTO_KEY} --keyring={s.key_ring_id} "
        f"--location={s.location} --rotation-period=90d --next-rotation-time=+P90D"
    )


def _kms_key(clients: GcpClients) -> Check:
    s = clients.settings
    with mapped("keys", missing=f"Cloud KMS key {s.crypto_key_path}"):
        key = clients.kms.get_crypto_key(
            request={"name": s.crypto_key_path}, retry=clients.reads, timeout=CALL_TIMEOUT
        )
    problems, notes = [], []
    if key.purpose != kms.CryptoKey.CryptoKeyPurpose.ENCRYPT_DECRYPT:
        problems.append(f"purpose is {key.purpose.name}, not ENCRYPT_DECRYPT")
    rotation: timedelta | None = key.rotation_period or None
    if rotation is None:
        if s.emulated("kms"):
            notes.append("rotation period not reported by this endpoint")
        else:
            problems.append("no automatic rotation period")
    elif rotation > KEY_ROTATION_MAX:
        problems.append(f"rotates every {rotation.days} days, more than 90")
    else:
        notes.append(f"rotates every {rotation.days} days")
    primary = key.primary
    if (
        primary
        and primary.name
        and primary.state != kms.CryptoKeyVersion.CryptoKeyVersionState.ENABLED
    ):
        problems.append(f"primary version is {primary.state.name}")
    detail = "; ".join(problems or [s.crypto_key_path, *notes])
    return Check("cloud kms key", not problems, detail)


def _kms_roundtrip(clients: GcpClients) -> Check:
    wrapper = CloudKmsKeyWrapper(clients)
    plaintext, wrapped = wrapper.generate()
    ok = wrapper.unwrap(wrapped) == plaintext
    return Check(
        "cloud kms encrypt/decrypt",
        ok,
        "a data key wrapped and unwrapped" if ok else "unwrapped key differs from the original",
    )


def _secret(clients: GcpClients, secret: Any) -> Check:
    s = clients.settings
    name = s.secret_path(secret)
    with mapped("secrets", missing=f"Secret Manager secret {name}"):
        clients.secrets.get_secret(
            request={"name": name}, retry=clients.reads, timeout=CALL_TIMEOUT
        )
        versions = list(
            clients.secrets.list_secret_versions(
                request={"parent": name}, retry=clients.reads, timeout=CALL_TIMEOUT
            )
        )
    enabled = sum(1 for v in versions if v.state.name == "ENABLED")
    detail = f"{name}: {enabled} enabled version(s)"
    if not enabled:
        detail += f" (set one with 'phase-mirror rotate-secret {secret.value}')"
    return Check(f"secret {s.secret_id(secret)}", True, detail)


def _bucket_fix(s: GcpSettings) -> str:
    return f"{_PULUMI}; or gcloud storage buckets update gs://{s.bucket} --versioning"


def _bucket(clients: GcpClients) -> Check:
    s = clients.settings
    with mapped(s.bucket, missing=f"Cloud Storage bucket gs://{s.bucket}"):
        bucket = clients.storage.get_bucket(s.bucket, retry=clients.reads, timeout=CALL_TIMEOUT)
    versioned = bool(bucket.versioning_enabled)
    detail = "object versioning enabled" if versioned else "object versioning is OFF"
    return Check(f"bucket gs://{s.bucket}", versioned, detail)


# --------------------------------------------------------------------------- bootstrap


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
            f"gcloud kms keys create {GCP_CRYPTO_KEY} --keyring={s.key_ring_id} "
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
            for secret in SECRETS
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
        _guarded(resource.name, f"{_PULUMI}; or {resource.command}", partial(_ensure, s, resource))
        for resource in resources
    ]


def _ensure(s: GcpSettings, resource: _Resource) -> Check:
    fix = f"{_PULUMI}; or {resource.command}"
    if resource.exists():
        return Check(resource.name, True, "exists")
    if not s.emulated(resource.service):
        detail = (
            "missing; bootstrap creates resources only on emulator endpoints "
            f"({resource.service}_endpoint=http://...)"
        )
        return Check(resource.name, False, detail, fix)
    try:
        resource.create()
    except gx.Conflict:  # created concurrently by another bootstrap: fine
        return Check(resource.name, True, "exists")
    return Check(resource.name, True, "created")


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
            "crypto_key_id": GCP_CRYPTO_KEY,
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
        days_since_noncurrent_time=BASELINES_BUCKET.noncurrent_version_days
    )
    location = None if s.location == "global" else s.location
    clients.storage.create_bucket(
        bucket, location=location, retry=clients.reads, timeout=CALL_TIMEOUT
    )
