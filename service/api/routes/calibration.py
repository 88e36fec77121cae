"""GET /api/v1/calibration/query: k-anonymous FP rates (anonymous, rate-limited per client)."""

from __future__ import annotations

from datetime import timedelta

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse

from service.calibration.query import InvalidQuery, answer, parse_params

from ..errors import ApiError
from ..models import ErrorBody, QueryOk, QueryRejected
from ..plumbing import calibration, metrics, offload

router = APIRouter(tags=["calibration"])

_MINUTE = timedelta(minutes=1)


@router.get(
    "/api/v1/calibration/query",
    response_model=QueryOk,
    summary="False-positive rate of a rule version, if at least k orgs contributed",
    responses={
        400: {"model": ErrorBody, "description": "INVALID_QUERY (with `errors`)"},
        403: {"model": QueryRejected, "description": "k_too_small"},
        429: {"model": ErrorBody, "description": "THROTTLED (per client address)"},
        503: {"model": ErrorBody, "description": "UNAVAILABLE"},
    },
)
async def query(
    request: Request,
    ruleid: str = Query(description="Rule id, e.g. MD-002."),
    ruleversion: str = Query(description="Rule version, e.g. 1.0."),
    outcome: str = Query(description="matched or not_matched."),
    start_ms: str = Query(description="Range start, ms since epoch (UTC days are inclusive)."),
    end_ms: str = Query(description="Range end, ms since epoch."),
) -> JSONResponse:
    """Aggregates are daily (UTC): the range covers whole days from start_ms's to end_ms's."""
    try:
        params = parse_params(dict(request.query_params))
    except InvalidQuery as invalid:
        raise ApiError(
            400,
            "INVALID_QUERY",
            f"invalid query: {invalid}",
            status="rejected",
            errors=[e.model_dump() for e in invalid.errors],
        ) from None
    service = calibration(request)
    client = request.client.host if request.client else "unknown"
    now = service.backend.clock.now()
    decision = await offload(
        request,
        lambda: service.backend.rate_limits.hit(
            f"query#{client}",
            limit=service.config.queries_per_client_per_minute,
            window=_MINUTE,
            at=now,
        ),
    )
    if not decision.allowed:
        metrics(request).inc("phase_mirror_calibration_queries_total", result="throttled")
        raise ApiError(
            429,
            "THROTTLED",
            f"at most {decision.limit} calibration queries per minute per client",
            retry_after=decision.retry_after,
        )
    result = await offload(
        request,
        lambda: answer(
            service.backend.calibration,
            params,
            k_minimum=service.config.k_minimum,
            cap=service.config.contribution_cap,
        ),
    )
    if not result.allowed:
        metrics(request).inc("phase_mirror_calibration_queries_total", result="k_too_small")
        return JSONResponse(
            {
                "status": "rejected",
                "code": "K_TOO_SMALL",
                "message": f"fewer than {result.minimum} distinct orgs contributed to this cohort",
                "reason": "k_too_small",
                "k": result.k,
                "minimum": result.minimum,
            },
            status_code=403,
        )
    metrics(request).inc("phase_mirror_calibration_queries_total", result="ok")
    interval = result.interval
    return JSONResponse(
        {
            "status": "ok",
            "query": params.as_dict(),
            "result": {
                "count": result.count,
                "k": result.k,
                "effective_count": result.effective_count,
                "false_positive_rate": result.false_positive_rate,
                "false_negative_rate": result.false_negative_rate,
                "confidence_interval": {
                    "low": interval.low,
                    "high": interval.high,
                    "level": interval.level,
                },
            },
        }
    )
