"""The ASGI entry point uvicorn imports in each worker process (`factory=True`).

`phase-mirror serve` bootstraps the backend once, then hands the backend setting and the service
settings to the workers through the environment, so every worker opens the same backend.
"""

from __future__ import annotations

import os

from fastapi import FastAPI

from adapters.backend import open_backend
from service.calibration.config import CalibrationConfig

from . import logs
from .app import create_app

ENV_ACCESS_LOG = "PHASE_MIRROR_ACCESS_LOG"
ENV_LOG_LEVEL = "PHASE_MIRROR_LOG_LEVEL"


def app() -> FastAPI:
    logs.configure(os.environ.get(ENV_LOG_LEVEL, "info"))
    backend = open_backend()
    return create_app(
        backend,
        CalibrationConfig.from_env(),
        access_log=os.environ.get(ENV_ACCESS_LOG, "1") != "0",
        run_scheduler=True,
        close_backend=True,
    )
