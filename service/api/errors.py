"""Every error leaves the service as JSON with `status`, `code` and `message` (plus the request
id), and backend trouble is never a 500: `Unavailable`/`Misconfigured` become 503 and `Throttled`
becomes 429, both with `Retry-After`. A 500 means a bug, and is logged with its traceback.
"""

from __future__ import annotations

import math
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from adapters.errors import Misconfigured, StoreError, Throttled, Unavailable

from .logs import get_logger, request_id_var

UNAVAILABLE_RETRY_AFTER = 5


class ApiError(Exception):
    def __init__(
        self,
        http_status: int,
        code: str,
        message: str,
        *,
        status: str = "error",
        retry_after: float | None = None,
        **extra: Any,
    ) -> None:
        super().__init__(message)
        self.http_status = http_status
        self.code = code
        self.message = message
        self.status = status
        self.retry_after = retry_after
        self.extra = extra


def error_body(error: ApiError, request_id: str | None) -> dict[str, Any]:
    body: dict[str, Any] = {"status": error.status, "code": error.code, "message": error.message}
    body.update(error.extra)
    if request_id is not None:
        body["request_id"] = request_id
    return body


def error_response(error: ApiError) -> JSONResponse:
    body = error_body(error, request_id_var.get())
    headers = {}
    if error.retry_after is not None:
        headers["Retry-After"] = str(max(1, math.ceil(error.retry_after)))
    return JSONResponse(body, status_code=error.http_status, headers=headers)


def from_store_error(error: StoreError) -> ApiError:
    if isinstance(error, Throttled):
        return ApiError(
            429,
            "THROTTLED",
            "the storage backend is throttling; retry after the indicated delay",
            retry_after=error.retry_after,
        )
    if isinstance(error, Misconfigured):
        return ApiError(
            503,
            "MISCONFIGURED",
            "the service's backend is not set up correctly; an operator must run "
            "'phase-mirror doctor'",
            retry_after=UNAVAILABLE_RETRY_AFTER * 6,
        )
    if isinstance(error, Unavailable):
        return ApiError(
            503,
            "UNAVAILABLE",
            "the storage backend is unavailable; nothing was stored, retry later",
            retry_after=UNAVAILABLE_RETRY_AFTER,
        )
    # NotFound/Conflict/IntegrityError escaping a route are bugs in the route.
    return ApiError(500, "INTERNAL", "internal error; report the request id")


_HTTP_CODES = {
    400: "BAD_REQUEST",
    404: "NOT_FOUND",
    405: "METHOD_NOT_ALLOWED",
    413: "PAYLOAD_TOO_LARGE",
    415: "UNSUPPORTED_MEDIA_TYPE",
}


def install(app: FastAPI) -> None:
    async def on_api_error(request: Request, error: Exception) -> JSONResponse:
        assert isinstance(error, ApiError)
        return error_response(error)

    async def on_store_error(request: Request, error: Exception) -> JSONResponse:
        assert isinstance(error, StoreError)
        api_error = from_store_error(error)
        request.app.state.metrics.inc(
            "phase_mirror_backend_errors_total", kind=type(error).__name__
        )
        log = get_logger()
        if api_error.http_status == 500:
            log.error("unexpected store error", exc_info=error)
        else:
            log.warning(
                "backend error", extra={"error_class": type(error).__name__, "detail": str(error)}
            )
        return error_response(api_error)

    async def on_http_error(request: Request, error: Exception) -> JSONResponse:
        assert isinstance(error, StarletteHTTPException)
        code = _HTTP_CODES.get(error.status_code, f"HTTP_{error.status_code}")
        if error.status_code == 404:
            message = f"no such endpoint: {request.method} {request.url.path}; see /docs"
        elif error.status_code == 405:
            message = f"{request.method} is not allowed on {request.url.path}; see /docs"
        else:
            message = str(error.detail)
        return error_response(ApiError(error.status_code, code, message))

    async def on_invalid_params(request: Request, error: Exception) -> JSONResponse:
        # FastAPI's own parameter validation (query strings): 400 naming each parameter.
        assert isinstance(error, RequestValidationError)
        problems = [
            {"field": str(detail["loc"][-1]), "message": detail["msg"]} for detail in error.errors()
        ]
        is_query = request.url.path.startswith("/api/v1/calibration/")
        return error_response(
            ApiError(
                400,
                "INVALID_QUERY" if is_query else "INVALID_REQUEST",
                "invalid parameters: "
                + "; ".join(f"{p['field']}: {p['message']}" for p in problems),
                status="rejected" if is_query else "error",
                errors=problems,
            )
        )

    app.add_exception_handler(ApiError, on_api_error)
    app.add_exception_handler(RequestValidationError, on_invalid_params)
    app.add_exception_handler(StoreError, on_store_error)
    app.add_exception_handler(StarletteHTTPException, on_http_error)
    # Anything else is caught by `middleware.RequestContext`, which answers 500 INTERNAL.
