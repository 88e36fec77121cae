"""The aws backend for the tests: a real moto server process on a free loopback port.

`moto_server` (session) starts it, waits until it answers, and stops it by PID. It is moto's
own server application (what the `moto_server` command runs) with one change: requests are
handled one at a time. DynamoDB makes every conditional write atomic; moto's threaded server
checks a condition and then writes without a lock, so concurrent requests can both pass a
condition (seen here: 4 of 48 concurrent counter increments lost). Serving requests one at a
time restores the per-request atomicity the conformance suite's concurrency tests rely on,
while clients still connect concurrently over real HTTP. The session's
process environment gets dummy credentials (never real ones) so that spawned child processes
opening `backend.setting.url` inherit them. Between test modules the server is reset
(`POST /moto-api/reset`); every backend uses its own prefix, so resets only reclaim memory.

`aws_backend_factory(clock)` returns a fresh backend under a new prefix whose catalog tables,
KMS key, SSM parameters and bucket were created the way `phase-mirror bootstrap` creates them.
"""

from __future__ import annotations

import importlib.util
import itertools
import os
import signal
import sys
import threading
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest

from adapters.aws.driver import AwsDriver
from adapters.backend import Backend, open_backend
from adapters.clock import Clock, SystemClock
from adapters.config import parse_backend_url

from .backends import BackendFactory
from .emulators import Emulator, find_executable, free_port, http_ready, start_emulator, unavailable

REGION = "us-east-1"
_REPO_ROOT = Path(__file__).resolve().parents[2]

#: Dummy credentials only: moto accepts anything, and no real key must ever reach a test.
DUMMY_ENV = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "testing",
    "AWS_DEFAULT_REGION": REGION,
    # Never ask the EC2/ECS metadata endpoints (off-loopback traffic) for credentials.
    "AWS_EC2_METADATA_DISABLED": "true",
}
#: Variables that could point boto3 at a real account or a developer's profile.
SCRUBBED_ENV = (
    "AWS_PROFILE",
    "AWS_DEFAULT_PROFILE",
    "AWS_ROLE_ARN",
    "AWS_WEB_IDENTITY_TOKEN_FILE",
    "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
    "AWS_CONTAINER_CREDENTIALS_FULL_URI",
    "AWS_ENDPOINT_URL",
)

_running: list[Emulator] = []


def aws_url(endpoint: str, prefix: str, *, region: str = REGION, **extra: str) -> str:
    return "aws://?" + urlencode(
        {"region": region, "prefix": prefix, "endpoint": endpoint, **extra}
    )


def dummy_environment(monkeypatch: pytest.MonkeyPatch, config_dir: Path) -> None:
    """Dummy credentials, no profile, and empty AWS config files in this process."""
    for name in SCRUBBED_ENV:
        monkeypatch.delenv(name, raising=False)
    for name, value in DUMMY_ENV.items():
        monkeypatch.setenv(name, value)
    empty = config_dir / "aws-config"
    empty.write_text("")
    monkeypatch.setenv("AWS_CONFIG_FILE", str(empty))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(empty))


def start_moto(
    log_dir: Path,
    *,
    name: str = "moto",
    env: dict[str, str] | None = None,
    serialized: bool = True,
) -> Emulator:
    """Start a moto server on a free loopback port (skips locally, fails under CI, if absent).

    `serialized=False` runs the stock `moto_server` command instead (fault tests)."""
    executable = find_executable("moto_server")
    if executable is None or importlib.util.find_spec("moto.server") is None:
        unavailable("moto_server is not installed: pip install 'moto[server]' (dev extra)")
        raise AssertionError("unreachable")
    port = free_port()
    if serialized:
        command = [sys.executable, "-m", __name__, str(port)]
        env = {**(env or {}), "PYTHONPATH": str(_REPO_ROOT)}
    else:
        command = [executable, "-H", "127.0.0.1", "-p", str(port)]
    return start_emulator(
        name,
        command,
        port=port,
        ready=http_ready(f"http://127.0.0.1:{port}/moto-api/"),
        log_dir=log_dir,
        env=env,
    )


def serve_serialized(port: int) -> None:
    """moto's server application on 127.0.0.1:`port`, one request at a time (see above)."""
    from moto.moto_server.werkzeug_app import (
        DomainDispatcherApplication,
        MotoRequestHandler,
        create_backend_app,
    )
    from werkzeug.serving import run_simple

    app = DomainDispatcherApplication(create_backend_app)
    lock = threading.Lock()

    def one_at_a_time(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        with lock:  # the whole request, body included, runs under the lock
            return list(app(environ, start_response))

    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    run_simple("127.0.0.1", port, one_at_a_time, threaded=True, request_handler=MotoRequestHandler)


def reset_moto(emulator: Emulator) -> None:
    request = urllib.request.Request(  # noqa: S310 - loopback only
        f"{emulator.endpoint}/moto-api/reset", method="POST"
    )
    with urllib.request.urlopen(request, timeout=10):  # noqa: S310 - loopback only
        pass


@pytest.fixture(scope="session")
def moto_server(
    emulator_logs: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Emulator]:
    with pytest.MonkeyPatch.context() as monkeypatch:
        dummy_environment(monkeypatch, tmp_path_factory.mktemp("aws-config"))
        emulator = start_moto(emulator_logs)
        _running.append(emulator)
        try:
            yield emulator
        finally:
            _running.remove(emulator)
            emulator.stop()


@pytest.fixture(autouse=True, scope="module")
def _reset_moto_between_modules() -> Iterator[None]:
    """Reset the session's moto server after each module that used it (never starts it)."""
    yield
    for emulator in _running:
        if emulator.process.poll() is None:
            reset_moto(emulator)


_prefixes = itertools.count()


def fresh_prefix() -> str:
    return f"pm{os.getpid() % 100000}-t{next(_prefixes)}"


def provision(url: str) -> None:
    """Create the catalog's resources for the setting, as `phase-mirror bootstrap` does."""
    driver = AwsDriver(parse_backend_url(url), SystemClock())
    try:
        driver.operator.provision()
    finally:
        driver.close()


@pytest.fixture(scope="session")
def aws_backend_factory(moto_server: Emulator) -> BackendFactory:
    def make(clock: Clock) -> Backend:
        url = aws_url(moto_server.endpoint, fresh_prefix())
        provision(url)
        return open_backend(url, clock=clock)

    return make


if __name__ == "__main__":
    serve_serialized(int(sys.argv[1]))
