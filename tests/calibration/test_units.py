"""Unit tests of the calibration domain: pseudonyms, API keys, config, the anonymizer job,
k and the Wilson interval."""

from __future__ import annotations

import hashlib
import hmac
import json
from datetime import date, timedelta

import pytest

from adapters.backend import Backend
from adapters.catalog import Secret, Store
from adapters.clock import FakeClock
from adapters.errors import Conflict, Misconfigured
from adapters.ports import Aggregate, AggregateKey
from service.calibration.aggregate import run_anonymizer
from service.calibration.anonymizer import Pseudonymizer
from service.calibration.apikeys import ApiKeyService, hash_key
from service.calibration.bootstrap import Calibration, bootstrap
from service.calibration.config import CalibrationConfig
from service.calibration.query import QueryParams, answer, wilson

SALT = "0f" * 32


def test_pseudonym_is_hmac_sha256_with_the_salt_never_a_plain_hash(
    local_backend: Backend, clock: FakeClock
) -> None:
    version = local_backend.secrets.put(Secret.ANONYMIZER_SALT, SALT)
    pseudonyms = Pseudonymizer(local_backend.secrets, clock)
    expected = hmac.new(bytes.fromhex(SALT), b"org-a", hashlib.sha256).hexdigest()
    assert pseudonyms.pseudonym("org-a") == f"{version.version}.{expected}"
    assert hashlib.sha256(b"org-a").hexdigest() not in pseudonyms.pseudonym("org-a")


def test_rotation_keeps_the_previous_pseudonym_during_the_grace_window(
    local_backend: Backend, clock: FakeClock
) -> None:
    local_backend.secrets.put(Secret.ANONYMIZER_SALT, SALT)
    old = Pseudonymizer(local_backend.secrets, clock, cache_seconds=0).pseudonym("org-a")
    local_backend.secrets.put(Secret.ANONYMIZER_SALT, "1e" * 32)
    pseudonyms = Pseudonymizer(local_backend.secrets, clock, cache_seconds=0)
    names = pseudonyms.candidates("org-a")
    assert names[1] == old and names[0] != old
    clock.advance(timedelta(hours=25))
    assert pseudonyms.candidates("org-a") == names[:1]


def test_malformed_or_missing_salt_fails_closed(local_backend: Backend, clock: FakeClock) -> None:
    pseudonyms = Pseudonymizer(local_backend.secrets, clock, cache_seconds=0)
    for version in local_backend.secrets.versions(Secret.ANONYMIZER_SALT):
        local_backend.secrets.disable(Secret.ANONYMIZER_SALT, version.version)
    with pytest.raises(Misconfigured, match="does not exist"):
        pseudonyms.pseudonym("org")
    local_backend.secrets.put(Secret.ANONYMIZER_SALT, "too-short")
    with pytest.raises(Misconfigured, match="64 lowercase hex"):
        pseudonyms.pseudonym("org")


def test_api_keys_are_stored_hashed_and_revocable(local_backend: Backend, clock: FakeClock) -> None:
    store = ApiKeyService(local_backend.api_keys, clock, cache_seconds=0)
    value, key = store.create("impl", "acme")
    assert value.startswith("pmk_") and len(value) == 68
    items = list(local_backend.table(Store.API_KEYS).scan())
    assert [i["keyhash"] for i in items] == [hash_key(value)]
    assert value not in json.dumps(items)
    assert store.authenticate(value) == key
    assert store.authenticate(value + "x") is None
    assert store.authenticate(None) is None
    with pytest.raises(Conflict):
        store.create("impl", "acme")  # active names are unique
    store.revoke(key.key_id)
    assert store.authenticate(value) is None
    assert [k.active for k in store.list()] == [False]
    with pytest.raises(ValueError, match="printable"):
        store.import_key("short", "x", "acme")
    store.import_key("test-key-123", "seed", "acme")
    with pytest.raises(Conflict):
        store.import_key("test-key-123", "seed2", "acme")


def test_config_from_environment_names_the_bad_variable() -> None:
    config = CalibrationConfig.from_env({"PHASE_MIRROR_K_MINIMUM": "5"})
    assert config.k_minimum == 5
    with pytest.raises(Misconfigured, match="PHASE_MIRROR_NONCE_TTL_SECONDS"):
        CalibrationConfig.from_env({"PHASE_MIRROR_NONCE_TTL_SECONDS": "soon"})
    with pytest.raises(Misconfigured, match="at least 1"):
        CalibrationConfig.from_env({"PHASE_MIRROR_K_MINIMUM": "0"})
    assert CalibrationConfig.from_env(config.as_env()) == config


def _ingest(service: Calibration, org: str, n: int, clock: FakeClock) -> None:
    for i in range(n):
        service.ingest.ingest(
            {
                "orgid": org,
                "token": "unit-test-key",
                "ruleid": "MD-001",
                "ruleversion": "2",
                "claim": {"input": f"{org}-{i}"},
                "outcome": "matched",
                "actualOutcome": "should_not_have_matched" if i % 2 else "correct",
                "confidence": 1,
                "timestamp": int(clock.now().timestamp() * 1000),
                "environment": "test",
            }
        )


def test_anonymizer_is_idempotent_and_skips_revoked_orgs(
    local_backend: Backend, clock: FakeClock
) -> None:
    service = Calibration.build(local_backend, CalibrationConfig())
    bootstrap(local_backend, service.keys)
    service.keys.import_key("unit-test-key", "unit", "impl")
    _ingest(service, "org-a", 4, clock)
    _ingest(service, "org-b", 2, clock)
    local_backend.consent.revoke("org-b", actor="t", at=clock.now())
    seen: list[int] = []
    first = run_anonymizer(
        local_backend, service.pseudonyms, progress=lambda r: seen.append(r.scanned)
    )
    assert (first.scanned, first.contributed, first.skipped_revoked) == (6, 4, 2)
    assert seen[-1] == 6
    again = run_anonymizer(local_backend, service.pseudonyms)
    assert (again.contributed, again.already_counted) == (0, 4)
    aggregates = local_backend.calibration.query(
        "MD-001", "2", "matched", start=clock.now().date(), end=clock.now().date()
    )
    assert len(aggregates) == 1
    assert dict(aggregates[0].counts) == {"events": 4, "fp": 2, "correct": 2}
    assert aggregates[0].key.org_pseudonym == service.pseudonyms.pseudonym("org-a")
    assert "org-a" not in json.dumps(list(local_backend.table(Store.CALIBRATION).scan()))


class _Store:
    def __init__(self, aggregates: list[Aggregate]) -> None:
        self.aggregates = aggregates

    def contribute(self, *args: object, **kwargs: object) -> bool:
        raise NotImplementedError

    def query(self, *args: object, **kwargs: object) -> list[Aggregate]:
        return self.aggregates


def _agg(org: str, events: int, fp: int) -> Aggregate:
    key = AggregateKey("R", "1", "matched", date(2026, 1, 1), org)
    return Aggregate(key, {"events": events, "fp": fp})


def test_k_counts_one_salt_version_at_a_time() -> None:
    params = QueryParams("R", "1", "matched", 0, 1)
    # Five orgs seen under salt v1 and the same five under v2 after a rotation: k is 5, not 10.
    aggregates = [_agg(f"1.org{n}", 1, 0) for n in range(5)] + [
        _agg(f"2.org{n}", 1, 0) for n in range(5)
    ]
    assert answer(_Store(aggregates), params, k_minimum=10, cap=100).k == 5


def test_wilson_interval_known_values() -> None:
    interval = wilson(10, 40)
    assert (round(interval.low, 5), round(interval.high, 5)) == (0.14187, 0.40194)
    assert wilson(0, 0).low == 0.0 and wilson(0, 0).high == 1.0
    zero = wilson(0, 20)
    assert zero.low == 0.0 and 0.16 < zero.high < 0.17


def test_in_server_anonymizer_runs_once_per_interval_across_workers(
    local_backend: Backend, clock: FakeClock
) -> None:
    from service.api.scheduler import AnonymizerLoop

    service = Calibration.build(local_backend, CalibrationConfig())
    first, second = AnonymizerLoop(service, 300), AnonymizerLoop(service, 300)
    assert first.run_once() is True
    assert second.run_once() is False  # the lease for this interval is taken
    clock.advance(timedelta(seconds=300))
    assert second.run_once() is True
