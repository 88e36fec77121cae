"""Real public workflows (tests/oracle/corpus: the bytes as published, with repository, path
and commit in manifest.json): each parses without a crash or a malformed-workflow finding, the
oracle's permission, pinning, untrusted-checkout and script-injection results are the reviewed
ones, and zizmor, run on the same files, says what the manifest records, so every disagreement
listed there (and who is right) stays true."""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from service.oracle.offline import check_workflow_files

CORPUS = Path(__file__).parent / "corpus"
MANIFEST = json.loads((CORPUS / "manifest.json").read_text())
FILES: list[dict[str, Any]] = MANIFEST["files"]

CATEGORIES = {
    "permissions": (
        "MD-002",
        {
            "missing-permissions",
            "write-all",
            "fork-pr-write",
            "workflow-write-scopes",
            "id-token-workflow-wide",
        },
    ),
    "pinning": (
        "MD-003",
        {
            "unpinned-action",
            "unpinned-first-party-action",
            "unpinned-image",
            "unpinned-service-image",
        },
    ),
    "untrusted_checkout": ("MD-002", {"untrusted-checkout"}),
    "script_injection": (
        "MD-003",
        {"script-injection", "step-output-injection", "dispatch-input-injection"},
    ),
}
#: zizmor audits (regular persona) per compared category.
ZIZMOR_AUDITS = {
    "permissions": {"excessive-permissions"},
    "pinning": {"unpinned-uses", "unpinned-images"},
    "script_injection": {"template-injection"},
    "dangerous_triggers": {"dangerous-triggers"},
}


def test_manifest_is_complete_and_the_bytes_are_kept() -> None:
    on_disk = sorted(p.name for p in (CORPUS / "workflows").iterdir())
    assert on_disk == sorted(entry["file"] for entry in FILES)
    for entry in FILES:
        assert entry["repo"].count("/") == 1 and entry["path"].startswith(".github/workflows/")
        assert len(entry["commit"]) == 40 and entry["review"] and entry["features"]
        data = (CORPUS / "workflows" / entry["file"]).read_bytes()
        assert hashlib.sha256(data).hexdigest() == entry["sha256"], entry["file"]


@pytest.mark.parametrize("entry", FILES, ids=[e["file"] for e in FILES])
def test_oracle_judges_real_workflows_as_reviewed(entry: dict[str, Any]) -> None:
    findings = check_workflow_files([CORPUS / "workflows" / entry["file"]])
    checks = {f.check for f in findings}
    assert "evaluation-error" not in checks
    assert not checks & {"malformed-workflow", "invalid-workflow"}, entry["file"]
    for category, (rule, names) in CATEGORIES.items():
        got = sorted({f.check for f in findings if f.rule_id == rule and f.check in names})
        assert got == entry["expected"][category], (entry["file"], category)


def _zizmor() -> str | None:
    venv = Path(__file__).resolve().parents[2] / ".venv" / "bin" / "zizmor"
    return str(venv) if venv.exists() else shutil.which("zizmor")


def test_zizmor_says_what_the_manifest_records() -> None:
    binary = _zizmor()
    if binary is None:
        pytest.skip("zizmor is not installed (pip install zizmor; it is in the dev extra)")
    version = subprocess.run([binary, "--version"], capture_output=True, text=True, timeout=60)
    if MANIFEST["zizmor_version"] not in version.stdout:
        pytest.skip(f"the manifest records zizmor {MANIFEST['zizmor_version']}: {version.stdout}")
    result = subprocess.run(
        [binary, "--offline", "--no-config", "--format", "json", "--persona", "regular",
         *(entry["file"] for entry in FILES)],
        cwd=CORPUS / "workflows", capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    found: dict[str, set[str]] = {entry["file"]: set() for entry in FILES}
    for finding in json.loads(result.stdout):
        for location in finding["locations"]:
            if location["symbolic"].get("kind") == "Primary":
                path = location["symbolic"]["key"]["Local"]["verbatim_path"]
                found[Path(path).name].add(finding["ident"])
    for entry in FILES:
        for category, audits in ZIZMOR_AUDITS.items():
            said = bool(found[entry["file"]] & audits)
            assert said == entry["zizmor"][category], (entry["file"], category)
        for category in ("permissions", "pinning", "script_injection"):
            oracle = bool(entry["expected"][category])
            disputed = [d for d in entry["disagreements"] if d["category"] == category]
            if oracle != entry["zizmor"][category]:
                assert len(disputed) == 1, (entry["file"], category, "disagreement not explained")
                assert disputed[0]["right"] in ("oracle", "zizmor") and disputed[0]["reason"]
            else:
                assert not disputed, (entry["file"], category)
