"""The Lambda handler answers every contract response exactly as the app served normally does.

Each scenario runs twice over two backends prepared the same way (same config, keys and clock):
once as API Gateway HTTP API v2 events through `service.runtime.lambda_http`, once through
fastapi's TestClient over `create_app`; status, JSON body and the contract headers must match.
The backends are the local one and the AWS one on the moto server."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from adapters.backend import Backend
from adapters.clock import FakeClock
from service.runtime import lambda_http
from service.runtime.lambda_http import UnsupportedEvent, build_handler
from tests.api.faults import Outage, faulty_local_backend
from tests.support.backends import BackendFactory

from .events import LambdaContext, Reply, http_api_event
from .scenarios import SCENARIOS, differences, event, outage_contract
from .transports import CONFIG, Pair, ViaLambda, make_pair, prepare


@pytest.fixture(params=["local", pytest.param("aws", marks=pytest.mark.aws)])
def pair(request: pytest.FixtureRequest, clock: FakeClock) -> Iterator[Pair]:
    factory: BackendFactory = request.getfixturevalue(f"{request.param}_backend_factory")
    lambda_backend, app_backend = factory(clock), factory(clock)
    try:
        yield from make_pair(lambda_backend, app_backend)
    finally:
        lambda_backend.close()
        app_backend.close()


@pytest.mark.parametrize("name", sorted(SCENARIOS))
def test_handler_answers_as_the_app(pair: Pair, clock: FakeClock, name: str) -> None:
    scenario = SCENARIOS[name]
    through_lambda = scenario(pair.via_lambda, clock)
    through_app = scenario(pair.via_app, clock)
    assert through_lambda == through_app, differences(through_lambda, through_app)


def test_backend_down_is_503_through_the_handler(tmp_path: Path, clock: FakeClock) -> None:
    outages = Outage(), Outage()
    backends = [
        faulty_local_backend(str(tmp_path / name), clock, outage)
        for name, outage in zip(("lambda", "app"), outages, strict=True)
    ]
    try:
        for pair in make_pair(*backends):
            for outage in outages:
                outage.down()
            through_lambda = outage_contract(pair.via_lambda, clock)
            through_app = outage_contract(pair.via_app, clock)
            assert through_lambda == through_app, differences(through_lambda, through_app)
            assert through_lambda[2].body["code"] == "UNAVAILABLE"
    finally:
        for backend in backends:
            backend.close()


def test_plain_text_bodies_and_a_stage_prefix(
    local_backend: Backend, clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    """API Gateway sends JSON bodies as text when it can; a named stage prefixes the path."""
    monkeypatch.setenv(lambda_http.ENV_BASE_PATH, "/staging")
    handler = build_handler(local_backend, CONFIG, access_log=False)
    prepare(handler.app.state.calibration)
    send = ViaLambda(handler, base64_body=False)
    reply = send("POST", "/staging/api/v1/events/ingest", json=event(clock))
    assert reply.status == 202, reply
    assert send.events[-1]["isBase64Encoded"] is False
    assert send("GET", "/staging/readyz").status == 200


def test_per_client_limits_use_the_source_ip_not_x_forwarded_for(
    local_backend: Backend, clock: FakeClock
) -> None:
    handler = build_handler(local_backend, CONFIG, access_log=False)
    prepare(handler.app.state.calibration)
    send = ViaLambda(handler)
    query = {
        "ruleid": "MD-002",
        "ruleversion": "1.0",
        "outcome": "matched",
        "start_ms": "1767225600000",
        "end_ms": "1767312000000",
    }
    statuses = [
        send(
            "GET",
            "/api/v1/calibration/query",
            query=query,
            headers={"x-forwarded-for": f"198.51.100.{n}", "forwarded": f"for=198.51.100.{n}"},
            source_ip="203.0.113.50",
        ).status
        for n in range(4)
    ]
    assert statuses == [403, 403, 403, 429]  # a new X-Forwarded-For per request changes nothing
    other = send("GET", "/api/v1/calibration/query", query=query, source_ip="203.0.113.51")
    assert other.status == 403  # another connection address has its own budget


@pytest.mark.aws
def test_the_entry_point_opens_the_configured_backend_once(
    aws: Backend, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`handler` with no arguments: the backend from PHASE_MIRROR_BACKEND (here the AWS backend
    on moto), built on the first invocation and reused by the next ones."""
    handler = build_handler(aws, CONFIG, access_log=False)
    prepare(handler.app.state.calibration)
    monkeypatch.setenv("PHASE_MIRROR_BACKEND", aws.setting.url)
    monkeypatch.setenv("PHASE_MIRROR_ACCESS_LOG", "0")
    lambda_http.reset()
    try:
        ready = Reply.from_lambda(
            lambda_http.handler(http_api_event("GET", "/readyz"), LambdaContext())
        )
        assert ready.status == 200 and ready.body["backend"] == "aws", ready
        built = lambda_http._cached
        assert built is not None
        body = json.dumps(event(FakeClock(datetime.now(UTC)), claim={"input": "entry"})).encode()
        accepted = Reply.from_lambda(
            lambda_http.handler(
                http_api_event("POST", "/api/v1/events/ingest", body=body), LambdaContext()
            )
        )
        assert accepted.status == 202, accepted
        # API Gateway's request id became the request id (made header-safe).
        assert accepted.headers["x-request-id"].startswith("JKJaXmPLvHcESHA")
        assert lambda_http._cached is built
    finally:
        if lambda_http._cached is not None:
            lambda_http._cached.app.state.calibration.backend.close()
        lambda_http.reset()


def test_a_failed_start_answers_503_and_is_retried(
    local_backend: Backend, monkeypatch: pytest.MonkeyPatch
) -> None:
    lambda_http.reset()
    monkeypatch.setenv("PHASE_MIRROR_BACKEND", "aws://?region=us-east-1&prefix=Not_A_Prefix!")
    failed = lambda_http.handler(http_api_event("GET", "/readyz"), LambdaContext())
    reply = Reply.from_lambda(failed)
    assert reply.status == 503 and reply.body["code"] == "MISCONFIGURED", reply
    assert int(reply.headers["retry-after"]) >= 1
    assert reply.body["request_id"] == reply.headers["x-request-id"]
    assert lambda_http._cached is None
    monkeypatch.setenv("PHASE_MIRROR_BACKEND", local_backend.setting.url)
    monkeypatch.setenv("PHASE_MIRROR_ACCESS_LOG", "0")
    try:
        assert (
            lambda_http.handler(http_api_event("GET", "/healthz"), LambdaContext())["statusCode"]
            == 200
        )
    finally:
        if lambda_http._cached is not None:
            lambda_http._cached.app.state.calibration.backend.close()
        lambda_http.reset()


def test_other_events_are_refused_loudly(local_backend: Backend) -> None:
    handler = build_handler(local_backend, CONFIG, access_log=False)
    version_1 = {
        "version": "1.0",
        "resource": "/{proxy+}",
        "path": "/healthz",
        "httpMethod": "GET",
        "headers": {},
        "requestContext": {"identity": {"sourceIp": "203.0.113.7"}},
        "body": None,
        "isBase64Encoded": False,
    }
    with pytest.raises(UnsupportedEvent, match=r"payload format 2\.0"):
        handler(version_1, LambdaContext())
    with pytest.raises(UnsupportedEvent):
        handler({"job": "anonymize"}, LambdaContext())


def test_cold_import_loads_no_web_stack_or_sdk() -> None:
    import subprocess
    import sys

    code = (
        "import sys, service.runtime.lambda_http as h; "
        "print(sorted(m for m in ('fastapi', 'starlette', 'mangum', 'boto3', 'botocore', "
        "'pydantic', 'google.cloud') if m in sys.modules))"
    )
    loaded = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout.strip()
    assert loaded == "[]"


def test_base64_helper_round_trip() -> None:
    """The event builder sends bodies the way API Gateway does: base64 of the raw bytes."""
    raw = json.dumps({"orgid": "é"}).encode()
    built = http_api_event("POST", "/x", body=raw)
    assert built["isBase64Encoded"] is True and base64.b64decode(built["body"]) == raw
    assert built["requestContext"]["http"]["sourceIp"] == built["headers"]["x-forwarded-for"]
