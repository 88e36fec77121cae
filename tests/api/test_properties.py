"""Property-based: whatever a client sends, the service answers with JSON and never a 5xx."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from adapters.clock import FakeClock
from service.calibration.config import CalibrationConfig
from tests.support.backends import BackendFactory

from .conftest import API_KEY, Api, make_api

FIELDS = [
    "orgid",
    "token",
    "ruleid",
    "ruleversion",
    "claim",
    "outcome",
    "actualOutcome",
    "confidence",
    "timestamp",
    "environment",
    "repo",
    "nonce",
    "scope",
    "expires_at",
]
PATHS = [
    "/api/v1/events/ingest",
    "/api/v1/nonce/request",
    "/api/v1/nonce/validate",
    "/api/v1/consent",
    "/api/v1/calibration/query",
    "/healthz",
    "/readyz",
    "/metrics",
    "/nowhere",
]

scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=40)
    | st.sampled_from(
        [API_KEY, "matched", "should_not_have_matched", "MD-002", "1.0", "org", "repo:a/b"]
    )
)
json_values = st.recursive(
    scalars,
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4)
    ),
    max_leaves=12,
)
bodies = st.dictionaries(st.sampled_from(FIELDS), json_values, max_size=len(FIELDS)) | json_values


@pytest.fixture(scope="module")
def api(local_backend_factory: BackendFactory) -> Api:
    clock = FakeClock()
    return make_api(local_backend_factory(clock), clock, CalibrationConfig())


def _check(response: Any) -> None:
    assert response.status_code < 500, response.text
    if response.status_code >= 400:
        body = response.json()
        assert {"status", "code", "message"} <= set(body)
    elif response.headers["content-type"].startswith("application/json"):
        json.loads(response.text)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    path=st.sampled_from(PATHS),
    method=st.sampled_from(["POST", "DELETE", "GET", "PUT"]),
    body=bodies,
)
def test_json_bodies_never_cause_a_5xx(api: Api, path: str, method: str, body: Any) -> None:
    _check(api.client.request(method, path, content=json.dumps(body).encode()))


@settings(max_examples=150, deadline=None)
@given(path=st.sampled_from(PATHS), raw=st.binary(max_size=300))
def test_arbitrary_bytes_never_cause_a_5xx(api: Api, path: str, raw: bytes) -> None:
    _check(api.client.post(path, content=raw, headers={"content-type": "application/json"}))


def test_non_standard_json_constants_are_refused(api: Api) -> None:
    body = json.dumps(api.event(confidence=float("inf")))
    response = api.client.post("/api/v1/events/ingest", content=body.encode())
    assert response.status_code == 400
    assert response.json()["code"] == "INVALID_JSON"


@settings(max_examples=200, deadline=None)
@given(
    params=st.dictionaries(
        st.sampled_from(["ruleid", "ruleversion", "outcome", "start_ms", "end_ms", "orgid", "x"]),
        st.text(max_size=25) | st.integers(min_value=-(2**65), max_value=2**65).map(str),
        max_size=7,
    )
)
def test_query_strings_never_cause_a_5xx(api: Api, params: dict[str, str]) -> None:
    _check(api.client.get("/api/v1/calibration/query", params=params))
    _check(api.client.get("/api/v1/consent", params=params, headers={"X-API-Key": API_KEY}))


@settings(max_examples=200, deadline=None)
@given(event=st.fixed_dictionaries({}, optional={name: json_values for name in FIELDS[:11]}))
def test_near_valid_events_never_cause_a_5xx(api: Api, event: dict[str, Any]) -> None:
    body = api.event()
    body.update(event)
    _check(api.client.post("/api/v1/events/ingest", json=body))
