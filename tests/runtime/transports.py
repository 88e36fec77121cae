"""The same request, two ways: through the Lambda handler (an API Gateway v2 event in, the
handler's result out) and through the app served normally (fastapi's TestClient over the ASGI
app). Each `Send` numbers its requests and sends the same `X-Request-Id` for the n-th request, so
two runs of a scenario can be compared answer by answer, request ids included."""

from __future__ import annotations

import itertools
import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from fastapi.testclient import TestClient

from adapters.backend import Backend
from service.calibration.bootstrap import Calibration, bootstrap
from service.calibration.config import CalibrationConfig
from service.runtime.lambda_http import HttpHandler, build_handler

from .events import SOURCE_IP, LambdaContext, Reply, http_api_event

API_KEY = "runtime-test-key-0001"
ORG_KEY = "runtime-org-key-0002"
#: Small limits so that the 429 paths are reached in a few requests.
CONFIG = CalibrationConfig().with_changes(
    queries_per_client_per_minute=3, events_per_org_per_hour=3
)


def prepare(service: Calibration) -> None:
    """Secrets and the two test keys, as on any deployment."""
    bootstrap(service.backend, service.keys)
    service.keys.import_key(API_KEY, "runtime", "impl-org")
    service.keys.import_key(ORG_KEY, "runtime-org", "org-r", restrict_org=True)


@dataclass(frozen=True)
class Request:
    method: str
    path: str
    body: bytes | None
    query: dict[str, str] | None
    headers: dict[str, str]
    declare_length: bool
    source_ip: str


class Send:
    """`send(method, path, json=..., raw=..., query=..., headers=...)` -> `Reply`."""

    def __init__(self) -> None:
        self._numbers = itertools.count(1)

    def __call__(
        self,
        method: str,
        path: str,
        *,
        json: Any = None,
        raw: bytes | None = None,
        query: dict[str, str] | None = None,
        headers: dict[str, str] | None = None,
        declare_length: bool = True,
        source_ip: str = SOURCE_IP,
    ) -> Reply:
        request_id = f"runtime-request-{next(self._numbers):04d}"
        return self.send(
            Request(
                method,
                path,
                _encode(json) if json is not None else raw,
                query,
                {"x-request-id": request_id, **(headers or {})},
                declare_length,
                source_ip,
            )
        )

    def send(self, request: Request) -> Reply:
        raise NotImplementedError


class ViaLambda(Send):
    def __init__(self, handler: HttpHandler, *, base64_body: bool = True) -> None:
        super().__init__()
        self.handler = handler
        self.base64_body = base64_body
        self.events: list[dict[str, Any]] = []

    def send(self, request: Request) -> Reply:
        event = http_api_event(
            request.method,
            request.path,
            query=request.query,
            headers=request.headers,
            body=request.body,
            base64_body=self.base64_body,
            source_ip=request.source_ip,
            cookies=["session=opaque-value", "theme=dark"],
        )
        if not request.declare_length:
            event["headers"].pop("content-length", None)
        self.events.append(event)
        return Reply.from_lambda(self.handler(event, LambdaContext()))


class ViaApp(Send):
    def __init__(self, client: TestClient) -> None:
        super().__init__()
        self.client = client

    def send(self, request: Request) -> Reply:
        content: Any = request.body
        headers = request.headers
        if request.body is not None:
            headers = {"content-type": "application/json", **headers}
            if not request.declare_length:
                content = iter([request.body])  # chunked: no Content-Length
        response = self.client.request(
            request.method, request.path, content=content, params=request.query, headers=headers
        )
        return Reply.from_http(response.status_code, response.headers, response.content)


def _encode(value: Any) -> bytes:
    return json.dumps(value).encode()


@dataclass
class Pair:
    """The handler and the app, each over its own backend prepared the same way."""

    via_lambda: ViaLambda
    via_app: ViaApp
    lambda_service: Calibration
    app_service: Calibration


def make_pair(
    lambda_backend: Backend, app_backend: Backend, config: CalibrationConfig = CONFIG
) -> Iterator[Pair]:
    from service.api.app import create_app

    handler = build_handler(lambda_backend, config, access_log=False)
    app = create_app(app_backend, config, access_log=False)
    lambda_service: Calibration = handler.app.state.calibration
    app_service: Calibration = app.state.calibration
    prepare(lambda_service)
    prepare(app_service)
    with TestClient(app, raise_server_exceptions=False) as client:
        yield Pair(ViaLambda(handler), ViaApp(client), lambda_service, app_service)
