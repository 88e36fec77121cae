"""deploy/requirements.lock: complete for pyproject's runtime requirements, hashed, readable
by the standard library alone (offline checks; `python -m deploy.lock --check` re-resolves)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from packaging.requirements import Requirement

from deploy import lock
from deploy.lock import LOCK_FILE, TARGETS, LockError, normalize, parse, runtime_requirements

ENTRIES = parse(LOCK_FILE.read_text(encoding="utf-8"))
BY_NAME = {entry.name: entry for entry in ENTRIES}


@pytest.mark.parametrize("target", sorted(TARGETS))
def test_every_direct_requirement_is_pinned_within_its_specifier(target: str) -> None:
    for text in runtime_requirements(TARGETS[target]):
        requirement = Requirement(text)
        name = normalize(requirement.name)
        assert name in BY_NAME, f"{name} ({target}) is not in the lock: run python -m deploy.lock"
        entry = BY_NAME[name]
        assert target in entry.targets, f"{name} is locked but not for {target}"
        assert requirement.specifier.contains(entry.version, prereleases=True), (
            f"{name}=={entry.version} no longer satisfies {requirement}: run python -m deploy.lock"
        )


def test_every_entry_is_an_exact_pin_with_sha256_hashes() -> None:
    assert ENTRIES
    for entry in ENTRIES:
        assert entry.version and "*" not in entry.version
        assert "--hash=sha256:" in entry.text, entry.name
        assert entry.targets <= {"lambda", "image", "build"}


def test_the_lambda_target_has_no_gcp_and_the_image_no_lambda_adapter() -> None:
    lambda_names = {e.name for e in ENTRIES if "lambda" in e.targets}
    image_names = {e.name for e in ENTRIES if "image" in e.targets}
    assert "mangum" in lambda_names and "mangum" not in image_names
    assert "google-cloud-firestore" in image_names and "grpcio" not in lambda_names
    assert "boto3" in lambda_names & image_names
    assert {"setuptools", "wheel"}.isdisjoint(lambda_names | image_names)


def test_select_runs_as_a_plain_script_with_the_standard_library_only(tmp_path: Path) -> None:
    """The image build runs `python deploy/lock.py select image` with the base image's Python."""
    interpreter = getattr(sys, "_base_executable", "") or sys.executable
    result = subprocess.run(
        [interpreter, "-I", "-S", str(LOCK_FILE.parent / "lock.py"), "select", "image"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout == lock.select("image")
    assert "mangum" not in result.stdout and "# targets" not in result.stdout


def test_select_refuses_an_unknown_target_in_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    assert lock.main(["select", "gcp"]) == 1
    assert capsys.readouterr().err.strip() == (
        "deploy.lock: error: the lock has no target 'gcp'; targets: build, image, lambda"
    )


def test_a_malformed_lock_is_reported() -> None:
    with pytest.raises(LockError, match="malformed lock entry"):
        parse("six==1.17.0 \\\n    --hash=sha256:00\n")
    with pytest.raises(LockError, match="no optional-dependency extra 'nope'"):
        runtime_requirements(["nope"])
