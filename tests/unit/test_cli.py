"""The `phase-mirror` console command: help, version, doctor, demo, sweep, and bad settings."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from service.cli.main import COMMAND_MODULES, main


def run_cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "service.cli.main", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )


def test_version_and_help() -> None:
    version = run_cli("--version")
    assert version.returncode == 0 and version.stdout.startswith("phase-mirror ")
    helptext = run_cli("--help")
    assert helptext.returncode == 0
    for command in ("doctor", "demo", "sweep"):
        assert command in helptext.stdout


def test_every_subcommand_has_help() -> None:
    from service.cli.main import build_parser

    parser = build_parser()
    choices = parser._subparsers._group_actions[0].choices  # type: ignore[union-attr]
    assert len(choices) >= len(COMMAND_MODULES)
    for name, sub in choices.items():
        assert sub.description, f"{name} has no description"


def test_no_command_prints_help_and_exits_usage(capsys: pytest.CaptureFixture[str]) -> None:
    assert main([]) == 64
    assert "COMMAND" in capsys.readouterr().err


def test_unknown_option_is_a_usage_error() -> None:
    result = run_cli("doctor", "--nope")
    assert result.returncode == 64 and "unrecognized arguments" in result.stderr


def test_doctor_ok_on_local(tmp_path: Path) -> None:
    result = run_cli("--backend", f"local://{tmp_path}", "doctor", "--json")
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["ok"] and report["backend"] == f"local://{tmp_path}"
    assert {c["name"] for c in report["checks"]} >= {"store fp-events", "store consent-store"}


@pytest.mark.parametrize(
    ("setting", "expected"),
    [
        ("foo://x", "unknown backend scheme 'foo'"),
        ("aws://?prefix=phase-mirror-x&regoin=us-east-1", "unknown parameter(s) regoin"),
    ],
)
def test_doctor_on_a_bad_setting_says_what_and_how(setting: str, expected: str) -> None:
    result = run_cli("--backend", setting, "doctor")
    assert result.returncode == 78
    assert expected in result.stderr and "Traceback" not in result.stderr
    assert result.stdout == ""


def test_doctor_reads_the_environment_setting(tmp_path: Path) -> None:
    import os

    env = {**os.environ, "PHASE_MIRROR_BACKEND": "local:"}
    env["PHASE_MIRROR_BACKEND"] = "bogus://"
    result = run_cli("doctor", env=env)
    assert result.returncode == 78 and "PHASE_MIRROR_BACKEND" in result.stderr


def test_demo_exercises_every_store(tmp_path: Path) -> None:
    result = run_cli("--backend", f"local://{tmp_path}", "demo")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "9 of 9 steps ok" in result.stdout
    assert "FAIL" not in result.stdout


def test_sweep_reports_count(tmp_path: Path) -> None:
    result = run_cli("--backend", f"local://{tmp_path}", "sweep")
    assert result.returncode == 0 and "swept 0 expired item(s)" in result.stdout
