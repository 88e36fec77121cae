"""The seed documents' end-to-end cycle, through the commands the GitHub Action runs, against a
real `phase-mirror serve` (local backend; AWS backend on moto):

PR event -> `phase-mirror context` (GitHub API on a loopback server) -> `analyze --report-to`
(rule outcomes ingested, each with a fresh nonce) -> a reviewer marks a finding false positive
(`phase-mirror fp mark`) -> the next analysis no longer blocks on it and reports it as a false
positive -> merge-queue evaluation from a merge_group event -> baseline and drift. And with the
calibration service down, the check's decision is unchanged and the report says why."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from adapters.backend import Backend, open_backend
from adapters.clock import SystemClock
from service.calibration.bootstrap import Calibration
from service.calibration.config import CalibrationConfig
from tests.api.servers import serve_process
from tests.support.backends import BackendFactory
from tests.support.emulators import free_port

from .conftest import fixture
from .github_server import RECORDED, fake_github, widgets_api

REPORT_KEY = "e2e-oracle-report-key-0001"


@dataclass
class Stack:
    url: str
    key: str
    env: dict[str, str]
    backend: Backend

    def cli(self, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "service.cli.main", *args],
            env={**self.env, **env},
            capture_output=True,
            text=True,
            timeout=180,
        )


@contextmanager
def local_stack(tmp_path: Path) -> Iterator[Stack]:
    home = tmp_path / "home"
    home.mkdir()
    with serve_process(home) as url:
        key = (home / "bootstrap-api-key").read_text().strip()
        env = {
            k: v for k, v in os.environ.items() if not k.startswith(("PHASE_MIRROR_", "GITHUB_"))
        }
        env["PHASE_MIRROR_HOME"] = str(home)
        backend = open_backend(f"local://{home}")
        try:
            yield Stack(url, key, env, backend)
        finally:
            backend.close()


@contextmanager
def aws_stack(factory: BackendFactory, tmp_path: Path) -> Iterator[Stack]:
    backend = factory(SystemClock())
    try:
        Calibration.build(backend, CalibrationConfig()).keys.import_key(
            REPORT_KEY, "oracle", "octo-org"
        )
        outputs = tmp_path / "outputs.json"
        outputs.write_text(json.dumps({"backendUrl": backend.setting.url}))
        home = tmp_path / "home"
        home.mkdir()
        env = {
            k: v for k, v in os.environ.items() if not k.startswith(("PHASE_MIRROR_", "GITHUB_"))
        }
        env["PHASE_MIRROR_STACK_OUTPUTS"] = str(outputs)
        with serve_process(home, env={"PHASE_MIRROR_STACK_OUTPUTS": str(outputs)}) as url:
            yield Stack(url, REPORT_KEY, env, backend)
    finally:
        backend.close()


def pr_repository(tmp_path: Path) -> Path:
    """A pull request's checkout: workflow problems, a CODEOWNERS, and the job producing the
    required check `test` (which does not run for merge_group events)."""
    root = tmp_path / "widgets"
    shutil.copytree(fixture("md002", "failing"), root)
    shutil.copytree(fixture("md003", "passing", ".github"), root / ".github", dirs_exist_ok=True)
    (root / ".github" / "CODEOWNERS").write_text(
        "* @octo-org/widgets\n/.github/ @octo-org/platform\n"
    )
    (root / ".github" / "workflows" / "ci.yml").write_text(
        "on: pull_request\npermissions: {contents: read}\njobs:\n  test:\n    runs-on: ubuntu-latest\n"
        "    steps:\n      - run: make test\n"
    )
    return root


def contexts(stack: Stack, tmp_path: Path) -> tuple[Path, Path]:
    """`phase-mirror context` for the PR event and the merge_group event, as the Action runs it."""
    paths = []
    with fake_github() as github:
        widgets_api(github, admin=True)
        for event in ("pull_request", "merge_group"):
            target = tmp_path / f"ctx-{event}.json"
            result = stack.cli(
                "context", "-o", str(target),
                GITHUB_TOKEN="ghs_" + "B" * 36, GITHUB_API_URL=github.url,
                GITHUB_EVENT_NAME=event, GITHUB_EVENT_PATH=str(RECORDED / f"event-{event}.json"),
            )  # fmt: skip
            assert result.returncode == 0, result.stderr
            paths.append(target)
    return paths[0], paths[1]


def analyze(
    stack: Stack, root: Path, context: Path, out: Path, url: str | None = None
) -> tuple[int, dict[str, Any], str]:
    result = stack.cli(
        "analyze", str(root), "--context", str(context), "--mode", "auto", "--no-progress",
        "--format", "json", "-o", str(out), "--report-to", url or stack.url,
        PHASE_MIRROR_REPORT_KEY=stack.key,
    )  # fmt: skip
    assert "Traceback" not in result.stderr, result.stderr
    return result.returncode, json.loads(out.read_text()), result.stderr


def ingested(backend: Backend) -> list[Any]:
    return [e for e in backend.raw_events.scan() if e.environment == "ci"]


def cycle(stack: Stack, tmp_path: Path) -> None:
    root = pr_repository(tmp_path)
    pr_context, queue_context = contexts(stack, tmp_path)

    # 1. the PR check blocks; every rule outcome is ingested
    code, first, stderr = analyze(stack, root, pr_context, tmp_path / "r1.json")
    assert code == 1 and first["machine_decision"]["outcome"] == "block", stderr
    assert first["repository"]["author"] == "octocat" and first["run"]["mode"] == "pull_request"
    assert not [d for d in first["degraded"] if d["reason"] == "calibration_report_incomplete"]
    events = ingested(stack.backend)
    assert len(events) >= len(first["findings"]) > 0
    assert f"reported {len(events)} rule outcome(s)" in stderr
    assert {e.rule_id for e in events} >= {"MD-001", "MD-002", "MD-003", "MD-004"}
    assert {e.actual_outcome for e in events} == {"correct"}

    # 2. a reviewer marks one finding false positive
    target = next(f for f in first["findings"] if f["check"] == "write-all")
    marked = stack.cli(
        "fp",
        "mark",
        target["fingerprint"],
        "--reason",
        "the release job needs it",
        "--reviewer",
        "alice",
    )
    assert marked.returncode == 0, marked.stderr

    # 3. the next analysis no longer blocks on it, and reports it as a false positive
    code, second, _ = analyze(stack, root, pr_context, tmp_path / "r2.json")
    assert target["fingerprint"] in {f["fingerprint"] for f in second["suppressed"]}
    assert target["fingerprint"] not in {f["fingerprint"] for f in second["findings"]}
    assert (
        second["machine_decision"]["counts"]["high"]
        == first["machine_decision"]["counts"]["high"] - 1
    )
    false_positives = [
        e for e in ingested(stack.backend) if e.actual_outcome == "should_not_have_matched"
    ]
    assert [e.rule_id for e in false_positives] == ["MD-002"]

    # 4. merge-queue evaluation from the merge_group event
    code, queued, _ = analyze(stack, root, queue_context, tmp_path / "r3.json")
    assert queued["run"]["mode"] == "merge_group"
    assert next(r for r in queued["rules"] if r["id"] == "MD-102")["evaluated"]
    assert "check-skips-merge-group" in {
        f["check"] for f in queued["findings"] if f["rule_id"] == "MD-102"
    }

    # 5. drift against the stored baseline
    stored = stack.cli("baseline", str(root), "--repo", "octo-org/widgets")
    assert stored.returncode == 0, stored.stderr
    (root / ".github" / "workflows" / "ci.yml").write_text(
        "on: [pull_request, merge_group]\njobs: {}\n"
    )
    drift = stack.cli("drift", str(root), "--repo", "octo-org/widgets", "--format", "json")
    assert drift.returncode in (0, 1), drift.stderr
    assert json.loads(drift.stdout)["drift"]["modified"] == [".github/workflows/ci.yml"]
    code, drifted, _ = analyze(stack, root, pr_context, tmp_path / "r4.json")
    assert drifted["drift"]["modified"] == [".github/workflows/ci.yml"]

    # 6. the calibration service is down: the decision is the same, the report says why
    before = len(ingested(stack.backend))
    dead = f"http://127.0.0.1:{free_port()}"
    code_down, down, _ = analyze(stack, root, pr_context, tmp_path / "r5.json", url=dead)
    assert code_down == code and down["machine_decision"] == drifted["machine_decision"]
    reasons = {d["reason"]: d for d in down["degraded"]}
    assert "unreachable" in reasons["calibration_report_incomplete"]["detail"]
    assert reasons["calibration_report_incomplete"]["fail"] == "open"
    assert len(ingested(stack.backend)) == before


def test_cycle_on_the_local_backend(tmp_path: Path) -> None:
    with local_stack(tmp_path) as stack:
        cycle(stack, tmp_path)


@pytest.mark.aws
def test_cycle_on_the_aws_backend(aws_backend_factory: BackendFactory, tmp_path: Path) -> None:
    with aws_stack(aws_backend_factory, tmp_path) as stack:
        cycle(stack, tmp_path)
