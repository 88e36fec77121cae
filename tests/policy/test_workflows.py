"""The CI workflows shipped in .github/workflows: valid against GitHub's workflow schema
(check-jsonschema, offline), clean under zizmor --offline and under the project's own oracle,
every action pinned to a full commit SHA, and wired to the commands the project documents."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
WORKFLOWS = sorted((ROOT / ".github" / "workflows").glob("*.yml"))
BIN = Path(sys.executable).parent
PINNED = re.compile(r"^[\w.-]+/[\w./-]+@[0-9a-f]{40} # v\d+(\.\d+)*$")


def load(name: str) -> dict[Any, Any]:
    data: dict[Any, Any] = yaml.safe_load((ROOT / ".github" / "workflows" / name).read_text())
    return data


def steps(workflow: dict[Any, Any]) -> list[dict[str, Any]]:
    return [step for job in workflow["jobs"].values() for step in job.get("steps", [])]


def test_the_expected_workflows_exist() -> None:
    assert {p.name for p in WORKFLOWS} == {
        "test.yml",
        "policy-gate.yml",
        "preview-gate.yml",
        "deploy.yml",
    }


def test_workflows_match_githubs_schema() -> None:
    completed = subprocess.run(
        [
            str(BIN / "check-jsonschema"),
            "--builtin-schema",
            "vendor.github-workflows",
            *map(str, WORKFLOWS),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert completed.returncode == 0, completed.stdout + completed.stderr


def test_zizmor_offline_is_clean() -> None:
    completed = subprocess.run(
        [
            str(BIN / "zizmor"),
            "--offline",
            "--no-progress",
            "--format",
            "plain",
            *map(str, WORKFLOWS),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert completed.returncode == 0, completed.stdout + completed.stderr
    assert "No findings to report" in completed.stdout + completed.stderr


def test_every_action_is_pinned_to_a_commit_sha_with_its_version() -> None:
    for path in WORKFLOWS:
        for line in path.read_text().splitlines():
            stripped = line.strip().removeprefix("- ")
            if stripped.startswith("uses:"):
                reference = stripped.removeprefix("uses:").strip()
                assert PINNED.match(reference), f"{path.name}: {reference}"


def test_test_workflow_runs_what_ci_runs() -> None:
    commands = [s.get("run", "") for s in steps(load("test.yml"))]
    assert any(c.strip() == ".ci/run" for c in commands)
    assert "./dev test" in (ROOT / ".ci" / "run").read_text()


def test_preview_gate_uses_oidc_policy_pack_sarif_and_the_deletion_gate() -> None:
    workflow = load("preview-gate.yml")
    [job] = workflow["jobs"].values()
    assert job["permissions"] == {
        "contents": "read",
        "id-token": "write",
        "security-events": "write",
    }
    matrix = job["strategy"]["matrix"]["include"]
    assert {(m["cloud"], m["config"]) for m in matrix} == {
        (c, s) for c in ("aws", "gcp") for s in ("staging", "production")
    }
    uses = {s["uses"].split("@")[0]: s for s in steps(workflow) if "uses" in s}
    assert "aws-actions/configure-aws-credentials" in uses
    assert "role-to-assume" in uses["aws-actions/configure-aws-credentials"]["with"]
    assert "workload_identity_provider" in uses["google-github-actions/auth"]["with"]
    assert uses["pulumi/actions"]["with"]["policyPacks"] == "platform/policypack"
    assert uses["github/codeql-action/upload-sarif"]["with"]["sarif_file"] == "policy-gate.sarif"
    runs = "\n".join(s.get("run", "") for s in steps(workflow))
    assert "phase-mirror-gate check" in runs and "phase-mirror-gate deletions" in runs
    assert "pulumi preview" in runs and "--json" in runs
    assert not any("aws-access-key-id" in s.get("with", {}) for s in steps(workflow))


def test_pull_requests_get_the_offline_gate_without_write_scopes_or_credentials() -> None:
    workflow = load("policy-gate.yml")
    assert workflow[True] == {"pull_request": None}  # YAML reads the `on` key as True
    assert workflow["permissions"] == {"contents": "read"}
    assert all("permissions" not in job for job in workflow["jobs"].values())
    runs = "\n".join(s.get("run", "") for s in steps(workflow))
    assert "phase-mirror-gate check --cloud all --stack all" in runs
    assert not any("credentials" in s.get("uses", "") for s in steps(workflow))


def test_deploy_needs_staging_then_a_production_approval() -> None:
    workflow = load("deploy.yml")
    staging, production = workflow["jobs"]["staging"], workflow["jobs"]["production"]
    assert staging["environment"] == "staging"
    assert production["environment"] == "production"  # required reviewers gate this job
    assert production["needs"] == "staging"
    for job in (staging, production):
        commands = [s.get("run", "") for s in job["steps"]]
        pulumi = [s for s in job["steps"] if s.get("uses", "").startswith("pulumi/actions@")]
        assert [s["with"]["command"] for s in pulumi] == ["preview", "up"]
        assert all(s["with"]["policyPacks"] == "platform/policypack" for s in pulumi)
        assert any("phase-mirror-gate deletions" in c for c in commands)
        gate_index = next(i for i, s in enumerate(job["steps"]) if "deletions" in s.get("run", ""))
        up_index = next(i for i, s in enumerate(job["steps"]) if s in pulumi[1:])
        assert gate_index < up_index


@pytest.mark.timeout(240)
def test_the_projects_own_oracle_finds_nothing_in_the_workflows(tmp_path: Path) -> None:
    env = {**os.environ, "PHASE_MIRROR_HOME": str(tmp_path / "home")}
    env.pop("PHASE_MIRROR_BACKEND", None)
    completed = subprocess.run(
        [
            str(BIN / "phase-mirror"),
            "analyze",
            str(ROOT),
            "--dry-run",
            "--format",
            "json",
            "--no-progress",
        ],
        capture_output=True,
        text=True,
        timeout=200,
        env=env,
        check=False,
    )
    report = json.loads(completed.stdout)
    in_workflows = [
        f for f in report["findings"] if str(f.get("path") or "").startswith(".github/workflows")
    ]
    assert in_workflows == []
    assert not [n for n in report["not_evaluated"] if n["rule"] in ("MD-002", "MD-003")]
