"""`phase-mirror verify-pitr`: every durable store restorable to a point in time.

aws runs against the moto server (DescribeContinuousBackups is faithful there); gcp against the
Firestore emulator, which has no Admin API, so the tests pin what the command says there and
check the verdict on real `firestore_admin_v1.Database` messages; the local backend has nothing
to verify.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from google.cloud.firestore_admin_v1.types import Database

from adapters.aws.driver import AwsDriver
from adapters.backend import Backend
from adapters.catalog import STORES, durable_stores
from adapters.clock import FakeClock
from adapters.config import parse_backend_url
from adapters.gcp.settings import GcpSettings, parse_settings
from adapters.gcp.verify import pitr_check
from adapters.operations import NOT_REPORTED, Check, CheckStatus
from service.cli.common import EXIT_CONFIG, EXIT_FAIL, EXIT_OK, EXIT_UNAVAILABLE
from service.cli.main import main
from tests.support.aws_backend import aws_url, fresh_prefix
from tests.support.backends import BackendFactory
from tests.support.emulators import Emulator, free_port
from tests.support.gcp_backend import GcpEmulators


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_local_backend_has_nothing_to_verify(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = run(capsys, "--backend", f"local://{tmp_path}", "verify-pitr")
    assert code == EXIT_OK
    assert "nothing to verify" in out and "back up its data directory" in out
    code, out, _ = run(capsys, "verify-pitr", "--backend", f"local://{tmp_path}", "--json")
    report = json.loads(out)
    assert code == EXIT_OK and report["ok"] is True and report["checks"] == []
    assert report["verified"] is False and "nothing to verify" in report["note"]


def test_help_names_both_clouds_and_the_runbook(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as done:
        main(["verify-pitr", "--help"])
    out = capsys.readouterr().out
    assert done.value.code == 0
    for text in ("DescribeContinuousBackups", "Firestore", "--stack", "--json", "--backend"):
        assert text in out
    assert "pitr-verification.md" in out


def test_an_unreported_check_carries_its_status_and_the_one_phrase() -> None:
    check = Check.unreported("pitr x", "the emulator has no Admin API")
    assert check.status is CheckStatus.NOT_REPORTED and check.ok
    assert check.detail == f"{NOT_REPORTED}: the emulator has no Admin API"
    assert not Check.failed("pitr x", "off").ok


# ---------------------------------------------------------------------------- aws (moto)


@pytest.fixture
def aws(aws_backend_factory: BackendFactory, clock: FakeClock) -> Iterator[Backend]:
    backend = aws_backend_factory(clock)
    yield backend
    backend.close()


def aws_driver(backend: Backend) -> AwsDriver:
    assert isinstance(backend.driver, AwsDriver)
    return backend.driver


@pytest.mark.aws
def test_aws_every_durable_table_and_only_those(aws: Backend) -> None:
    checks = aws_driver(aws).operator.verify_pitr()
    prefix = aws_driver(aws).target.prefix
    assert [c.name for c in checks] == [f"pitr {s.physical_name(prefix)}" for s in durable_stores()]
    assert len(checks) < len(STORES)  # ephemeral tables (counters, nonces) are not checked
    assert all(c.ok for c in checks), checks
    assert all("ENABLED" in c.detail and "restorable from" in c.detail for c in checks)


@pytest.mark.aws
def test_aws_cli_json_on_a_provisioned_stack(
    aws: Backend, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run(capsys, "--backend", aws.setting.url, "verify-pitr", "--json")
    assert code == EXIT_OK, err
    report = json.loads(out)  # stdout is the report only; progress goes to stderr
    assert report["ok"] is True and report["verified"] is True
    assert {c["status"] for c in report["checks"]} == {"ok"}
    assert len(report["checks"]) == len(durable_stores())
    assert "checking" in err


@pytest.mark.aws
def test_aws_pitr_off_fails_and_names_the_table_and_the_fix(
    aws: Backend, capsys: pytest.CaptureFixture[str]
) -> None:
    driver = aws_driver(aws)
    table = durable_stores()[1].physical_name(driver.target.prefix)
    driver.clients.dynamodb.update_continuous_backups(
        TableName=table,
        PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": False},
    )
    code, out, _ = run(capsys, "--backend", aws.setting.url, "verify-pitr")
    assert code == EXIT_FAIL
    failed = [line for line in out.splitlines() if "[FAIL]" in line]
    assert len(failed) == 1 and table in failed[0] and "DISABLED" in failed[0]
    assert f"update-continuous-backups --table-name {table}" in out
    assert f"{len(durable_stores()) - 1} verified, 1 failed" in out
    report = json.loads(run(capsys, "--backend", aws.setting.url, "verify-pitr", "--json")[1])
    assert report["ok"] is False
    assert [c["name"] for c in report["checks"] if c["status"] == "failed"] == [f"pitr {table}"]


@pytest.mark.aws
def test_aws_missing_tables_are_listed_with_the_bootstrap_hint(
    moto_server: Emulator, capsys: pytest.CaptureFixture[str]
) -> None:
    url = aws_url(moto_server.endpoint, fresh_prefix())  # nothing created under this prefix
    code, out, _ = run(capsys, "--backend", url, "verify-pitr", "--json")
    report = json.loads(out)
    assert code == EXIT_FAIL
    assert [c["status"] for c in report["checks"]] == ["failed"] * len(durable_stores())
    assert all("table missing" in c["detail"] for c in report["checks"])
    assert all("phase-mirror bootstrap" in c["fix"] for c in report["checks"])


@pytest.mark.aws
def test_aws_from_stack_outputs(
    aws: Backend, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    outputs = tmp_path / "outputs.json"
    outputs.write_text(json.dumps({"backendUrl": aws.setting.url}))
    code, out, _ = run(capsys, "verify-pitr", "--stack", str(outputs))
    assert code == EXIT_OK and "(from PHASE_MIRROR_STACK_OUTPUTS=" in out
    code, _, err = run(capsys, "verify-pitr", "--stack", str(tmp_path / "missing.json"))
    assert code == EXIT_CONFIG and "pulumi stack output --json" in err


@pytest.mark.aws
def test_aws_unreachable_endpoint_is_exit_69_without_traceback(
    moto_server: Emulator, capsys: pytest.CaptureFixture[str]
) -> None:
    url = aws_url(f"http://127.0.0.1:{free_port()}", fresh_prefix())
    code, out, err = run(capsys, "--backend", url, "verify-pitr")
    assert code == EXIT_UNAVAILABLE
    assert out == "" and "cannot reach" in err and "Traceback" not in err


# ---------------------------------------------------------------------------- gcp


@pytest.mark.gcp
def test_gcp_emulator_says_not_reported_and_why(
    gcp_emulators: GcpEmulators, capsys: pytest.CaptureFixture[str]
) -> None:
    url = gcp_emulators.url("pmpitr")
    code, out, _ = run(capsys, "--backend", url, "verify-pitr", "--json")
    report = json.loads(out)
    assert code == EXIT_OK
    (check,) = report["checks"]
    assert check["name"] == "pitr projects/phase-mirror-test/databases/(default)"
    assert check["status"] == "not-reported" and check["detail"].startswith(NOT_REPORTED)
    assert "no Admin API" in check["detail"] and gcp_emulators.firestore.endpoint in check["detail"]
    assert report["ok"] is True and report["verified"] is False
    code, out, _ = run(capsys, "--backend", url, "verify-pitr")
    assert "[n/a]" in out and "0 verified, 0 failed, 1 not reported by this endpoint" in out


def _settings() -> GcpSettings:
    return parse_settings(parse_backend_url("gcp://my-project-1?prefix=pmx&database=pmx"))


def test_gcp_verdict_on_a_database_with_pitr_enabled() -> None:
    database = Database(
        name="projects/my-project-1/databases/pm",
        point_in_time_recovery_enablement=Database.PointInTimeRecoveryEnablement.POINT_IN_TIME_RECOVERY_ENABLED,
        version_retention_period=timedelta(days=7),
        earliest_version_time=datetime(2026, 3, 1, 12, 0, tzinfo=UTC),
    )
    check = pitr_check("pitr db", database, _settings())
    assert check.ok
    assert check.detail == (
        "point-in-time recovery enabled; versions kept 7 days, restorable from 2026-03-01T12:00:00Z"
    )


@pytest.mark.parametrize(
    "enablement",
    [
        Database.PointInTimeRecoveryEnablement.POINT_IN_TIME_RECOVERY_DISABLED,
        Database.PointInTimeRecoveryEnablement.POINT_IN_TIME_RECOVERY_ENABLEMENT_UNSPECIFIED,
    ],
)
def test_gcp_verdict_on_a_database_without_pitr(
    enablement: Database.PointInTimeRecoveryEnablement,
) -> None:
    database = Database(point_in_time_recovery_enablement=enablement)
    check = pitr_check("pitr db", database, _settings())
    assert not check.ok and enablement.name in check.detail
    assert "gcloud firestore databases update --database='pmx' --enable-pitr" in check.fix
    assert "--project=my-project-1" in check.fix and "pulumi up" in check.fix


def test_gcp_without_credentials_is_exit_78_and_sends_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # A real-project setting (no emulator endpoint) whose credentials file does not exist:
    # google-auth fails before any request, so nothing leaves the machine.
    monkeypatch.setenv("GOOGLE_APPLICATION_CREDENTIALS", str(tmp_path / "absent.json"))
    code, out, err = run(capsys, "--backend", "gcp://my-project-1?prefix=pmx", "verify-pitr")
    assert code == EXIT_CONFIG
    assert out == "" and "no Google credentials" in err and "Traceback" not in err
