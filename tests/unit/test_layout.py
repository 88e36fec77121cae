"""The house rules of the repository layout and the import arrows."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_platform_folder_has_no_init_py() -> None:
    """`platform/__init__.py` would shadow the stdlib `platform` module and break `import pulumi`."""
    assert (ROOT / "platform").is_dir()
    assert not (ROOT / "platform" / "__init__.py").exists()


def test_top_level_layout_exists() -> None:
    for name in (
        "Pulumi.yaml",
        "Pulumi.staging.yaml",
        "Pulumi.production.yaml",
        "__main__.py",
        "platform",
        "adapters",
        "service",
        "tests",
        "docs",
        "bench",
        "pyproject.toml",
        "README.md",
        ".ci/run",
    ):
        assert (ROOT / name).exists(), name


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text())
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module.split(".")[0])
    return found


SDKS = {"boto3", "botocore", "google", "pulumi", "pulumi_aws", "pulumi_gcp", "pulumi_policy"}


def test_ports_and_shared_adapters_import_no_sdk() -> None:
    shared = [
        p
        for p in (ROOT / "adapters").rglob("*.py")
        if not p.is_relative_to(ROOT / "adapters" / "aws")
        and not p.is_relative_to(ROOT / "adapters" / "gcp")
    ]
    offenders = {str(p.relative_to(ROOT)): _imports(p) & SDKS for p in shared}
    assert {k: v for k, v in offenders.items() if v} == {}


def test_service_never_imports_a_cloud_sdk_or_the_platform_package() -> None:
    offenders = {}
    for path in (ROOT / "service").rglob("*.py"):
        bad = _imports(path) & (SDKS | {"phase_platform"})
        if bad:
            offenders[str(path.relative_to(ROOT))] = bad
    assert offenders == {}


def test_embedded_default_starts_without_cloud_sdks(tmp_path: Path) -> None:
    code = (
        "import sys; from adapters.backend import open_backend; "
        f"b = open_backend('local://{tmp_path}'); b.close(); "
        "import service.cli.main; service.cli.main.build_parser(); "
        "print(sorted(m for m in sys.modules if m.split('.')[0] in "
        "{'boto3','botocore','google','pulumi'}))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
