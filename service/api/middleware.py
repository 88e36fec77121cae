"""One ASGI middleware for what every request needs: a request id, the 64 KiB body limit, a JSON
500 for bugs (never an HTML page or a dropped connection), metrics and the access log.

It is plain ASGI (no `BaseHTTPMiddleware`), so it adds no extra task per request and can refuse an
oversized body while it streams in, before the route reads it.
"""

from __future__ import annotations

import re
import time
import uuid
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from .errors import ApiError, error_response
from .logs import get_logger, request_id_var
from .metrics import Registry

_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{8,128}$")
REQUEST_ID_HEADER = b"x-request-id"


class BodyTooLarge(Exception):
    pass


def too_large(limit: int) -> ApiError:
    return ApiError(
        413,
        "PAYLOAD_TOO_LARGE",
        f"request bodies are limited to {limit} bytes ({limit // 1024} KiB)",
        limit=limit,
    )


class RequestContext:
    def __init__(
        self, app: ASGIApp, *, max_body: int, metrics: Registry, access_log: bool = True
    ) -> None:
        self.app = app
        self.max_body = max_body
        self.metrics = metrics
        self.access_log = access_log

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = dict(scope.get("headers") or [])
        incoming = headers.get(REQUEST_ID_HEADER, b"").decode("latin-1")
        request_id = incoming if _REQUEST_ID.match(incoming) else uuid.uuid4().hex
        token = request_id_var.set(request_id)
        started = time.perf_counter()
        state: dict[str, Any] = {"status": 500, "started": False}

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                state["status"] = message["status"]
                state["started"] = True
                message["headers"] = [
                    *message.get("headers", []),
                    (REQUEST_ID_HEADER, request_id.encode("ascii")),
                ]
            await send(message)

        received = 0

        async def limited_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_body:
                    raise BodyTooLarge
            return message

        try:
            declared = headers.get(b"content-length", b"")
            if declared.isdigit() and int(declared) > self.max_body:
                await error_response(too_large(self.max_body))(scope, receive, send_with_id)
            else:
                await self.app(scope, limited_receive, send_with_id)
        except BodyTooLarge:
            if not state["started"]:
                await error_response(too_large(self.max_body))(scope, receive, send_with_id)
        except Exception as error:
            get_logger().error("unhandled error (a bug)", exc_info=error)
            if not state["started"]:
                failure = ApiError(500, "INTERNAL", "internal error; report the request id")
                await error_response(failure)(scope, receive, send_with_id)
        finally:
            self._record(scope, state["status"], time.perf_counter() - started)
            request_id_var.reset(token)

    def _record(self, scope: Scope, status: int, seconds: float) -> None:
        route = scope.get("route")
        path = getattr(route, "path", None) or "unmatched"
        self.metrics.inc(
            "phase_mirror_http_requests_total",
            method=scope.get("method", ""),
            route=path,
            status=str(status),
        )
        self.metrics.observe(seconds, route=path)
        if self.access_log:
            client = scope.get("client")
            get_logger().info(
                "request",
                extra={
                    "method": scope.get("method"),
                    "path": scope.get("path"),
                    "route": path,
                    "status": status,
                    "duration_ms": round(seconds * 1000, 3),
                    "client": client[0] if client else None,
                },
            )
