"""The ASGI entry point uvicorn imports in each worker process (`factory=True`).

`phase-mirror serve` bootstraps the backend once, then hands the backend setting and the service
settings to the workers through the environment, so every worker opens the same backend.
"""

from __future__ import annotations

import ctypes
import os
import signal
import sys
import threading
import time

from fastapi import FastAPI

from adapters.backend import open_backend
from service.calibration.config import CalibrationConfig

from . import logs
from .app import create_app
from .logs import ENV_ACCESS_LOG

#: The pid of the `serve` process that supervises the workers.
ENV_SUPERVISOR_PID = "PHASE_MIRROR_SUPERVISOR_PID"
_PR_SET_PDEATHSIG = 1


def app() -> FastAPI:
    exit_with_supervisor()
    logs.configure_from_env()
    backend = open_backend()
    return create_app(
        backend,
        CalibrationConfig.from_env(),
        access_log=os.environ.get(ENV_ACCESS_LOG, "1") != "0",
        run_scheduler=True,
        close_backend=True,
    )


def exit_with_supervisor() -> None:
    """In a worker of `serve --workers N`: shut down (SIGTERM: stop accepting, finish what is in
    flight, close the backend) as soon as the supervising `serve` process dies, even by SIGKILL,
    so no orphan keeps the port and keeps accepting writes.

    Linux arms PR_SET_PDEATHSIG; elsewhere a daemon thread polls the parent pid every second.
    A supervisor that died before the signal was armed is caught by comparing the parent pid."""
    expected = os.environ.get(ENV_SUPERVISOR_PID, "")
    if not expected.isdigit() or int(expected) == os.getpid():
        return  # one process: uvicorn serves inside `serve` itself
    supervisor = int(expected)
    if not _parent_death_signal(signal.SIGTERM):
        threading.Thread(
            target=_watch_parent, args=(supervisor,), name="supervisor-watch", daemon=True
        ).start()
    if os.getppid() != supervisor:
        os.kill(os.getpid(), signal.SIGTERM)


def _parent_death_signal(sig: signal.Signals) -> bool:
    if not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        return int(libc.prctl(_PR_SET_PDEATHSIG, int(sig), 0, 0, 0)) == 0
    except (OSError, AttributeError):
        return False


def _watch_parent(supervisor: int) -> None:
    while os.getppid() == supervisor:
        time.sleep(1.0)
    os.kill(os.getpid(), signal.SIGTERM)
