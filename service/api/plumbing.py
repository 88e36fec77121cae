"""What routes share: reading a JSON body, running domain code off the event loop, finding the
API key of a request, and describing a manually validated body in the OpenAPI document."""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable
from typing import Any, TypeVar

import anyio.to_thread
from fastapi import Request
from pydantic import BaseModel, ValidationError

from adapters.ports import ApiKey
from service.calibration.bootstrap import Calibration
from service.calibration.schema import field_errors

from .errors import ApiError
from .metrics import Registry

T = TypeVar("T")


def calibration(request: Request) -> Calibration:
    found: Calibration = request.app.state.calibration
    return found


def metrics(request: Request) -> Registry:
    found: Registry = request.app.state.metrics
    return found


async def offload(request: Request, function: Callable[..., T], *args: Any) -> T:
    """Run blocking storage work on the app's bounded worker-thread pool.

    Storage calls may wait on a lock or the network, so they stay off the event loop; the pool is
    small on purpose (SQLite serialises writers anyway, and fewer threads contend less).

    Backpressure: a request whose *first* storage call waited longer than `max_queue_wait_ms`
    for a thread is refused with 429 and Retry-After before it touches storage, so a burst larger
    than the backend can absorb gets fast refusals instead of making every request time out."""
    limiter = request.app.state.limiter
    deadline = None
    if not getattr(request.state, "storage_started", False):
        wait_ms = calibration(request).config.max_queue_wait_ms
        deadline = time.monotonic() + wait_ms / 1000 if wait_ms > 0 else None

    def work() -> T:
        if deadline is not None and time.monotonic() > deadline:
            raise Overloaded
        request.state.storage_started = True
        return function(*args)

    try:
        return await anyio.to_thread.run_sync(work, limiter=limiter)
    except Overloaded:
        metrics(request).inc("phase_mirror_shed_total")
        raise ApiError(
            429,
            "THROTTLED",
            "the service is at capacity; nothing was stored, retry after the indicated delay",
            retry_after=1,
        ) from None


class Overloaded(Exception):
    """A request waited too long for a storage thread (see `offload`)."""


async def read_json(request: Request, *, status: str = "error", **extra: Any) -> Any:
    raw = await request.body()
    if not raw.strip():
        raise ApiError(
            400,
            "INVALID_JSON",
            "the request body is empty; send a JSON object",
            status=status,
            **extra,
        )
    try:
        body = json.loads(raw, parse_constant=_refuse_constant)
    except (ValueError, RecursionError):
        raise ApiError(
            400,
            "INVALID_JSON",
            "the request body is not valid JSON (UTF-8); send a JSON object with "
            "Content-Type: application/json",
            status=status,
            **extra,
        ) from None
    field = unpaired_surrogate(body)
    if field is not None:
        message = (
            "contains an unpaired UTF-16 surrogate escape (e.g. \\ud800 without its pair), "
            "which is not Unicode text; send UTF-8 text or complete surrogate pairs"
        )
        raise ApiError(
            400,
            "INVALID_JSON",
            f"{field}: {message}",
            status=status,
            errors=[{"field": field, "message": message}],
            **extra,
        )
    return body


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


_SURROGATE = re.compile("[\ud800-\udfff]")


def unpaired_surrogate(value: Any) -> str | None:
    """The dotted path (as in field errors) of the first string or key in a parsed JSON value
    that holds an unpaired surrogate, else None. `json.loads` joins a valid escaped pair into
    one character, so any surrogate left is unpaired, and no code past this point (hashing,
    encryption, storage) could encode it."""
    stack: list[tuple[str, Any]] = [("", value)]
    while stack:
        path, item = stack.pop()
        if isinstance(item, str):
            if _SURROGATE.search(item):
                return path or "(body)"
        elif isinstance(item, dict):
            for key, child in item.items():
                child_path = f"{path}.{key}" if path else key
                if _SURROGATE.search(key):
                    return _SURROGATE.sub("\ufffd", child_path) + " (field name)"
                stack.append((child_path, child))
        elif isinstance(item, list):
            stack.extend(
                (f"{path}.{index}" if path else str(index), child)
                for index, child in enumerate(item)
            )
    return None


def parse_model(model: type[BaseModel], body: Any, *, status: str = "error", **extra: Any) -> Any:
    if not isinstance(body, dict):
        raise ApiError(
            400, "INVALID_REQUEST", "the body must be a JSON object", status=status, **extra
        )
    try:
        return model.model_validate(body)
    except ValidationError as error:
        errors = field_errors(error)
        raise ApiError(
            400,
            "INVALID_REQUEST",
            "invalid request: " + "; ".join(f"{e.field}: {e.message}" for e in errors),
            status=status,
            errors=[e.model_dump() for e in errors],
            **extra,
        ) from None


def header_token(request: Request) -> str | None:
    authorization = request.headers.get("authorization", "")
    scheme, _, value = authorization.partition(" ")
    if scheme.lower() == "bearer" and value.strip():
        return value.strip()
    return request.headers.get("x-api-key")


async def require_key(request: Request, token: object) -> ApiKey:
    """The API key from the body's `token`, else from `Authorization: Bearer` / `X-API-Key`."""
    candidate = token if token is not None else header_token(request)
    key = await offload(request, calibration(request).keys.authenticate, candidate)
    if key is None:
        raise ApiError(401, "INVALID_AUTH", "missing, unknown or revoked API key")
    return key


def json_body(model: type[BaseModel]) -> dict[str, Any]:
    """`openapi_extra` for a route that parses its body itself (to control its error format)."""
    return {
        "requestBody": {
            "required": True,
            "content": {
                "application/json": {"schema": {"$ref": f"#/components/schemas/{model.__name__}"}}
            },
        }
    }
