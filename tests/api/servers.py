"""Real HTTP servers for the tests, on free loopback ports: uvicorn in a thread over a given app,
or `phase-mirror serve` as a subprocess (stopped by its PID)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import uvicorn
from fastapi import FastAPI

from tests.support.emulators import free_port


def wait_ready(
    url: str, *, timeout: float = 30.0, process: subprocess.Popen[bytes] | None = None
) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise RuntimeError(f"server exited early with code {process.returncode}")
        try:
            if httpx.get(f"{url}/readyz", timeout=1.0).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    raise RuntimeError(f"{url} not ready after {timeout} s")


@contextmanager
def in_thread(app: FastAPI) -> Iterator[str]:
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_config=None, access_log=False)
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{port}"
    try:
        wait_ready(url)
        yield url
    finally:
        server.should_exit = True
        thread.join(timeout=10)


@contextmanager
def serve_process(
    home: Path, *, workers: int = 1, env: dict[str, str] | None = None
) -> Iterator[str]:
    """`phase-mirror serve` on the local backend in `home`; yields its base URL."""
    with serve_subprocess(home, workers=workers, env=env) as (url, _):
        yield url


@contextmanager
def serve_subprocess(
    home: Path, *, workers: int = 1, env: dict[str, str] | None = None, port: int | None = None
) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    """`phase-mirror serve` as `serve_process`, yielding its URL and process (on `port`, or a
    free one); stopped with SIGTERM by its PID unless the test already ended it."""
    port = port or free_port()
    environment = {**os.environ, "PHASE_MIRROR_HOME": str(home), **(env or {})}
    environment.pop("PHASE_MIRROR_BACKEND", None)
    log = (home.parent / f"serve-{port}.log").open("ab")
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "service.cli.main",
            "serve",
            "--port",
            str(port),
            "--workers",
            str(workers),
            "--no-access-log",
        ],
        env=environment,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_ready(url, process=process)
        yield url, process
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()
