"""The calibration API on AWS Lambda behind API Gateway HTTP API (payload format 2.0).

`handler(event, context)` is the function's entry point (`service.runtime.lambda_http.handler`).
It serves the very app `phase-mirror serve` serves (`service.api.app.create_app`) through Mangum,
the maintained ASGI adapter:

* **Configuration as the CLI**: the backend comes from `adapters.backend.open_backend()` with the
  normal resolution (`PHASE_MIRROR_BACKEND`, then `PHASE_MIRROR_STACK_OUTPUTS`, then local), and
  the service settings from the `PHASE_MIRROR_*` variables (`CalibrationConfig.from_env`).
  Secrets (anonymizer salt, redaction key, API key hashes) are read at run time from the secret
  store and the tables by the service code, never from the environment.
* **Lazy, cached start-up**: importing this module loads nothing but the standard library, so
  the cold import stays small; the first invocation imports the web stack, opens the backend
  and builds the app, and later invocations of the same execution environment reuse them.
  A start-up that fails (bad setting, missing secret store) answers 503 with the same JSON body
  as the app's own 503s, is logged as one line, and is retried on the next invocation.
* **No lifespan per invocation**: Mangum would run the app's start-up and shutdown around every
  event (closing the backend each time), so it is off; the anonymizer loop never runs here (the
  anonymizer is its own function, `service.runtime.jobs`).
* **Client address**: Mangum takes the ASGI client from `requestContext.http.sourceIp`, which API
  Gateway sets from the TCP connection; the app never reads `X-Forwarded-For`, so a client cannot
  pick the address its per-client limits are counted under.
* **Request id**: without an `X-Request-Id` header, API Gateway's `requestContext.requestId`
  becomes the request id (the app's logs then match the API's access logs).

`PHASE_MIRROR_API_BASE_PATH` (default `/`) strips a stage or mapping prefix from the path when
the API is not on the `$default` stage.
"""

from __future__ import annotations

import json
import os
import re
import sys
import threading
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from fastapi import FastAPI

    from adapters.backend import Backend
    from adapters.errors import StoreError
    from service.calibration.config import CalibrationConfig

ENV_BASE_PATH = "PHASE_MIRROR_API_BASE_PATH"
PAYLOAD_VERSION = "2.0"

LambdaEvent = Mapping[str, Any]
LambdaResponse = dict[str, Any]

_REQUEST_ID_CHARS = re.compile(r"[^A-Za-z0-9._-]")
#: The request ids the app keeps (service.api.middleware); anything else it replaces.
_SANE_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{8,128}$")


class UnsupportedEvent(ValueError):
    """The function was invoked with something that is not an HTTP API payload 2.0 event."""


class HttpHandler:
    """An app behind Mangum. Built once per execution environment by `handler`."""

    def __init__(self, app: FastAPI, *, base_path: str = "/") -> None:
        from mangum import Mangum

        self.app = app
        self._adapter = Mangum(app, lifespan="off", api_gateway_base_path=base_path)

    def __call__(self, event: LambdaEvent, context: Any) -> LambdaResponse:
        check_event(event)
        response: LambdaResponse = self._adapter(dict(_with_request_id(event)), context)
        return response


def build_handler(
    backend: Backend | None = None,
    config: CalibrationConfig | None = None,
    *,
    access_log: bool | None = None,
) -> HttpHandler:
    """The app over `backend` (default: the configured one) behind Mangum; the arguments exist
    for tests and benchmarks, the function itself builds with none."""
    try:
        from service.api import logs
        from service.api.app import create_app
    except ImportError as error:
        raise _missing(error) from None
    from adapters.backend import open_backend
    from service.calibration.config import CalibrationConfig

    logs.configure_from_env()
    config = config or CalibrationConfig.from_env()
    if access_log is None:
        access_log = os.environ.get(logs.ENV_ACCESS_LOG, "1") != "0"
    opened = backend or open_backend()
    try:
        app = create_app(opened, config, access_log=access_log, run_scheduler=False)
        made = HttpHandler(app, base_path=os.environ.get(ENV_BASE_PATH, "/"))
    except ImportError as error:
        if backend is None:
            opened.close()
        raise _missing(error) from None
    logs.get_logger().info(
        "lambda: calibration API ready",
        extra={"backend": opened.setting.url},
    )
    return made


_cached: HttpHandler | None = None
_lock = threading.Lock()


def handler(event: LambdaEvent, context: Any) -> LambdaResponse:
    """The Lambda entry point."""
    current = _cached
    if current is None:
        from adapters.errors import StoreError

        try:
            current = _start()
        except StoreError as error:
            check_event(event)
            return startup_failure(error, request_id=_request_id(event))
    return current(event, context)


def _start() -> HttpHandler:
    global _cached
    with _lock:
        if _cached is None:
            _cached = build_handler()
        return _cached


def reset() -> None:
    """Forget the cached app (tests; a new configuration). Does not close its backend."""
    global _cached
    with _lock:
        _cached = None


def startup_failure(error: StoreError, *, request_id: str | None) -> LambdaResponse:
    """The 503 the app itself would give for `error`, when the app could not even be built."""
    from service.api.errors import error_body, from_store_error
    from service.api.logs import get_logger

    get_logger().error("lambda: cannot start the calibration API", extra={"detail": str(error)})
    failure = from_store_error(error)
    body = error_body(failure, request_id or None)
    headers = {"content-type": "application/json"}
    if request_id:
        headers["x-request-id"] = request_id
    if failure.retry_after is not None:
        headers["retry-after"] = str(int(failure.retry_after))
    return {
        "statusCode": failure.http_status,
        "headers": headers,
        "body": json.dumps(body, separators=(",", ":")),
        "isBase64Encoded": False,
    }


def check_event(event: LambdaEvent) -> None:
    """Refuse, loudly, an event that is not an HTTP API payload format 2.0 request (a wrong
    integration setting or a direct invoke): the invocation fails and the error alarm sees it."""
    context = event.get("requestContext") if isinstance(event, Mapping) else None
    http = context.get("http") if isinstance(context, Mapping) else None
    if (
        not isinstance(event, Mapping)
        or event.get("version") != PAYLOAD_VERSION
        or not isinstance(http, Mapping)
    ):
        shape = sorted(event)[:8] if isinstance(event, Mapping) else type(event).__name__
        message = (
            "not an API Gateway HTTP API event with payload format 2.0 (the integration must "
            f"set payloadFormatVersion 2.0); got {shape}"
        )
        print(json.dumps({"level": "error", "message": message}), file=sys.stderr, flush=True)
        raise UnsupportedEvent(message)


def _with_request_id(event: LambdaEvent) -> LambdaEvent:
    headers = event.get("headers") or {}
    if any(name.lower() == "x-request-id" for name in headers):
        return event
    request_id = _request_id(event)
    if request_id is None:
        return event
    return {**event, "headers": {**headers, "x-request-id": request_id}}


def _request_id(event: LambdaEvent) -> str | None:
    """The client's `X-Request-Id`, else API Gateway's request id made header-safe."""
    for name, value in (event.get("headers") or {}).items():
        if name.lower() == "x-request-id" and _SANE_REQUEST_ID.match(str(value)):
            return str(value)
    context = event.get("requestContext") or {}
    request_id = _REQUEST_ID_CHARS.sub("", str(context.get("requestId", "")))[:128]
    return request_id if len(request_id) >= 8 else None


def _missing(error: ImportError) -> StoreError:
    from adapters.errors import Misconfigured

    return Misconfigured(
        f"the function's package cannot load the web stack ({error}); build it with "
        "'./dev package' or install phase-mirror[api,lambda]"
    )
