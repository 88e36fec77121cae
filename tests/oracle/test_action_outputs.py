"""What the GitHub Action shows and returns: the Markdown job summary, step outputs, fail-on
levels, and the analyze options the Action calls (--also, --github-output, --mode auto)."""

from __future__ import annotations

import copy
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from adapters.backend import Backend
from service.oracle.summary import fail_on_exit, render_summary, step_outputs

from .conftest import fixture, run


@pytest.fixture
def report(keyed_backend: Backend) -> dict[str, Any]:
    return run(keyed_backend, fixture("md002", "failing"), dry_run=True).report


def test_summary_table_lists_every_finding_with_its_remediation(report: dict[str, Any]) -> None:
    text = render_summary(report)
    assert text.startswith("## Phase Mirror: WARN\n")
    rows = [line for line in text.splitlines() if line.startswith("| ") and "`" in line]
    assert len(rows) == len(report["findings"])
    for finding in report["findings"]:
        assert finding["remediation"].replace("|", "\\|") in text
    hostile = copy.deepcopy(report)
    hostile["findings"][0]["message"] = "a | b\n<script>x</script>"
    row = next(line for line in render_summary(hostile).splitlines() if "a \\| b" in line)
    assert "<script>" not in row and row.count(" | ") == 4


def test_step_outputs(report: dict[str, Any]) -> None:
    outputs = step_outputs(report, {"json": "r.json", "sarif": "r.sarif"})
    assert outputs["decision"] == "warn" and outputs["report-path"] == "r.json"
    assert outputs["sarif-path"] == "r.sarif" and outputs["findings"] == str(
        len(report["findings"])
    )
    assert int(outputs["critical"]) == report["machine_decision"]["counts"]["critical"]


@pytest.mark.parametrize(
    ("level", "code"),
    [("block", 0), ("warn", 1), ("never", 0), ("critical", 1), ("low", 1)],
)
def test_fail_on(report: dict[str, Any], level: str, code: int) -> None:
    assert fail_on_exit(report, level) == code  # a dry run: warn, with critical findings


def test_fail_on_never_softens_unable_to_vouch(report: dict[str, Any]) -> None:
    closed = copy.deepcopy(report)
    closed["machine_decision"]["exit_code"] = 2
    assert fail_on_exit(closed, "never") == 2


def test_analyze_writes_every_output_in_one_run(tmp_path: Path) -> None:
    home = tmp_path / "home"
    context = tmp_path / "ctx.json"
    context.write_text(json.dumps({"phase_mirror": {"mode": "drift"}}))
    outputs = tmp_path / "github_output"
    summary = tmp_path / "summary.md"
    summary.write_text("earlier step\n")
    env = {**os.environ, "PHASE_MIRROR_HOME": str(home)}
    env.pop("PHASE_MIRROR_BACKEND", None)
    result = subprocess.run(
        [
            sys.executable, "-m", "service.cli.main", "analyze", str(fixture("md002", "failing")),
            "--mode", "auto", "--context", str(context), "--format", "github", "--no-progress",
            "--also", f"sarif={tmp_path / 'r.sarif'}", "--also", f"json={tmp_path / 'r.json'}",
            "--also", f"summary={summary}", "--github-output", str(outputs),
            "--fail-on", "high", "--dry-run",
        ],
        env=env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert result.returncode == 1, result.stderr  # high findings, --fail-on high
    assert result.stdout.startswith("::error ")
    report = json.loads((tmp_path / "r.json").read_text())
    assert report["run"]["mode"] == "drift"  # from the context's event mode
    assert json.loads((tmp_path / "r.sarif").read_text())["version"] == "2.1.0"
    assert summary.read_text().startswith("earlier step\n## Phase Mirror: WARN")
    lines = dict(line.split("=", 1) for line in outputs.read_text().splitlines())
    assert lines["decision"] == "warn" and lines["report-path"] == str(tmp_path / "r.json")

    bad = subprocess.run(
        [sys.executable, "-m", "service.cli.main", "analyze", ".", "--also", "pdf=x"],
        env=env, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert bad.returncode == 64 and "unknown format 'pdf'" in bad.stderr
