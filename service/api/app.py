"""The FastAPI application factory."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import anyio
from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

from adapters.backend import Backend
from service.calibration.bootstrap import Calibration
from service.calibration.config import CalibrationConfig

from . import errors
from .metrics import new_registry
from .middleware import RequestContext
from .models import REQUEST_MODELS
from .routes import calibration, consent, health, ingest, nonce
from .scheduler import AnonymizerLoop

API_VERSION = "1.0.0"

DESCRIPTION = """\
Privacy-preserving false-positive calibration for Phase Mirror rules.

Certified implementations submit events with an API key; org ids and claims are stored only
envelope-encrypted, orgs are pseudonymised with a keyed HMAC, and aggregates are revealed only
for cohorts of at least k distinct orgs. Every error body is JSON with `status`, `code` and
`message`; a backend outage is 503 with `Retry-After`, never 500.
"""


def create_app(
    backend: Backend,
    config: CalibrationConfig | None = None,
    *,
    access_log: bool = True,
    run_scheduler: bool = False,
    close_backend: bool = False,
) -> FastAPI:
    """The API over `backend`. `run_scheduler` runs the anonymizer in the background every
    `config.anonymize_every_seconds`; `close_backend` closes the backend on shutdown."""
    config = config or CalibrationConfig()
    service = Calibration.build(backend, config)
    registry = new_registry()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        app.state.limiter = anyio.CapacityLimiter(config.threads_for(backend.storage_threads))
        loop = None
        if run_scheduler and config.anonymize_every_seconds > 0:
            loop = AnonymizerLoop(service, config.anonymize_every_seconds)
            loop.start()
        try:
            yield
        finally:
            if loop is not None:
                loop.stop()
            if close_backend:
                backend.close()

    app = FastAPI(
        title="Phase Mirror calibration service",
        version=API_VERSION,
        description=DESCRIPTION,
        lifespan=lifespan,
    )
    app.state.calibration = service
    app.state.metrics = registry
    # Also set here so an app used without its lifespan (e.g. a bare TestClient) still works.
    app.state.limiter = anyio.CapacityLimiter(config.threads_for(backend.storage_threads))
    errors.install(app)
    for module in (ingest, nonce, consent, calibration, health):
        app.include_router(module.router)
    app.add_middleware(
        RequestContext, max_body=config.max_body_bytes, metrics=registry, access_log=access_log
    )
    app.openapi = lambda: _openapi(app)  # type: ignore[method-assign]
    return app


def _openapi(app: FastAPI) -> dict[str, Any]:
    """FastAPI's document plus the bodies the routes validate themselves."""
    if app.openapi_schema is None:
        schema = get_openapi(
            title=app.title,
            version=app.version,
            description=app.description,
            routes=app.routes,
        )
        components = schema.setdefault("components", {}).setdefault("schemas", {})
        for model in REQUEST_MODELS:
            body = model.model_json_schema(ref_template="#/components/schemas/{model}")
            for name, definition in body.pop("$defs", {}).items():
                components.setdefault(name, definition)
            components[model.__name__] = body
        app.openapi_schema = schema
    return app.openapi_schema
