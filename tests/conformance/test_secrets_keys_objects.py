"""Versioned secrets, envelope encryption and versioned objects on every backend."""

from __future__ import annotations

import pytest

from adapters.backend import Backend
from adapters.catalog import Secret
from adapters.envelope import EnvelopeKeyManager
from adapters.errors import IntegrityError, NotFound

HEX_A, HEX_B, HEX_C = "a" * 64, "b" * 64, "c" * 64


def test_secret_versions_current_previous_disable(backend: Backend) -> None:
    """Backends may provision an initial value (local does, as `pulumi up` does on the clouds),
    so the test reasons from whatever versions exist when it starts."""
    store = backend.secrets
    existing = [v for v in store.versions(Secret.REDACTION_KEY) if v.enabled]
    for version in existing:
        store.disable(Secret.REDACTION_KEY, version.version)
    with pytest.raises(NotFound):
        store.current(Secret.REDACTION_KEY)
    assert store.previous(Secret.REDACTION_KEY) is None
    v1 = store.put(Secret.REDACTION_KEY, HEX_A)
    assert store.current(Secret.REDACTION_KEY).value == HEX_A
    assert store.previous(Secret.REDACTION_KEY) is None
    v2 = store.put(Secret.REDACTION_KEY, HEX_B)
    assert v2.version != v1.version
    assert store.current(Secret.REDACTION_KEY).value == HEX_B
    previous = store.previous(Secret.REDACTION_KEY)
    assert previous is not None and previous.value == HEX_A
    assert previous.version == v1.version
    # Grace window over: retire v1; it is kept (not destroyed) but no longer valid.
    store.disable(Secret.REDACTION_KEY, v1.version)
    assert store.previous(Secret.REDACTION_KEY) is None
    versions = store.versions(Secret.REDACTION_KEY)
    assert [(v.version, v.enabled) for v in versions[:2]] == [
        (v2.version, True),
        (v1.version, False),
    ]
    assert versions[0].value == HEX_B  # a disabled version's value may be withheld (GCP)
    assert len(versions) == 2 + len(existing)
    # Secrets are independent of each other.
    store.put(Secret.ANONYMIZER_SALT, HEX_C)
    assert store.current(Secret.REDACTION_KEY).value == HEX_B
    assert store.current(Secret.ANONYMIZER_SALT).value == HEX_C


def test_envelope_roundtrip_and_associated_data_binding(backend: Backend) -> None:
    keys = backend.keys
    sealed = keys.encrypt(b"org-1234", b"event-1")
    assert b"org-1234" not in sealed
    assert keys.decrypt(sealed, b"event-1") == b"org-1234"
    assert keys.encrypt(b"org-1234", b"event-1") != sealed  # fresh nonce every time
    with pytest.raises(IntegrityError):
        keys.decrypt(sealed, b"event-2")


@pytest.mark.parametrize("position", [0, 4, 20, -20, -1])
def test_envelope_detects_a_flipped_byte_anywhere(backend: Backend, position: int) -> None:
    sealed = bytearray(backend.keys.encrypt(b"claim payload", b"aad"))
    sealed[position] ^= 0x01
    with pytest.raises(IntegrityError):
        backend.keys.decrypt(bytes(sealed), b"aad")


def test_envelope_rejects_truncated_input(backend: Backend) -> None:
    sealed = backend.keys.encrypt(b"x", b"aad")
    for cut in (0, 3, 10, len(sealed) - 1):
        with pytest.raises(IntegrityError):
            backend.keys.decrypt(sealed[:cut], b"aad")


def test_data_key_cache_bounds_key_service_calls(backend: Backend) -> None:
    keys = backend.keys
    assert isinstance(keys, EnvelopeKeyManager)
    before = keys.key_service_calls
    sealed = [keys.encrypt(b"v%d" % i, b"a") for i in range(200)]
    assert all(keys.decrypt(s, b"a") == b"v%d" % i for i, s in enumerate(sealed))
    assert keys.key_service_calls - before <= 2


def test_envelope_from_a_fresh_key_manager_decrypts(backend: Backend) -> None:
    """A new process (new cache) must unwrap through the key service."""
    sealed = backend.keys.encrypt(b"persisted", b"aad")
    fresh = EnvelopeKeyManager(backend.driver.key_wrapper())
    assert fresh.decrypt(sealed, b"aad") == b"persisted"
    assert fresh.key_service_calls == 1


def test_object_versions(backend: Backend) -> None:
    objects = backend.baselines
    with pytest.raises(NotFound):
        objects.get("repo/baseline.json")
    assert objects.versions("repo/baseline.json") == []
    v1 = objects.put("repo/baseline.json", b"one")
    v2 = objects.put("repo/baseline.json", b"two-two")
    assert v1.version_id != v2.version_id and v2.size == 7
    latest = objects.get("repo/baseline.json")
    assert latest.data == b"two-two" and latest.version.version_id == v2.version_id
    assert objects.get("repo/baseline.json", v1.version_id).data == b"one"
    assert [v.version_id for v in objects.versions("repo/baseline.json")] == [
        v2.version_id,
        v1.version_id,
    ]
    for bogus in ("999999", "²", "1.5", "-1"):
        with pytest.raises(NotFound):
            objects.get("repo/baseline.json", bogus)
    objects.put("repo/baseline.json.bak", b"other key")
    assert len(objects.versions("repo/baseline.json")) == 2
