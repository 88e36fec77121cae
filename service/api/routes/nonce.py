"""POST /api/v1/nonce/request and /api/v1/nonce/validate"""

from __future__ import annotations

from datetime import timedelta

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from service.calibration.nonces import NonceRejected

from ..errors import ApiError
from ..models import (
    ErrorBody,
    NonceInvalid,
    NonceIssued,
    NonceRequest,
    NonceValid,
    NonceValidateRequest,
)
from ..plumbing import calibration, json_body, metrics, offload, parse_model, read_json, require_key

router = APIRouter(tags=["nonces"])

_MINUTE = timedelta(minutes=1)


@router.post(
    "/api/v1/nonce/request",
    response_model=NonceIssued,
    summary="Issue a single-use nonce",
    responses={
        400: {"model": ErrorBody, "description": "INVALID_JSON or INVALID_REQUEST"},
        401: {"model": ErrorBody, "description": "INVALID_AUTH"},
        403: {"model": ErrorBody, "description": "KEY_NOT_FOR_ORG"},
        429: {"model": ErrorBody, "description": "THROTTLED"},
        503: {"model": ErrorBody, "description": "UNAVAILABLE"},
    },
    openapi_extra=json_body(NonceRequest),
)
async def request_nonce(request: Request) -> JSONResponse:
    """32 random bytes as hex; only their SHA-256 is stored, with the TTL from configuration."""
    body = parse_model(NonceRequest, await read_json(request, valid=False), valid=False)
    key = await require_key(request, body.token)
    if not key.may_act_for(body.orgid):
        raise ApiError(403, "KEY_NOT_FOR_ORG", "this API key may only act for its own org")
    service = calibration(request)
    now = service.backend.clock.now()
    decision = await offload(
        request,
        lambda: service.backend.rate_limits.hit(
            f"nonce#{key.key_id}",
            limit=service.config.nonces_per_key_per_minute,
            window=_MINUTE,
            at=now,
        ),
    )
    if not decision.allowed:
        metrics(request).inc("phase_mirror_nonce_total", op="request", result="throttled")
        raise ApiError(
            429,
            "THROTTLED",
            f"at most {decision.limit} nonces per minute for one API key",
            retry_after=decision.retry_after,
        )
    issued = await offload(request, lambda: service.nonces.issue(body.orgid, key, at=now))
    metrics(request).inc("phase_mirror_nonce_total", op="request", result="issued")
    return JSONResponse(
        {
            "status": "ok",
            "nonce": issued.nonce,
            "expires_at": int(issued.expires_at.timestamp() * 1000),
            "ttl_seconds": issued.ttl_seconds,
        }
    )


@router.post(
    "/api/v1/nonce/validate",
    response_model=NonceValid,
    summary="Consume a nonce (succeeds once)",
    responses={
        400: {"model": NonceInvalid, "description": "missing or malformed `nonce`"},
        401: {"model": NonceInvalid, "description": "INVALID_NONCE: unknown, expired or used"},
        503: {"model": ErrorBody, "description": "UNAVAILABLE"},
    },
    openapi_extra=json_body(NonceValidateRequest),
)
async def validate_nonce(request: Request) -> JSONResponse:
    """Atomic: of any number of concurrent validations of one nonce, exactly one succeeds."""
    body = parse_model(NonceValidateRequest, await read_json(request, valid=False), valid=False)
    service = calibration(request)
    try:
        org = await offload(request, service.nonces.validate, body.nonce)
    except NonceRejected as rejected:
        metrics(request).inc("phase_mirror_nonce_total", op="validate", result="rejected")
        raise ApiError(401, "INVALID_NONCE", str(rejected), valid=False) from None
    metrics(request).inc("phase_mirror_nonce_total", op="validate", result="valid")
    return JSONResponse({"status": "ok", "valid": True, "orgid": org})
