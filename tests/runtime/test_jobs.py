"""The scheduled anonymizer: the schedule's event through `anonymize_handler`, and the Cloud Run
job's command, produce exactly the aggregates `phase-mirror anonymize` produces on the same data
(the calibration store compared item by item), idempotently; failures are clear and non-zero."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from typing import Any

import pytest

from adapters.backend import Backend
from adapters.catalog import STORES, Store
from adapters.clock import SystemClock
from adapters.table import key_of
from service.calibration.bootstrap import Calibration, bootstrap
from service.calibration.config import CalibrationConfig
from service.runtime.jobs import SCHEDULE_INPUT, JobFailed, anonymize_handler
from tests.support.backends import BackendFactory

from .events import LambdaContext

REPORT_FIELDS = ("salt_version", "scanned", "contributed", "already_counted", "skipped_revoked")


@pytest.fixture(
    params=[
        "local",
        pytest.param("aws", marks=pytest.mark.aws),
        pytest.param("gcp", marks=pytest.mark.gcp),
    ]
)
def stocked(request: pytest.FixtureRequest) -> Iterator[Backend]:
    """A backend (system clock: the CLI in a subprocess reads it too) with 14 raw events from
    12 orgs over two rules, one org revoked."""
    factory: BackendFactory = request.getfixturevalue(f"{request.param}_backend_factory")
    backend = factory(SystemClock())
    service = Calibration.build(backend, CalibrationConfig())
    bootstrap(backend, service.keys)
    service.keys.import_key("jobs-test-key-0001", "jobs", "impl")
    now_ms = int(backend.clock.now().timestamp() * 1000)
    for n in range(14):
        accepted = service.ingest.ingest(
            {
                "orgid": f"org-{n % 12}",
                "token": "jobs-test-key-0001",
                "ruleid": "MD-002" if n % 3 else "MD-101",
                "ruleversion": "1.0",
                "claim": {"input": f"claim {n}"},
                "outcome": "matched" if n % 4 else "not_matched",
                "actualOutcome": "should_not_have_matched" if n % 2 else "correct",
                "confidence": 0.8,
                "timestamp": now_ms - n * 1000,
                "environment": "test",
            }
        )
        assert accepted.event_id
    backend.consent.revoke("org-5", actor="test", at=backend.clock.now())
    yield backend
    backend.close()


def aggregates(backend: Backend) -> list[dict[str, Any]]:
    items = backend.table(Store.CALIBRATION).scan()
    return sorted((dict(item) for item in items), key=lambda i: (i["rulekey"], i["sk"]))


def clear_aggregates(backend: Backend) -> None:
    table = backend.table(Store.CALIBRATION)
    for item in list(table.scan()):
        table.delete(key_of(STORES[Store.CALIBRATION], item))
    assert aggregates(backend) == []


def cli(
    backend: Backend, *args: str, module: str = "service.cli.main"
) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PHASE_MIRROR_BACKEND": backend.setting.url}
    return subprocess.run(
        [sys.executable, "-m", module, *args], env=env, capture_output=True, text=True, timeout=120
    )


def test_the_schedule_event_makes_the_aggregates_of_phase_mirror_anonymize(
    stocked: Backend, monkeypatch: pytest.MonkeyPatch
) -> None:
    by_cli = cli(stocked, "anonymize", "--quiet")
    assert by_cli.returncode == 0, by_cli.stderr
    cli_report = json.loads(by_cli.stdout)
    assert cli_report["contributed"] == 13 and cli_report["skipped_revoked"] == 1, cli_report
    made_by_cli = aggregates(stocked)
    assert made_by_cli

    clear_aggregates(stocked)
    monkeypatch.setenv("PHASE_MIRROR_BACKEND", stocked.setting.url)
    # What EventBridge Scheduler delivers: the schedule's Input, as JSON, as the event.
    schedule_event = json.loads(json.dumps(SCHEDULE_INPUT))
    summary = anonymize_handler(schedule_event, LambdaContext(function_name="anonymizer"))
    assert {f: summary[f] for f in REPORT_FIELDS} == {f: cli_report[f] for f in REPORT_FIELDS}
    assert summary["job"] == "anonymize" and summary["backend"] == stocked.name
    assert aggregates(stocked) == made_by_cli

    again = anonymize_handler({}, LambdaContext())  # a manual test invoke: empty event
    assert again["contributed"] == 0 and again["already_counted"] == 13, again
    assert aggregates(stocked) == made_by_cli


def test_the_cloud_run_job_command_prints_its_summary(stocked: Backend) -> None:
    first = cli(stocked, module="service.runtime.jobs")
    assert first.returncode == 0, first.stderr
    summary = json.loads(first.stdout)  # stdout holds the JSON summary only
    assert summary["contributed"] == 13 and summary["job"] == "anonymize"
    logs = [json.loads(line) for line in first.stderr.splitlines()]
    assert [entry["message"] for entry in logs][-1] == "anonymizer job done"
    made = aggregates(stocked)
    second = cli(stocked, module="service.runtime.jobs")
    assert second.returncode == 0 and json.loads(second.stdout)["already_counted"] == 13
    assert aggregates(stocked) == made
    cli_again = cli(stocked, "anonymize", "--quiet")
    assert json.loads(cli_again.stdout)["contributed"] == 0  # the CLI sees the job's work


def test_failures_are_clear_and_non_zero(monkeypatch: pytest.MonkeyPatch) -> None:
    env = {**os.environ, "PHASE_MIRROR_BACKEND": "aws://?region=us-east-1&prefix=Bad Prefix!"}
    failed = subprocess.run(
        [sys.executable, "-m", "service.runtime.jobs"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert failed.returncode == 78, failed.stderr
    assert failed.stdout == "" and "Traceback" not in failed.stderr
    assert "anonymizer job failed: Misconfigured" in failed.stderr

    usage = subprocess.run(
        [sys.executable, "-m", "service.runtime.jobs", "--now"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert usage.returncode == 64 and "usage" in usage.stderr

    monkeypatch.setenv("PHASE_MIRROR_BACKEND", env["PHASE_MIRROR_BACKEND"])
    with pytest.raises(JobFailed, match="anonymizer job failed: Misconfigured"):
        anonymize_handler(SCHEDULE_INPUT, LambdaContext())
    with pytest.raises(JobFailed, match="runs the 'anonymize' job"):
        anonymize_handler({"job": "rotate-salt"}, LambdaContext())
