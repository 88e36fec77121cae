"""POST /api/v1/events/ingest"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from service.calibration.ingest import Code, Rejection
from service.calibration.schema import IngestRequest

from ..errors import ApiError
from ..models import IngestAccepted, IngestRejected
from ..plumbing import calibration, json_body, metrics, offload, read_json

router = APIRouter(tags=["ingest"])

STATUS = {
    Code.INVALID_SCHEMA: 400,
    Code.INVALID_AUTH: 401,
    Code.KEY_NOT_FOR_ORG: 403,
    Code.CONSENT_REVOKED: 403,
    Code.CONSENT_EXPIRED: 403,
    Code.DUPLICATE: 409,
    Code.THROTTLED: 429,
}

_REJECTED = {"model": IngestRejected}


@router.post(
    "/api/v1/events/ingest",
    status_code=202,
    response_model=IngestAccepted,
    summary="Submit one calibration event",
    responses={
        400: {**_REJECTED, "description": "INVALID_JSON or INVALID_SCHEMA (with `errors`)"},
        401: {**_REJECTED, "description": "INVALID_AUTH"},
        403: {**_REJECTED, "description": "CONSENT_REVOKED, CONSENT_EXPIRED or KEY_NOT_FOR_ORG"},
        409: {**_REJECTED, "description": "DUPLICATE (with `prior_eventid`)"},
        413: {**_REJECTED, "description": "PAYLOAD_TOO_LARGE (over 64 KiB)"},
        429: {**_REJECTED, "description": "THROTTLED (with Retry-After)"},
        503: {**_REJECTED, "description": "UNAVAILABLE: nothing was stored; retry"},
    },
    openapi_extra=json_body(IngestRequest),
)
async def ingest(request: Request) -> JSONResponse:
    """Accepted (202) only once the event is durably stored, envelope-encrypted, in
    `consent-store`. Identical claims for the same org and rule within 24 h are duplicates."""
    body = await read_json(request, status="rejected")
    service = calibration(request)
    try:
        accepted = await offload(request, service.ingest.ingest, body)
    except Rejection as rejection:
        metrics(request).inc("phase_mirror_ingest_total", code=rejection.code.value)
        extra: dict[str, object] = {}
        if rejection.errors:
            extra["errors"] = [e.model_dump() for e in rejection.errors]
        if rejection.prior_eventid is not None:
            extra["prior_eventid"] = rejection.prior_eventid
        raise ApiError(
            STATUS[rejection.code],
            rejection.code.value,
            rejection.message,
            status="rejected",
            retry_after=rejection.retry_after if rejection.code is Code.THROTTLED else None,
            **extra,
        ) from None
    metrics(request).inc("phase_mirror_ingest_total", code="ACCEPTED")
    return JSONResponse(
        {
            "status": "accepted",
            "eventid": accepted.event_id,
            "stored_at": int(accepted.stored_at.timestamp() * 1000),
            "consent_basis": accepted.consent_basis,
        },
        status_code=202,
    )
