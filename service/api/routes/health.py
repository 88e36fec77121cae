"""GET /healthz (process up), /readyz (backend reachable), /metrics (Prometheus text)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, PlainTextResponse

from ..errors import ApiError
from ..plumbing import calibration, metrics, offload

router = APIRouter(tags=["operations"])


@router.get("/healthz", summary="The process is up (no backend call)")
async def healthz() -> JSONResponse:
    return JSONResponse({"status": "ok"})


@router.get("/readyz", summary="The backend answers and the anonymizer salt is readable")
async def readyz(request: Request) -> JSONResponse:
    service = calibration(request)

    def probe() -> str:
        # One strongly consistent read of a store (API keys) and one of the secret store.
        service.backend.api_keys.get("readyz-probe")
        return service.pseudonyms.current().version

    try:
        salt_version = await offload(request, probe)
    except ApiError:
        raise
    except Exception as error:
        raise ApiError(
            503,
            "NOT_READY",
            f"backend not ready: {type(error).__name__}: {error}",
            retry_after=5,
        ) from None
    return JSONResponse(
        {"status": "ok", "backend": service.backend.name, "salt_version": salt_version}
    )


@router.get("/metrics", summary="Prometheus metrics of this worker process")
async def prometheus(request: Request) -> PlainTextResponse:
    backend_metrics = calibration(request).backend.metrics
    totals = getattr(backend_metrics, "totals", {})
    extra = [
        (
            f"phase_mirror_catalog_{name.lower()}",
            f"Catalog metric {name} emitted by this worker.",
            float(value),
        )
        for name, value in sorted(totals.items())
    ]
    return PlainTextResponse(
        metrics(request).render(extra), media_type="text/plain; version=0.0.4; charset=utf-8"
    )
