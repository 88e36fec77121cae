"""The service started exactly as the image's command starts it (the Dockerfile's CMD, as
`deploy/container.py` parses it, run from this venv with `PORT` set), on the GCP backend against
the Firestore emulator, fake-gcs-server and drongo, passes `phase-mirror smoke` with a key made
by `phase-mirror keys create` against that backend: what the Cloud Run service runs, minus the
container and Google's front end."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from adapters.config import ENV_BACKEND
from adapters.gcp.spec import HEALTH_PATH
from deploy import container
from deploy.container import DOCKERFILE, final_command, parse_dockerfile, stages
from tests.support.gcp_backend import GcpEmulators

pytestmark = pytest.mark.gcp


def image_command_here() -> tuple[list[str], dict[str, str]]:
    """The final stage's exact CMD and ENV, `python` = this venv's, image paths = sources."""
    final = stages(parse_dockerfile(DOCKERFILE.read_text(encoding="utf-8")))[1][-1]
    sources = container.copy_sources(final)
    argv = [
        sys.executable if arg == "python" else str(sources.get(arg, arg))
        for arg in final_command(final)
    ]
    env = container.runtime_environment(final)
    env.pop("PATH")  # it names the image's venv; this venv stands for it
    env.pop("VENV")
    return argv, env


def cli(backend: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "service.cli.main", "--backend", backend, *args],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def wait_healthy(port: int, process: subprocess.Popen[bytes], log: Path, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    url = f"http://127.0.0.1:{port}{HEALTH_PATH}"
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"the image's command exited with {process.returncode}:\n{log.read_text()}")
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass
        time.sleep(0.3)
    pytest.fail(f"{url} did not answer 200 within {timeout:.0f} s:\n{log.read_text()}")


def test_the_image_command_on_the_gcp_backend_passes_smoke(
    gcp_emulators: GcpEmulators, tmp_path: Path
) -> None:
    # A fresh stack on the emulators, made the way an operator bootstraps one.
    backend = gcp_emulators.url(f"pmimg{os.getpid() % 100000}")
    made = cli(backend, "bootstrap")
    assert made.returncode == 0, made.stdout + made.stderr
    created = cli(backend, "keys", "create", "--name", "smoke", "--json")
    assert created.returncode == 0, created.stderr
    key = json.loads(created.stdout)["key"]

    argv, image_env = image_command_here()
    port = container.free_port()
    env = container.service_environment(
        {"PATH": "/usr/bin:/bin", **image_env},
        port,
        tmp_path,
        # What Cloud Run's service sets (platform/phase_platform/gcp/compute.py).
        {ENV_BACKEND: backend, "PHASE_MIRROR_ANONYMIZE_EVERY_SECONDS": "0"},
    )
    assert env["PHASE_MIRROR_HOST"] == "127.0.0.1"  # loopback only
    log = tmp_path / "server.log"
    with log.open("wb") as output:
        process = subprocess.Popen(argv, env=env, cwd=tmp_path, stdout=output, stderr=output)
        try:
            wait_healthy(port, process, log, timeout=90)
            smoke = subprocess.run(
                [
                    *(sys.executable, "-m", "service.cli.main", "smoke"),
                    *("--endpoint", f"http://127.0.0.1:{port}", "--key", key, "--json"),
                ],
                capture_output=True,
                text=True,
                timeout=180,
                check=False,
            )
        finally:
            container.stop(process)
    assert smoke.returncode == 0, smoke.stdout + smoke.stderr + log.read_text()
    report = json.loads(smoke.stdout)
    assert report["ok"] is True
    assert {step["result"] for step in report["steps"]} == {"pass"}
