"""`doctor` on GCP: is every resource of the stack's spec (adapters/gcp/spec.py) there, and
shaped right?

It checks Firestore (reachable; point-in-time recovery, composite indexes and TTL policies
where the Admin API reports them), the Cloud KMS key (purpose, rotation, a wrap/unwrap round
trip), the secrets and the versioned bucket. Each failure carries the command that fixes it.
What an emulator cannot answer (the Firestore emulator has no Admin API) is NOT_REPORTED.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import timedelta
from functools import partial
from typing import Any

from google.api_core import exceptions as gx
from google.cloud import kms

from ..catalog import SECRETS, STORES, Store
from ..errors import StoreError
from ..operations import Check
from .clients import CALL_TIMEOUT, GcpClients
from .errors import map_error, mapped
from .kms import CloudKmsKeyWrapper
from .settings import GcpSettings
from .spec import TTL_TIMESTAMP_FIELD, FirestoreIndex, gcp_stack

#: CKV_GCP_43: Cloud KMS keys rotate at least every 90 days (the platform stack sets 90).
KEY_ROTATION_MAX = timedelta(days=90)
PULUMI = "run `pulumi up` on the gcp stack (it creates and configures this)"


def guarded(name: str, fix: str, probe: Callable[[], Check]) -> Check:
    """Run one check; any failure becomes a failing `Check` instead of stopping the report."""
    try:
        check = probe()
    except gx.MethodNotImplemented:
        return Check.unreported(name, "the emulator has no Admin API")
    except StoreError as error:
        return Check.failed(name, str(error), fix)
    except Exception as error:
        mapped_error = map_error(error, name)
        if mapped_error is None:
            raise
        return Check.failed(name, str(mapped_error), fix)
    return check if check.ok or check.fix else replace(check, fix=fix)


# --------------------------------------------------------------------------- doctor


def doctor(clients: GcpClients) -> list[Check]:
    s = clients.settings
    checks = [guarded("firestore", PULUMI, partial(_firestore_reachable, clients))]
    if checks[0].ok:
        checks += _firestore_admin_checks(clients)
    checks.append(guarded("cloud kms key", _key_fix(s), lambda: _kms_key(clients)))
    checks.append(
        guarded(
            "cloud kms encrypt/decrypt",
            f"{PULUMI}: it creates the key and grants the service account "
            f"roles/cloudkms.cryptoKeyEncrypterDecrypter on {s.crypto_key_path}",
            lambda: _kms_roundtrip(clients),
        )
    )
    for secret in SECRETS:
        checks.append(
            guarded(f"secret {s.secret_id(secret)}", PULUMI, partial(_secret, clients, secret))
        )
    checks.append(guarded(f"bucket gs://{s.bucket}", _bucket_fix(s), lambda: _bucket(clients)))
    return checks


def _firestore_reachable(clients: GcpClients) -> Check:
    s = clients.settings
    collection = s.collection(STORES[Store.NONCES])
    with mapped("firestore"):
        query = clients.firestore.collection(collection).limit(1)
        list(query.stream(retry=clients.reads, timeout=CALL_TIMEOUT))
    where = f"projects/{s.project}/databases/{s.database}"
    endpoint = s.endpoint("firestore")
    return Check.passed(
        "firestore", f"{where} reachable" + (f" at {endpoint.url}" if endpoint else "")
    )


def _firestore_admin_checks(clients: GcpClients) -> list[Check]:
    s = clients.settings
    admin = clients.firestore_admin()
    try:
        return [
            guarded(
                "firestore point-in-time recovery",
                f"gcloud firestore databases update --database='{s.database}' --enable-pitr "
                f"--project={s.project}, or {PULUMI}",
                lambda: _pitr(admin, clients),
            ),
            guarded("firestore composite indexes", PULUMI, lambda: _indexes(admin, clients)),
            guarded("firestore ttl policies", PULUMI, lambda: _ttl_policies(admin, clients)),
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
    return Check.verdict("firestore point-in-time recovery", enabled, detail)


def _indexes(admin: Any, clients: GcpClients) -> Check:
    s = clients.settings
    from google.cloud.firestore_admin_v1.types import Index

    stack = gcp_stack(s.prefix, s.database)
    needed = [index for collection in stack.collections for index in collection.indexes]
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
        return Check.passed("firestore composite indexes", f"all {len(needed)} ready")
    first = missing[0]
    return Check.failed(
        "firestore composite indexes",
        "missing or not ready: "
        + ", ".join(
            f"{_group(s, i)}({i.hash_field} asc, {i.range_field} {i.order.lower()})"
            for i in missing
        ),
        f"{PULUMI}; or e.g. gcloud firestore indexes composite create "
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
    for collection in gcp_stack(s.prefix, s.database).collections:
        if collection.ttl_field is None:
            continue
        group = collection.name
        name = f"{_database_path(s)}/collectionGroups/{group}/fields/{TTL_TIMESTAMP_FIELD}"
        field = admin.get_field(name=name, retry=clients.reads, timeout=CALL_TIMEOUT)
        if field.ttl_config.state not in (
            Field.TtlConfig.State.ACTIVE,
            Field.TtlConfig.State.CREATING,
        ):
            inactive.append(group)
    if not inactive:
        return Check.passed("firestore ttl policies", f"{TTL_TIMESTAMP_FIELD} TTL active")
    return Check.failed(
        "firestore ttl policies",
        f"no active TTL policy on {TTL_TIMESTAMP_FIELD} in: {', '.join(inactive)} "
        "(reads still hide expired items, but nothing deletes them)",
        f"{PULUMI}; or gcloud firestore fields ttls update {TTL_TIMESTAMP_FIELD} "
        f"--collection-group={inactive[0]} --enable-ttl --database='{s.database}'",
    )


def _key_fix(s: GcpSettings) -> str:
    return (
        f"{PULUMI}; or gcloud kms keys update {s.crypto_key_id} --keyring={s.key_ring_id} "
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
    return Check.verdict("cloud kms key", not problems, detail)


def _kms_roundtrip(clients: GcpClients) -> Check:
    wrapper = CloudKmsKeyWrapper(clients)
    plaintext, wrapped = wrapper.generate()
    ok = wrapper.unwrap(wrapped) == plaintext
    return Check.verdict(
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
    return Check.passed(f"secret {s.secret_id(secret)}", detail)


def _bucket_fix(s: GcpSettings) -> str:
    return f"{PULUMI}; or gcloud storage buckets update gs://{s.bucket} --versioning"


def _bucket(clients: GcpClients) -> Check:
    s = clients.settings
    with mapped(s.bucket, missing=f"Cloud Storage bucket gs://{s.bucket}"):
        bucket = clients.storage.get_bucket(s.bucket, retry=clients.reads, timeout=CALL_TIMEOUT)
    versioned = bool(bucket.versioning_enabled)
    detail = "object versioning enabled" if versioned else "object versioning is OFF"
    return Check.verdict(f"bucket gs://{s.bucket}", versioned, detail)
