"""Start and stop local emulators for the tests: loopback only, readiness-checked, stopped by PID.

Locally, a missing emulator skips its tests with the reason. Under `.ci/run`
(`PHASE_MIRROR_REQUIRE_EMULATORS=1`) a missing or broken emulator fails the run instead.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import pytest

REQUIRE_ENV = "PHASE_MIRROR_REQUIRE_EMULATORS"


def emulators_required() -> bool:
    return os.environ.get(REQUIRE_ENV, "") not in ("", "0", "false")


def unavailable(reason: str) -> None:
    """Skip (developer machine) or fail (CI) because an emulator cannot run."""
    if emulators_required():
        pytest.fail(f"required emulator unavailable: {reason}", pytrace=False)
    pytest.skip(reason)


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def http_ready(url: str) -> Callable[[], bool]:
    def check() -> bool:
        try:
            with urllib.request.urlopen(url, timeout=1) as response:  # noqa: S310 - loopback only
                return bool(response.status < 500)
        except urllib.error.HTTPError as error:
            return error.code < 500
        except OSError:
            return False

    return check


def find_executable(name: str) -> str | None:
    """An executable on PATH or next to the running interpreter (the project's venv)."""
    import sys

    beside = Path(sys.executable).parent / name
    if beside.exists():
        return str(beside)
    return shutil.which(name)


@dataclass
class Emulator:
    name: str
    process: subprocess.Popen[bytes]
    port: int
    log_path: Path

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def stop(self) -> None:
        """Stop by PID (its whole process group), escalating to SIGKILL."""
        if self.process.poll() is not None:
            return
        try:
            os.killpg(self.process.pid, signal.SIGTERM)
        except ProcessLookupError:
            return
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=10)


def start_emulator(
    name: str,
    command: Sequence[str],
    *,
    port: int,
    ready: Callable[[], bool],
    log_dir: Path,
    timeout: float = 60.0,
    env: dict[str, str] | None = None,
) -> Emulator:
    """Start `command` in its own process group, wait until `ready()` is true."""
    log_path = log_dir / f"{name}.log"
    log = log_path.open("wb")
    process = subprocess.Popen(
        list(command),
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
        env={**os.environ, **(env or {})},
    )
    emulator = Emulator(name, process, port, log_path)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            tail = log_path.read_text(errors="replace")[-2000:]
            unavailable(f"{name} exited with {process.returncode} at start-up:\n{tail}")
        if ready():
            return emulator
        time.sleep(0.1)
    emulator.stop()
    unavailable(f"{name} not ready on 127.0.0.1:{port} after {timeout:.0f}s (log: {log_path})")
    raise AssertionError("unreachable")


@pytest.fixture(scope="session")
def emulator_logs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("emulator-logs")
