"""GCP backend: each port operation against the raw google-cloud client calls doing the same
requests, on the same emulators (Firestore emulator, fake-gcs-server, drongo) and the same client
objects, in the same run, call by call in alternating order (`report.paired`). Ratio = adapter
p50 / raw p50 (target: at most 1.2x).

Also: Cloud KMS calls per 1,000 envelope encryptions (and decryptions in a fresh process-like
key manager), counted by `EnvelopeKeyManager.key_service_calls` (target: at most 10).

The emulators are started here on free loopback ports and stopped by PID at the end.
"""

from __future__ import annotations

import hashlib
import secrets
import sys
import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from adapters.backend import Backend, open_backend
from adapters.catalog import STORES, Secret, Store
from adapters.envelope import EnvelopeKeyManager
from adapters.gcp.driver import GcpDriver
from adapters.gcp.table import document_id
from adapters.ports import FpEvent

from .report import Case, compare, print_table

N = 300
N_MULTI = 150  # operations of several requests each
N_DRONGO = 60  # drongo answers in ~44 ms per request (its HTTP server, not the client)


def _start_emulators() -> Any:
    """The emulators of the test suite's fixtures, started the same way (outside pytest:
    a missing emulator raises pytest's skip outcome, reported here as a skipped bench)."""
    import pytest

    from tests.support.gcp_backend import start_gcp_emulators

    logs = Path(tempfile.mkdtemp(prefix="pm-bench-gcp-"))
    try:
        return start_gcp_emulators(logs)
    except (pytest.skip.Exception, pytest.fail.Exception) as missing:
        print(f"bench gcp skipped: {missing}", file=sys.stderr)
        return None


def run() -> None:
    emulators = _start_emulators()
    if emulators is None:
        return
    try:
        backend = open_backend(emulators.url(f"pmbench{secrets.token_hex(2)}"))
        driver = backend.driver
        assert isinstance(driver, GcpDriver)
        failed = [c for c in driver.operator.bootstrap(verify_only=False) if not c.ok]
        if failed:
            raise SystemExit(f"bench gcp: bootstrap failed: {failed}")
        _operations(backend, driver)
        _kms_calls(backend)
        backend.close()
    finally:
        emulators.stop()


def _operations(backend: Backend, driver: GcpDriver) -> None:
    from google.cloud.firestore_v1.base_query import FieldFilter
    from google.cloud.firestore_v1.query import Query

    fs = driver.clients.firestore
    settings = driver.settings
    now = datetime.now(UTC)
    hour = timedelta(hours=1)
    expires = int(now.timestamp()) + 3600

    def collection(store: Store) -> Any:
        return fs.collection(settings.collection(STORES[store]))

    def ref(store: Store, key: dict[str, Any]) -> Any:
        return collection(store).document(document_id(STORES[store], key))

    # -- point read of a counter
    backend.block_counter.increment("MD-001", "acme/app", at=now)
    counter_key = {"bucket": f"MD-001#acme/app#{now.strftime('%Y-%m-%dT%H')}"}

    def count(i: int) -> None:
        backend.block_counter.count("MD-001", "acme/app", at=now)

    def raw_count(i: int) -> None:
        ref(Store.BLOCK_COUNTER, counter_key).get().to_dict()

    # -- conditional create (dedup claim)
    def claim(i: int) -> None:
        backend.dedup.claim(f"bench-{i}", "event", ttl=hour, at=now)

    def raw_claim(i: int) -> None:
        key = {"dedupkey": f"raw-{i}"}
        ref(Store.DEDUP, key).create({**key, "value": "event", "ttl": expires, "expireAt": now})

    # -- read-modify-write with a precondition (block counter increment)
    def increment(i: int) -> None:
        backend.block_counter.increment("MD-001", "acme/app", at=now)

    raw_counter = ref(Store.BLOCK_COUNTER, {"bucket": "raw"})
    raw_counter.set({"bucket": "raw", "count": 0, "ttl": expires, "expireAt": now})

    def raw_increment(i: int) -> None:
        snapshot = raw_counter.get()
        raw_counter.update(
            {"count": snapshot.get("count") + 1},
            option=fs.write_option(last_update_time=snapshot.update_time),
        )

    # -- single-use token: create, then read + delete with a precondition
    def issue_consume(i: int) -> None:
        token = hashlib.sha256(b"%d" % i).hexdigest()
        backend.nonces.issue(token, {"o": "1"}, ttl=hour, at=now)
        backend.nonces.consume(token)

    def raw_issue_consume(i: int) -> None:
        token = "raw" + hashlib.sha256(b"%d" % i).hexdigest()
        doc = ref(Store.NONCES, {"tokenhash": token})
        doc.create({"tokenhash": token, "payload": {"o": "1"}, "ttl": expires, "expireAt": now})
        snapshot = doc.get()
        doc.delete(option=fs.write_option(last_update_time=snapshot.update_time))

    # -- index query, newest 20
    for n in range(40):
        event = FpEvent(f"e{n}", "MD-002", "1", f"f{n}", "acme/app", "block", now)
        backend.fp_events.record(event)

    def window(i: int) -> None:
        backend.fp_events.window("MD-002", last=20)

    def raw_window(i: int) -> None:
        query = (
            collection(Store.FP_EVENTS)
            .where(filter=FieldFilter("ruleid", "==", "MD-002"))
            .where(filter=FieldFilter("ts", ">=", 0))
            .where(filter=FieldFilter("ts", "<=", 2**53))
            .order_by("ts", direction=Query.DESCENDING)
            .limit(20)
        )
        [snapshot.to_dict() for snapshot in query.stream()]

    # -- Secret Manager: newest enabled version (list + access)
    backend.secrets.put(Secret.REDACTION_KEY, "a" * 64)
    sm = driver.clients.secrets
    secret_path = settings.secret_path(Secret.REDACTION_KEY)

    def secret_current(i: int) -> None:
        backend.secrets.current(Secret.REDACTION_KEY)

    def raw_secret(i: int) -> None:
        versions = list(sm.list_secret_versions(request={"parent": secret_path}))
        newest = max(versions, key=lambda v: int(v.name.rsplit("/", 1)[1]))
        sm.access_secret_version(request={"name": newest.name}).payload.data.decode()

    # -- Cloud Storage: latest generation (metadata + pinned download), and upload
    backend.baselines.put("bench/baseline.json", b"{}" * 512)
    gcs_bucket = driver.clients.storage.bucket(settings.bucket)

    def object_get(i: int) -> None:
        backend.baselines.get("bench/baseline.json")

    def raw_object_get(i: int) -> None:
        blob = gcs_bucket.get_blob("bench/baseline.json")
        gcs_bucket.blob("bench/baseline.json", generation=blob.generation).download_as_bytes()

    def object_put(i: int) -> None:
        backend.baselines.put("bench/put.json", b"{}" * 512)

    def raw_object_put(i: int) -> None:
        gcs_bucket.blob("bench/raw-put.json").upload_from_string(
            b"{}" * 512, content_type="application/octet-stream"
        )

    # -- Cloud KMS: wrap one data key
    wrapper = driver.key_wrapper()
    kms = driver.clients.kms

    def wrap(i: int) -> None:
        wrapper.generate()

    def raw_wrap(i: int) -> None:
        kms.encrypt(
            request={
                "name": settings.crypto_key_path,
                "plaintext": secrets.token_bytes(32),
                "additional_authenticated_data": b"phase-mirror data key",
            }
        )

    cases = [
        Case("counter read (Firestore get)", count, raw_count, N),
        Case("dedup claim (create if absent)", claim, raw_claim, N),
        Case("block counter increment (get + conditional update)", increment, raw_increment, N),
        Case(
            "nonce issue + consume (create, get, conditional delete)",
            issue_consume,
            raw_issue_consume,
            N_MULTI,
        ),
        Case("FP window last 20 (index query)", window, raw_window, N),
        Case("secret current (list + access)", secret_current, raw_secret, N_DRONGO),
        Case("baseline get latest (metadata + download 1 KiB)", object_get, raw_object_get, N),
        Case("baseline put (upload 1 KiB)", object_put, raw_object_put, N),
        Case("Cloud KMS wrap a data key", wrap, raw_wrap, N_DRONGO),
    ]
    compare(
        "gcp backend vs raw google-cloud clients (same emulators, same client objects, same run,"
        " interleaved)",
        cases,
    )


def _kms_calls(backend: Backend) -> None:
    wrapper = backend.driver.key_wrapper()
    writer = EnvelopeKeyManager(wrapper)
    sealed = [writer.encrypt(b"claim %d" % i, b"event-%d" % i) for i in range(1000)]
    reader = EnvelopeKeyManager(wrapper)  # a fresh cache, as in another process
    assert all(reader.decrypt(s, b"event-%d" % i) == b"claim %d" % i for i, s in enumerate(sealed))
    print_table(
        "Cloud KMS calls per 1,000 envelope operations (data-key cache, target <= 10)",
        ["operation", "messages", "Cloud KMS calls"],
        [
            ["encrypt (fresh key manager)", 1000, writer.key_service_calls],
            ["decrypt (another fresh key manager)", 1000, reader.key_service_calls],
        ],
    )
