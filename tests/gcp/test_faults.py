"""Faults: a dead endpoint is `Unavailable`; a missing resource or credential is
`Misconfigured`, naming the resource and how to create it."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import pytest
from google.api_core import exceptions as gx

from adapters.backend import Backend, open_backend
from adapters.catalog import Metric, Secret, Store
from adapters.errors import Conflict, Misconfigured, NotFound, Throttled, Unavailable
from adapters.gcp.errors import map_error
from service.cli.main import main
from tests.support.emulators import free_port

pytestmark = pytest.mark.gcp

Operation = Callable[[Backend], object]
_HOUR = timedelta(hours=1)

OPERATIONS: dict[str, Operation] = {
    "firestore read": lambda b: b.table(Store.DEDUP).get({"dedupkey": "k"}),
    "firestore write": lambda b: b.dedup.claim("k", "v", ttl=_HOUR, at=b.clock.now()),
    "firestore consume": lambda b: b.nonces.consume("token"),
    "secret manager": lambda b: b.secrets.current(Secret.REDACTION_KEY),
    "cloud kms": lambda b: b.keys.encrypt(b"payload", b"aad"),
    "cloud storage": lambda b: b.baselines.get("repo/baseline.json"),
}


def dead_url() -> str:
    """Every endpoint on a loopback port nobody listens on: the emulators are down."""
    endpoints = "&".join(
        f"{service}_endpoint=http://127.0.0.1:{free_port()}"
        for service in ("firestore", "storage", "secretmanager", "kms")
    )
    return f"gcp://phase-mirror-test?prefix=pm-dead&{endpoints}"


@pytest.fixture
def dead_backend() -> Backend:
    return open_backend(dead_url())


@pytest.mark.parametrize("operation", OPERATIONS, ids=list(OPERATIONS))
def test_emulator_down_is_unavailable(dead_backend: Backend, operation: str) -> None:
    with pytest.raises(Unavailable, match=r"unreachable|gave up retrying"):
        OPERATIONS[operation](dead_backend)


def test_doctor_reports_a_dead_backend_instead_of_raising(dead_backend: Backend) -> None:
    checks = dead_backend.doctor()
    assert checks and not any(check.ok for check in checks)
    assert all(check.fix for check in checks)


def test_cli_doctor_exit_code_on_dead_backend(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--backend", dead_url(), "doctor", "--json"]) == 1
    report = json.loads(capsys.readouterr().out)
    assert report["ok"] is False


def test_missing_key_is_misconfigured_and_says_how_to_create_it(bare_backend: Backend) -> None:
    with pytest.raises(Misconfigured) as raised:
        bare_backend.keys.encrypt(b"x", b"aad")
    message = str(raised.value)
    assert "cryptoKeys/envelope" in message and "does not exist" in message
    assert "pulumi up" in message and "phase-mirror bootstrap" in message


@pytest.mark.parametrize(
    "operation",
    [
        lambda b: b.secrets.current(Secret.ANONYMIZER_SALT),
        lambda b: b.secrets.put(Secret.ANONYMIZER_SALT, "a" * 64),
        lambda b: b.secrets.disable(Secret.ANONYMIZER_SALT, "1"),
    ],
    ids=["current", "put", "disable"],
)
def test_missing_secret_is_misconfigured(bare_backend: Backend, operation: Operation) -> None:
    with pytest.raises(Misconfigured, match=r"secrets/pmx\w+-anonymizer-salt does not exist"):
        operation(bare_backend)


@pytest.mark.parametrize(
    "operation",
    [
        lambda b: b.baselines.get("k"),
        lambda b: b.baselines.put("k", b"data"),
        lambda b: b.baselines.versions("k"),
    ],
    ids=["get", "put", "versions"],
)
def test_missing_bucket_is_misconfigured(bare_backend: Backend, operation: Operation) -> None:
    with pytest.raises(Misconfigured, match=r"gs://pmx\w+-baselines does not exist.*bootstrap"):
        operation(bare_backend)


def test_missing_credentials_are_misconfigured(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    # No endpoint override: the real services, whose credentials lookup fails offline at once.
    monkeypatch.setenv("GOOGLE_APPLICATION_CREDENTIALS", str(tmp_path / "missing.json"))
    backend = open_backend("gcp://phase-mirror-test?prefix=pm-nocreds")
    with pytest.raises(Misconfigured, match="no Google credentials"):
        backend.fp_events.get("event")
    with pytest.raises(Misconfigured, match="no Google credentials"):
        backend.secrets.current(Secret.REDACTION_KEY)


def test_missing_composite_index_is_misconfigured() -> None:
    error = gx.FailedPrecondition("The query requires an index. You can create it here: https://x")
    mapped = map_error(error, "fp-events")
    assert isinstance(mapped, Misconfigured) and "composite index" in str(mapped)


@pytest.mark.parametrize(
    ("error", "kind"),
    [
        (gx.ServiceUnavailable("down"), Unavailable),
        (gx.DeadlineExceeded("slow"), Unavailable),
        (gx.PermissionDenied("no"), Misconfigured),
        (gx.Unauthenticated("who"), Misconfigured),
        (gx.TooManyRequests("slow down"), Throttled),
        (gx.Aborted("contention"), Throttled),
        (gx.AlreadyExists("dup"), Conflict),
        (gx.NotFound("gone"), NotFound),
    ],
)
def test_error_taxonomy(error: Exception, kind: type[Exception]) -> None:
    assert isinstance(map_error(error, "store"), kind)


def test_metrics_are_cloud_logging_json_lines(
    dead_backend: Backend, capsys: pytest.CaptureFixture[str]
) -> None:
    dead_backend.metrics.emit(Metric.CIRCUIT_BREAKER_TRIGGERS, RuleId="MD-001")
    line = json.loads(capsys.readouterr().err.strip().splitlines()[-1])
    assert line["metric"] == "CircuitBreakerTriggers" and line["labels"] == {"RuleId": "MD-001"}
    assert line["severity"] == "WARNING"
