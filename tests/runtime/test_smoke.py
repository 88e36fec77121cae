"""`phase-mirror smoke` passes against `phase-mirror serve` (local backend; AWS backend on moto),
can be rerun against the same stack, and fails naming the step against a server that answers
one contract code wrongly."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from adapters.clock import SystemClock
from service.api.app import create_app
from service.calibration.bootstrap import Calibration, bootstrap
from service.calibration.config import CalibrationConfig
from tests.api.servers import in_thread, serve_process
from tests.support.backends import BackendFactory
from tests.support.emulators import free_port

SMOKE_KEY = "smoke-test-key-0001"


def smoke(
    endpoint: str, *args: str, key: str | None = SMOKE_KEY
) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "PHASE_MIRROR_SMOKE_KEY"}
    if key is not None:
        env["PHASE_MIRROR_SMOKE_KEY"] = key  # the CI way: the key in the environment
    return subprocess.run(
        [sys.executable, "-m", "service.cli.main", "smoke", "--endpoint", endpoint, *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def passed(result: subprocess.CompletedProcess[str]) -> dict[str, Any]:
    assert result.returncode == 0, result.stdout + result.stderr
    report: dict[str, Any] = json.loads(result.stdout)
    assert report["ok"] is True
    assert [s["result"] for s in report["steps"]] == ["pass"] * 10, report
    return report


def test_passes_against_serve_on_the_local_backend(tmp_path: Path) -> None:
    home = tmp_path / "home"
    home.mkdir()
    with serve_process(home) as url:
        key = (home / "bootstrap-api-key").read_text().strip()
        first = passed(smoke(url, "--json", key=key))
        second = passed(smoke(url + "/", "--json", "--key", key, key=None))  # rerun: fresh ids
        assert first["org"] != second["org"]
        text = smoke(url, key=key)
        assert text.returncode == 0, text.stdout
        assert "query-k-anonymity" in text.stdout
        assert text.stdout.rstrip().endswith("smoke: all 10 steps as the contract says")


@pytest.mark.aws
def test_passes_against_serve_on_the_aws_backend(
    aws_backend_factory: BackendFactory, tmp_path: Path
) -> None:
    backend = aws_backend_factory(SystemClock())
    try:
        service = Calibration.build(backend, CalibrationConfig())
        service.keys.import_key(SMOKE_KEY, "smoke", "phase-mirror-smoke")
        # The backend as a deployment gives it: the stack outputs' backendUrl.
        outputs = tmp_path / "outputs.json"
        outputs.write_text(json.dumps({"backendUrl": backend.setting.url}))
        home = tmp_path / "home"
        home.mkdir()
        with serve_process(home, env={"PHASE_MIRROR_STACK_OUTPUTS": str(outputs)}) as url:
            passed(smoke(url, "--json"))
    finally:
        backend.close()


def turning_409_into_202(app: Any) -> Any:
    """A server that answers one contract code wrongly: a duplicate is 'accepted'."""

    async def wrapped(scope: Any, receive: Any, send: Any) -> None:
        async def patched(message: Any) -> None:
            if message["type"] == "http.response.start" and message["status"] == 409:
                message = {**message, "status": 202}
            await send(message)

        await app(scope, receive, patched)

    return wrapped


def test_fails_naming_the_step_against_a_wrong_server(
    local_backend_factory: BackendFactory,
) -> None:
    backend = local_backend_factory(SystemClock())  # the smoke sends real timestamps
    app = create_app(backend, CalibrationConfig(), access_log=False)
    bootstrap(backend, app.state.calibration.keys)
    app.state.calibration.keys.import_key(SMOKE_KEY, "smoke", "phase-mirror-smoke")
    try:
        with in_thread(turning_409_into_202(app)) as url:
            text = smoke(url)
            report = json.loads(smoke(url, "--json").stdout)
    finally:
        backend.close()
    assert text.returncode == 1, text.stdout
    assert "[FAIL] ingest-duplicate" in text.stdout
    assert "expected 409 DUPLICATE" in text.stdout and "got 202 DUPLICATE" in text.stdout
    assert "smoke: DEVIATION in 1 of 10 steps (ingest-duplicate)" in text.stdout
    failed = [s for s in report["steps"] if s["result"] != "pass"]
    assert [(s["name"], s["expected"], s["got"]) for s in failed] == [
        ("ingest-duplicate", "409 DUPLICATE", "202 DUPLICATE")
    ]


def test_usage_errors() -> None:
    no_key = smoke("http://127.0.0.1:9", key=None)
    assert no_key.returncode == 64
    assert "PHASE_MIRROR_SMOKE_KEY" in no_key.stderr and "keys create" in no_key.stderr
    bad = smoke("ftp://example.invalid")
    assert bad.returncode == 64 and "not an http(s) URL" in bad.stderr
    assert "Traceback" not in no_key.stderr + bad.stderr


def test_an_endpoint_that_does_not_answer_fails_every_step() -> None:
    result = smoke(f"http://127.0.0.1:{free_port()}", "--timeout", "2")
    assert result.returncode == 1
    assert "[FAIL] health" in result.stdout and "no answer" in result.stdout
