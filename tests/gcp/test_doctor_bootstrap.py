"""`bootstrap` creates what the catalog names (on emulators only); `doctor` checks it."""

from __future__ import annotations

import json

import pytest

from adapters.backend import Backend
from adapters.config import parse_backend_url
from adapters.gcp.provision import _ensure, _Resource
from adapters.gcp.settings import parse_settings
from adapters.operations import Check
from service.cli.main import main

from .conftest import driver_of

pytestmark = pytest.mark.gcp


def by_name(checks: list[Check]) -> dict[str, Check]:
    return {check.name: check for check in checks}


def test_verify_only_creates_nothing_and_reports_what_is_missing(bare_backend: Backend) -> None:
    for _ in range(2):
        checks = driver_of(bare_backend).operator.bootstrap(verify_only=True)
        assert by_name(checks)["firestore"].ok
        failed = [check for check in checks if not check.ok]
        # crypto key (and so the round trip), two secrets, bucket: all missing, each with a fix
        assert len(failed) == 5
        assert all("pulumi up" in c.fix for c in failed)


def test_bootstrap_creates_then_finds_everything(bare_backend: Backend) -> None:
    driver = driver_of(bare_backend)
    first = driver.operator.bootstrap()
    assert all(c.ok for c in first), [c for c in first if not c.ok]
    assert [c.detail for c in first[:5]] == ["created"] * 5  # key ring, key, 2 secrets, bucket
    assert by_name(first)["cloud kms encrypt/decrypt"].ok  # then the doctor's checks
    again = driver.operator.bootstrap()
    assert [c.detail for c in again[:5]] == ["exists"] * 5
    assert all(c.ok for c in driver.operator.bootstrap(verify_only=True))


def test_cli_bootstrap_then_verify(bare_url: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--backend", bare_url, "bootstrap", "--verify-only"]) == 1
    assert main(["--backend", bare_url, "bootstrap", "--json"]) == 0
    assert main(["--backend", bare_url, "bootstrap", "--verify-only", "--json"]) == 0
    report = json.loads(capsys.readouterr().out.strip().split("\n}\n")[-1])
    assert report["ok"] is True and report["verify_only"] is True


def test_doctor_on_a_bootstrapped_backend(gcp_backend: Backend) -> None:
    checks = by_name(gcp_backend.doctor())
    assert all(check.ok for check in checks.values()), checks
    assert "not reported" in checks["firestore point-in-time recovery"].detail
    assert "rotation period not reported" in checks["cloud kms key"].detail
    secret = next(c for name, c in checks.items() if name.endswith("-redaction-key"))
    assert "0 enabled version(s)" in secret.detail and "rotate-secret" in secret.detail


def test_doctor_names_what_is_missing_and_how_to_fix_it(bare_backend: Backend) -> None:
    checks = bare_backend.doctor()
    assert by_name(checks)["firestore"].ok
    failed = [check for check in checks if not check.ok]
    assert {c.name.split(" ")[0] for c in failed} == {"cloud", "secret", "bucket"}
    assert all(c.fix for c in failed)
    assert any("does not exist" in c.detail for c in failed)


def test_doctor_flags_a_bucket_without_versioning(bare_backend: Backend) -> None:
    driver = driver_of(bare_backend)
    driver.clients.storage.create_bucket(driver.settings.bucket)  # versioning off
    check = by_name(bare_backend.doctor())[f"bucket gs://{driver.settings.bucket}"]
    assert not check.ok and "versioning is OFF" in check.detail and "--versioning" in check.fix


def test_cli_doctor_json_on_a_bootstrapped_backend(
    gcp_backend: Backend, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["--backend", gcp_backend.setting.url, "doctor", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["ok"] is True and report["backend"] == gcp_backend.setting.url


def test_bootstrap_never_creates_on_a_real_project() -> None:
    settings = parse_settings(parse_backend_url("gcp://my-project?prefix=pmx"))
    created: list[str] = []
    resource = _Resource(
        "bucket gs://pmx-baselines", "storage", lambda: False, lambda: created.append("x"), ""
    )
    check = _ensure(settings, resource)
    assert not check.ok and "only on emulator endpoints" in check.detail and created == []
