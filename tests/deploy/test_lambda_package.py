"""The Lambda zip (`./dev package`): complete, free of dev tools and tests, reproducible.

Builds download wheels through pip (PyPI or the machine's mirror), so they are built once per
module: the deployed arm64 zip twice (same sha256) and the same zip for this machine's
architecture (x86_64), which a clean interpreter then imports and runs from an empty folder:
aarch64 native code (cryptography, pydantic-core, PyYAML, uvloop...) cannot load here, and the
x86_64 build goes through the very same code path with the same file list.
"""

from __future__ import annotations

import json
import platform as host_platform
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path
from typing import Any

import pytest

from deploy import lambda_build
from deploy.lambda_build import BuildResult, build, unpack
from deploy.lock import ROOT, LockError, normalize
from tests.runtime.events import http_api_event

pytestmark = pytest.mark.slow

HOST_ARCHITECTURE = {"x86_64": "x86_64", "aarch64": "arm64", "arm64": "arm64"}.get(
    host_platform.machine(), ""
)
HOST_PYTHON = f"{sys.version_info.major}.{sys.version_info.minor}"
NATIVE_TAG = {"arm64": "aarch64", "x86_64": "x86_64"}
PROJECT_MODULES = (
    "service.runtime.lambda_http",
    "service.runtime.jobs",
    "service.api.app",
    "adapters.aws.driver",
    "adapters.backend",
)


@pytest.fixture(scope="module")
def snapshot(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The project's packages as they are now: other work may edit the tree during the builds."""
    source = tmp_path_factory.mktemp("source")
    shutil.copy2(ROOT / "pyproject.toml", source / "pyproject.toml")
    for package in lambda_build.PACKAGES:
        shutil.copytree(
            ROOT / package, source / package, ignore=shutil.ignore_patterns("__pycache__")
        )
    return source


@pytest.fixture(scope="module")
def builds(tmp_path_factory: pytest.TempPathFactory, snapshot: Path) -> dict[str, BuildResult]:
    folder = tmp_path_factory.mktemp("lambda-zip")
    made = {
        "first": build(folder / "first.zip", lambda_build.ARCHITECTURE, snapshot),
        "second": build(folder / "second.zip", lambda_build.ARCHITECTURE, snapshot),
    }
    if HOST_ARCHITECTURE:
        # The deployed zip holds the Lambda runtime's wheels (arm64, its CPython); a twin of it
        # for this machine's architecture and interpreter, built by the same code from the same
        # lock, is what a clean interpreter here can import.
        made["host"] = build(folder / "host.zip", HOST_ARCHITECTURE, snapshot, HOST_PYTHON)
    return made


def names(result: BuildResult) -> list[str]:
    with zipfile.ZipFile(result.path) as archive:
        return archive.namelist()


def test_the_same_sources_give_the_same_sha256(builds: dict[str, BuildResult]) -> None:
    first, second = builds["first"], builds["second"]
    with zipfile.ZipFile(first.path) as one, zipfile.ZipFile(second.path) as two:
        crcs = {i.filename: i.CRC for i in one.infolist()}
        assert crcs == {i.filename: i.CRC for i in two.infolist()}
    assert Path(first.path).read_bytes() == Path(second.path).read_bytes()
    assert first.sha256 == second.sha256
    assert len(first.sha256_base64) == 44  # base64 of 32 bytes: Pulumi's source_code_hash


def test_entries_are_sorted_with_fixed_time_and_mode(builds: dict[str, BuildResult]) -> None:
    with zipfile.ZipFile(builds["first"].path) as archive:
        infos = archive.infolist()
    assert [i.filename for i in infos] == sorted(i.filename for i in infos)
    assert {i.date_time for i in infos} == {lambda_build.ZIP_DATE_TIME}
    assert {i.external_attr >> 16 for i in infos} == {lambda_build.FILE_MODE}
    assert not [i.filename for i in infos if i.filename.endswith("/")]  # no directory entries


def test_it_is_well_inside_lambda_limits(builds: dict[str, BuildResult]) -> None:
    result = builds["first"]
    assert result.zipped_bytes < 0.8 * lambda_build.MAX_ZIPPED_BYTES
    assert result.unzipped_bytes < 0.5 * lambda_build.MAX_UNZIPPED_BYTES


def test_no_dev_dependency_test_code_or_bytecode_inside(builds: dict[str, BuildResult]) -> None:
    entries = names(builds["first"])
    distributions = {
        normalize(entry.split("/")[0].split("-")[0])
        for entry in entries
        if entry.split("/")[0].endswith(".dist-info")
    }
    assert not distributions & lambda_build.DEV_DISTRIBUTIONS
    assert not distributions & {"google-cloud-firestore", "grpcio", "pulumi-aws", "pulumi-gcp"}
    # Mangum adapts API Gateway events itself: no HTTP server in the function.
    assert not distributions & {"uvicorn", "uvloop", "httptools"}
    assert {"phase-mirror", "mangum", "fastapi", "boto3", "cryptography"} <= distributions
    tops = {entry.split("/")[0] for entry in entries}
    forbidden_tops = {"tests", "bench", "platform", "phase_platform", "phase_policy", "deploy"}
    assert not tops & forbidden_tops
    assert "bin" not in tops  # console scripts name the build machine's interpreter
    assert not [e for e in entries if "__pycache__/" in e or e.endswith((".pyc", ".pyo"))]
    assert not [e for e in entries if Path(e).name in ("conftest.py", "pytest.ini")]
    assert not [e for e in entries if {"tests", "test"} & set(Path(e).parts[:-1])]


def test_the_project_packages_are_all_there(builds: dict[str, BuildResult], snapshot: Path) -> None:
    entries = set(names(builds["first"]))
    root = snapshot
    expected = {
        path.relative_to(root).as_posix()
        for package in lambda_build.PACKAGES
        for path in (root / package).rglob("*.py")
        if "__pycache__" not in path.parts
    }
    assert expected <= entries
    handler_module = lambda_build.HANDLER.rsplit(".", 1)[0].replace(".", "/") + ".py"
    anonymizer_module = lambda_build.ANONYMIZER_HANDLER.rsplit(".", 1)[0].replace(".", "/") + ".py"
    assert {handler_module, anonymizer_module} <= entries


def test_native_code_is_built_for_the_lambda_runtime(builds: dict[str, BuildResult]) -> None:
    """Version-specific extension modules are the Lambda runtime's CPython's, none another's."""
    tag = ".cpython-" + lambda_build.PYTHON.replace(".", "") + "-"
    versioned = [e for e in names(builds["first"]) if ".cpython-3" in e and e.endswith(".so")]
    libraries = [e for e in versioned if tag in e]
    assert libraries, "no CPython extension modules at all?"
    assert libraries == versioned, [e for e in versioned if tag not in e]
    wanted = NATIVE_TAG[lambda_build.ARCHITECTURE]
    assert all(f"-{wanted}-linux-gnu.so" in e for e in libraries), libraries


def test_both_architectures_package_the_same_python_files(builds: dict[str, BuildResult]) -> None:
    if "host" not in builds:
        pytest.skip(f"no Lambda architecture for this machine ({host_platform.machine()})")

    def python_files(result: BuildResult) -> set[str]:
        return {e for e in names(result) if e.endswith(".py")}

    assert python_files(builds["first"]) == python_files(builds["host"])


CLEAN_RUN = r"""
import json, os, sys, sysconfig
folder = sys.argv[1]
sys.path.insert(0, folder)
import importlib
for name in json.loads(sys.argv[2]):
    importlib.import_module(name)
from service.runtime import jobs, lambda_http
reply = lambda_http.handler(json.loads(sys.argv[3]), None)
job = jobs.anonymize_handler(dict(jobs.SCHEDULE_INPUT), None)
stdlib = tuple(sysconfig.get_paths()[k] for k in ("stdlib", "platstdlib"))
outside = sorted(
    name
    for name, module in list(sys.modules.items())
    if getattr(module, "__file__", None)
    and not module.__file__.startswith((folder,) + stdlib)
)
print(json.dumps({"reply": reply, "job": job, "outside": outside, "path": sys.path}))
"""


def run_clean(folder: Path, tmp: Path, *modules: str) -> dict[str, Any]:
    """A fresh interpreter that sees the standard library and `folder`, nothing else: the base
    interpreter (not this venv's), `-I` (no PYTHON* variables, no user site, no script dir on
    the path) and `-S` (no site: no site-packages at all)."""
    interpreter = getattr(sys, "_base_executable", "") or sys.executable
    event = http_api_event("GET", "/healthz")
    env = {"PHASE_MIRROR_HOME": str(tmp / "data"), "HOME": str(tmp), "PATH": "/usr/bin:/bin"}
    result = subprocess.run(
        [
            interpreter,
            "-I",
            "-S",
            "-c",
            CLEAN_RUN,
            str(folder),
            json.dumps(modules),
            json.dumps(event),
        ],
        cwd=folder,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return dict(json.loads(result.stdout.strip().splitlines()[-1]))


def test_a_clean_interpreter_runs_the_handlers_from_the_unpacked_zip(
    builds: dict[str, BuildResult], tmp_path: Path
) -> None:
    if "host" not in builds:
        pytest.skip(f"no Lambda architecture for this machine ({host_platform.machine()})")
    folder = tmp_path / "task"  # Lambda's /var/task
    folder.mkdir()
    unpack(Path(builds["host"].path), folder)
    out = run_clean(folder, tmp_path, *PROJECT_MODULES, "mangum", "boto3", "yaml", "fastapi")
    assert out["reply"]["statusCode"] == 200, out["reply"]
    assert json.loads(out["reply"]["body"])["status"] == "ok"
    assert out["job"]["job"] == "anonymize"
    assert out["outside"] == [], "modules loaded from outside the package and the stdlib"
    assert not [p for p in out["path"] if "site-packages" in p]


def test_unpack_refuses_paths_outside_the_folder(tmp_path: Path) -> None:
    evil = tmp_path / "evil.zip"
    with zipfile.ZipFile(evil, "w") as archive:
        archive.writestr("../escape.py", "x = 1\n")
    with pytest.raises(LockError, match="unsafe path"):
        unpack(evil, tmp_path / "out")


def test_bad_input_is_one_clear_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        lambda_build.main(["--architecture", "sparc"])
    assert exit_info.value.code == 2
    assert "invalid choice: 'sparc'" in capsys.readouterr().err
    with pytest.raises(LockError, match="unknown architecture 'sparc'"):
        build(tmp_path / "x.zip", "sparc")
