"""POST /api/v1/nonce/request and /validate: single use, hashed at rest, TTL."""

from __future__ import annotations

import hashlib
import json
import re
import threading

from adapters.catalog import Store
from service.calibration.nonces import NonceRejected

from .conftest import API_KEY, OTHER_KEY, Api, ApiFactory, advance


def request_nonce(api: Api, org: str = "nonce-test-org", token: str = API_KEY) -> str:
    response = api.client.post("/api/v1/nonce/request", json={"orgid": org, "token": token})
    assert response.status_code == 200, response.text
    nonce: str = response.json()["nonce"]
    return nonce


def test_issue_returns_32_random_bytes_and_the_ttl(api: Api) -> None:
    response = api.client.post(
        "/api/v1/nonce/request", json={"orgid": "nonce-test-org", "token": API_KEY}
    )
    body = response.json()
    assert response.status_code == 200
    assert body["status"] == "ok"
    assert re.fullmatch(r"[0-9a-f]{64}", body["nonce"])
    assert body["ttl_seconds"] == 3600
    assert body["expires_at"] >= api.now_ms() + 3600 * 1000


def test_only_the_sha256_is_stored(api: Api) -> None:
    nonce = request_nonce(api)
    items = list(api.backend.table(Store.NONCES).scan())
    assert [item["tokenhash"] for item in items] == [hashlib.sha256(nonce.encode()).hexdigest()]
    stored = json.dumps(items)
    assert nonce not in stored
    assert "nonce-test-org" not in stored  # the org is sealed too


def test_validate_succeeds_once(api: Api) -> None:
    nonce = request_nonce(api)
    first = api.client.post("/api/v1/nonce/validate", json={"nonce": nonce})
    assert first.status_code == 200
    assert first.json() == {"status": "ok", "valid": True, "orgid": "nonce-test-org"}
    replay = api.client.post("/api/v1/nonce/validate", json={"nonce": nonce})
    assert replay.status_code == 401
    assert replay.json()["valid"] is False
    assert replay.json()["status"] == "error"
    assert replay.json()["code"] == "INVALID_NONCE"


def test_unknown_and_expired_nonces_are_401(make: ApiFactory) -> None:
    api = make(nonce_ttl_seconds=60)
    unknown = api.client.post("/api/v1/nonce/validate", json={"nonce": "ab" * 32})
    assert unknown.status_code == 401
    nonce = request_nonce(api)
    advance(api.clock, seconds=62)
    expired = api.client.post("/api/v1/nonce/validate", json={"nonce": nonce})
    assert expired.status_code == 401
    assert expired.json()["valid"] is False


def test_missing_or_malformed_nonce_field_is_400(api: Api) -> None:
    for body in ({}, {"nonce": 5}, {"nonce": ""}, [], {"nonce": "a", "x": 1}):
        response = api.client.post("/api/v1/nonce/validate", json=body)
        assert response.status_code == 400, body
        assert response.json()["valid"] is False
    garbage = api.client.post("/api/v1/nonce/validate", content=b"{nonce")
    assert garbage.status_code == 400
    not_hex = api.client.post("/api/v1/nonce/validate", json={"nonce": "not-a-nonce"})
    assert not_hex.status_code == 401


def test_request_needs_a_valid_key_and_fields(api: Api) -> None:
    bad = api.client.post("/api/v1/nonce/request", json={"orgid": "o", "token": "nope"})
    assert bad.status_code == 401
    assert bad.json()["code"] == "INVALID_AUTH"
    missing = api.client.post("/api/v1/nonce/request", json={"token": API_KEY})
    assert missing.status_code == 400
    assert missing.json()["errors"][0]["field"] == "orgid"
    restricted = api.client.post("/api/v1/nonce/request", json={"orgid": "o", "token": OTHER_KEY})
    assert restricted.status_code == 403


def test_nonce_requests_are_rate_limited_per_key(make: ApiFactory) -> None:
    api = make(nonces_per_key_per_minute=2)
    request_nonce(api)
    request_nonce(api)
    response = api.client.post("/api/v1/nonce/request", json={"orgid": "o", "token": API_KEY})
    assert response.status_code == 429
    assert "Retry-After" in response.headers


def test_32_threads_validating_one_nonce_exactly_one_wins(api: Api) -> None:
    """In process: the service's consume is atomic across threads."""
    nonce = request_nonce(api)
    barrier = threading.Barrier(32)
    results: list[bool] = []
    lock = threading.Lock()

    def validate() -> None:
        barrier.wait()
        try:
            api.service.nonces.validate(nonce)
            ok = True
        except NonceRejected:
            ok = False
        with lock:
            results.append(ok)

    threads = [threading.Thread(target=validate) for _ in range(32)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(results) == [False] * 31 + [True]
