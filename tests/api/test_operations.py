"""Health, readiness, metrics, OpenAPI, request ids, unknown routes, backend faults -> 503/429."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from adapters.clock import FakeClock
from service.api.app import create_app
from service.calibration.bootstrap import bootstrap
from service.calibration.config import CalibrationConfig

from .conftest import API_KEY, Api
from .faults import Outage, faulty_local_backend


def test_healthz_readyz_metrics_and_openapi(api: Api) -> None:
    assert api.client.get("/healthz").json() == {"status": "ok"}
    ready = api.client.get("/readyz")
    assert ready.status_code == 200
    assert ready.json()["backend"] == "local"
    api.ingest()
    metrics = api.client.get("/metrics")
    assert metrics.headers["content-type"].startswith("text/plain")
    text = metrics.text
    assert 'phase_mirror_ingest_total{code="ACCEPTED"} 1' in text
    assert (
        'phase_mirror_http_requests_total{method="POST",route="/api/v1/events/ingest",status="202"} 1'
        in text
    )
    assert "phase_mirror_http_request_duration_seconds_bucket" in text
    schema = api.client.get("/openapi.json").json()
    assert set(schema["paths"]) >= {
        "/api/v1/events/ingest",
        "/api/v1/nonce/request",
        "/api/v1/nonce/validate",
        "/api/v1/consent",
        "/api/v1/calibration/query",
    }
    ingest_body = schema["paths"]["/api/v1/events/ingest"]["post"]["requestBody"]
    ref = ingest_body["content"]["application/json"]["schema"]["$ref"]
    assert ref == "#/components/schemas/IngestRequest"
    assert "actualOutcome" in schema["components"]["schemas"]["IngestRequest"]["properties"]
    assert api.client.get("/docs").status_code == 200


def test_every_error_is_json_with_status_code_message_and_request_id(api: Api) -> None:
    unknown = api.client.get("/api/v2/nothing")
    assert unknown.status_code == 404
    body = unknown.json()
    assert (body["status"], body["code"]) == ("error", "NOT_FOUND")
    assert body["message"] and body["request_id"] == unknown.headers["x-request-id"]
    wrong_method = api.client.get("/api/v1/events/ingest")
    assert wrong_method.status_code == 405
    assert wrong_method.json()["code"] == "METHOD_NOT_ALLOWED"


def test_a_sane_incoming_request_id_is_kept(api: Api) -> None:
    response = api.client.get("/healthz", headers={"X-Request-Id": "abc-123-def-456"})
    assert response.headers["x-request-id"] == "abc-123-def-456"
    hostile = api.client.get("/healthz", headers={"X-Request-Id": "x\x7f"})
    assert hostile.headers["x-request-id"] != "x\x7f"


@pytest.fixture
def outage_api(tmp_path: Path, clock: FakeClock) -> Iterator[tuple[TestClient, Outage]]:
    outage = Outage()
    backend = faulty_local_backend(str(tmp_path / "data"), clock, outage)
    app = create_app(backend, CalibrationConfig(), access_log=False)
    bootstrap(backend, app.state.calibration.keys)
    app.state.calibration.keys.import_key(API_KEY, "test", "impl")
    yield TestClient(app, raise_server_exceptions=False), outage
    backend.close()


def _event(clock: FakeClock, n: int) -> dict[str, object]:
    return {
        "orgid": f"org-{n % 7}",
        "token": API_KEY,
        "ruleid": "MD-002",
        "ruleversion": "1.0",
        "claim": {"input": f"claim-{n}"},
        "outcome": "matched",
        "actualOutcome": "correct",
        "confidence": 0.5,
        "timestamp": int(clock.now().timestamp() * 1000),
        "environment": "ci",
    }


def test_backend_unavailable_is_503_with_retry_after_on_every_route(
    outage_api: tuple[TestClient, Outage], clock: FakeClock
) -> None:
    client, outage = outage_api
    nonce = client.post("/api/v1/nonce/request", json={"orgid": "o", "token": API_KEY}).json()
    outage.down()
    calls = [
        ("POST", "/api/v1/events/ingest", _event(clock, 1)),
        ("POST", "/api/v1/nonce/request", {"orgid": "o", "token": "never-cached-key"}),
        ("POST", "/api/v1/nonce/validate", {"nonce": nonce["nonce"]}),
        ("POST", "/api/v1/consent", {"orgid": "o", "token": API_KEY}),
        ("GET", "/readyz", None),
    ]
    for method, path, body in calls:
        response = client.request(method, path, json=body)
        assert response.status_code == 503, (path, response.text)
        assert int(response.headers["Retry-After"]) >= 1
        assert response.json()["code"] in {"UNAVAILABLE", "NOT_READY"}
    query = client.get(
        "/api/v1/calibration/query",
        params={
            "ruleid": "MD-002",
            "ruleversion": "1",
            "outcome": "matched",
            "start_ms": 0,
            "end_ms": 1,
        },
    )
    assert query.status_code == 503
    assert client.get("/healthz").status_code == 200  # the process itself is fine
    outage.up()
    # The nonce was not consumed by the failed validation.
    assert client.post("/api/v1/nonce/validate", json={"nonce": nonce["nonce"]}).status_code == 200


def test_backend_throttling_is_429_with_retry_after(
    outage_api: tuple[TestClient, Outage], clock: FakeClock
) -> None:
    client, outage = outage_api
    outage.throttle()
    response = client.post("/api/v1/events/ingest", json=_event(clock, 1))
    assert response.status_code == 429
    assert response.headers["Retry-After"] == "2"
    assert response.json()["code"] == "THROTTLED"


def test_a_failed_raw_write_releases_the_dedup_claim(
    outage_api: tuple[TestClient, Outage], clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The raw write fails after the dedup claim: the retry must be accepted, not a 409."""
    client, outage = outage_api
    app_backend = client.app.state.calibration.backend  # type: ignore[attr-defined]
    real_put = app_backend.raw_events.put

    def failing_put(event: object) -> None:
        outage.down()
        try:
            real_put(event)
        finally:
            outage.up()

    monkeypatch.setattr(app_backend.raw_events, "put", failing_put)
    failed = client.post("/api/v1/events/ingest", json=_event(clock, 1))
    assert failed.status_code == 503
    monkeypatch.undo()
    retried = client.post("/api/v1/events/ingest", json=_event(clock, 1))
    assert retried.status_code == 202


def test_stale_claim_left_by_a_failed_release_is_taken_over(
    outage_api: tuple[TestClient, Outage], clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The backend died between claim and write and stayed down for the release too."""
    from datetime import timedelta

    client, outage = outage_api
    app_backend = client.app.state.calibration.backend  # type: ignore[attr-defined]

    def dead_put(event: object) -> None:
        outage.down()  # stays down: the release fails as well
        outage.check()

    monkeypatch.setattr(app_backend.raw_events, "put", dead_put)
    assert client.post("/api/v1/events/ingest", json=_event(clock, 1)).status_code == 503
    monkeypatch.undo()
    outage.up()
    early = client.post("/api/v1/events/ingest", json=_event(clock, 1))
    # Not 409: the first copy is not stored, so the client must keep this one and retry.
    assert early.status_code == 429
    assert int(early.headers["Retry-After"]) >= 1
    clock.advance(timedelta(seconds=31))
    later = _event(clock, 1)
    assert client.post("/api/v1/events/ingest", json=later).status_code == 202
