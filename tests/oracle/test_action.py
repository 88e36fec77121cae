"""The GitHub Action (action.yml) and the pre-commit hook, as far as they run offline: the
Action's own steps are pinned to commit SHAs with version comments and never splice `${{ }}`
into shell; its context, analyze and enforce scripts run here in bash, as the runner would run
them, with a recorded event payload, the GitHub API on a loopback server and an unreachable
calibration endpoint; the hook's entry runs on workflow files."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import yaml

from tests.support.emulators import free_port

from .conftest import fixture
from .github_server import RECORDED, fake_github, widgets_api

ROOT = Path(__file__).resolve().parents[2]
ACTION = yaml.safe_load((ROOT / "action.yml").read_text())
STEPS: list[dict[str, Any]] = ACTION["runs"]["steps"]
EXPRESSION = re.compile(r"\$\{\{\s*(.*?)\s*\}\}")


def test_own_steps_are_pinned_with_version_comments() -> None:
    text = (ROOT / "action.yml").read_text()
    uses = [step["uses"] for step in STEPS if "uses" in step]
    assert uses, "the action uses setup-python and upload-sarif"
    for reference in uses:
        assert re.fullmatch(r"[\w.-]+/[\w./-]+@[0-9a-f]{40}", reference), reference
        assert re.search(re.escape(reference) + r" # v\d+\.\d+\.\d+\n", text), reference
    assert ACTION["runs"]["using"] == "composite"
    assert {"decision", "exit-code", "report-path", "sarif-path", "critical"} <= set(
        ACTION["outputs"]
    )
    assert {"mode", "strict", "dry-run", "config", "backend", "calibration-endpoint",
            "calibration-key", "fail-on"} <= set(ACTION["inputs"])  # fmt: skip


def test_no_expression_is_spliced_into_a_script() -> None:
    for step in STEPS:
        if "run" in step:
            assert "${{" not in step["run"], step["name"]
            assert step["shell"] == "bash"


def _resolve(value: str, inputs: dict[str, str], outputs: dict[str, str]) -> str:
    def one(match: re.Match[str]) -> str:
        expression = match.group(1)
        if expression.startswith("inputs."):
            name = expression.removeprefix("inputs.")
            return inputs.get(name, str(ACTION["inputs"][name].get("default", "")))
        if expression.startswith("steps.analyze.outputs."):
            return outputs.get(expression.removeprefix("steps.analyze.outputs."), "")
        if expression == "github.action_path":
            return str(ROOT)
        raise AssertionError(f"unexpected expression {expression}")

    return EXPRESSION.sub(one, value)


def _run_step(
    name: str, env: dict[str, str], inputs: dict[str, str], outputs: dict[str, str]
) -> subprocess.CompletedProcess[str]:
    step = next(s for s in STEPS if s["name"] == name)
    step_env = {k: _resolve(str(v), inputs, outputs) for k, v in step.get("env", {}).items()}
    return subprocess.run(
        ["bash", "-e", "-c", step["run"]],
        env={**env, **step_env}, capture_output=True, text=True, timeout=180,
    )  # fmt: skip


def _outputs(path: Path) -> dict[str, str]:
    return dict(line.split("=", 1) for line in path.read_text().splitlines() if "=" in line)


def test_context_analyze_and_enforce_steps_run(tmp_path: Path) -> None:
    repo = tmp_path / "checkout"
    shutil.copytree(fixture("md002", "failing"), repo)
    runner_temp = tmp_path / "runner"
    runner_temp.mkdir()
    github_output = tmp_path / "github_output"
    summary = tmp_path / "step_summary"
    env = {
        "PATH": f"{Path(sys.executable).parent}:/usr/bin:/bin",
        "HOME": str(tmp_path),
        "PHASE_MIRROR_HOME": str(tmp_path / "pm-home"),
        "RUNNER_TEMP": str(runner_temp),
        "GITHUB_OUTPUT": str(github_output),
        "GITHUB_STEP_SUMMARY": str(summary),
        "GITHUB_EVENT_NAME": "pull_request",
        "GITHUB_EVENT_PATH": str(RECORDED / "event-pull_request.json"),
        "GITHUB_REPOSITORY": "octo-org/widgets",
    }
    inputs = {
        "path": str(repo),
        "token": "ghs_" + "C" * 36,
        "calibration-endpoint": f"http://127.0.0.1:{free_port()}",  # nobody listens
        "calibration-key": "some-key",
    }
    with fake_github() as github:
        widgets_api(github, admin=False)
        env["GITHUB_API_URL"] = github.url
        context = _run_step("Build the GitHub context", env, inputs, {})
    assert context.returncode == 0, context.stderr
    assert "Resource not accessible by integration" in context.stderr
    assert (runner_temp / "phase-mirror" / "context.json").exists()

    analyze = _run_step("Analyze", env, inputs, {})
    assert analyze.returncode == 0, analyze.stderr  # the step records the exit, never fails
    assert "::error file=.github/workflows/" in analyze.stdout  # annotations
    outputs = _outputs(github_output)
    assert outputs["decision"] == "block" and outputs["exit"] == "1"
    assert outputs["sarif-path"].endswith("results.sarif") and Path(outputs["sarif-path"]).exists()
    assert Path(outputs["report-path"]).exists()
    assert set(outputs["degraded"].split(",")) >= {
        "context_incomplete",
        "calibration_report_incomplete",
    }
    assert summary.read_text().startswith("## Phase Mirror: BLOCK")

    enforce = _run_step("Enforce the decision", env, inputs, outputs)
    assert enforce.returncode == 1 and "phase-mirror: block (exit 1)" in enforce.stderr
    never = _run_step("Enforce the decision", env, inputs, {**outputs, "exit": "0"})
    assert never.returncode == 0


def test_pre_commit_hook_entry() -> None:
    hooks = yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text())
    hook = next(h for h in hooks if h["id"] == "phase-mirror-workflows")
    assert re.search(hook["files"], ".github/workflows/ci.yml")
    assert not re.search(hook["files"], "action.yml")
    entry = hook["entry"].split()
    assert entry[0] == "phase-mirror"
    env = {**os.environ, "PHASE_MIRROR_BACKEND": "unused://never-opened"}
    failing = sorted((fixture("md002", "failing") / ".github" / "workflows").glob("*.yml"))
    passing = sorted((fixture("md003", "passing") / ".github" / "workflows").glob("*.yml"))
    command = [sys.executable, "-m", "service.cli.main", *entry[1:]]
    bad = subprocess.run(
        [*command, *map(str, failing)], env=env, capture_output=True, text=True, timeout=60
    )
    assert bad.returncode == 1 and "MD-002.write-all" in bad.stdout, bad.stderr
    good = subprocess.run(
        [*command, *map(str, passing)], env=env, capture_output=True, text=True, timeout=60
    )
    assert good.returncode == 0, good.stdout + good.stderr
