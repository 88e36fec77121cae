"""The program's plumbing: the package layout, the mock runner, components and outputs."""

from __future__ import annotations

import ast
import importlib.util
import subprocess
import sys
from pathlib import Path

import pytest
from phase_platform.naming import COMPONENT_TYPE_AWS, COMPONENT_TYPE_GCP
from phase_platform.testing import REPO_ROOT, ProgramRun, run_program

from adapters.catalog import STORES

from .conftest import built

COMPONENT = {"aws": COMPONENT_TYPE_AWS, "gcp": COMPONENT_TYPE_GCP}


def test_platform_folder_is_not_a_package() -> None:
    """`platform/__init__.py` would shadow the stdlib `platform` module (and break `import
    pulumi`, whose dependencies call `platform.system()`)."""
    assert (REPO_ROOT / "platform" / "phase_platform" / "__init__.py").is_file()
    assert not (REPO_ROOT / "platform" / "__init__.py").exists()


def test_package_is_importable_through_the_install_alone() -> None:
    """From a neutral directory, without sys.path edits: stdlib `platform` and the package."""
    code = (
        "import platform, pulumi, phase_platform; "
        "print(platform.system() != '', phase_platform.__file__)"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd="/"
    )
    ok, location = out.stdout.split()
    assert ok == "True"
    assert Path(location) == REPO_ROOT / "platform" / "phase_platform" / "__init__.py"


def test_entry_point_is_thin() -> None:
    tree = ast.parse((REPO_ROOT / "__main__.py").read_text())
    imports = [n for n in tree.body if isinstance(n, ast.Import | ast.ImportFrom)]
    assert [getattr(n, "module", None) for n in imports] == ["phase_platform.program"]
    assert len([n for n in tree.body if not isinstance(n, ast.Expr | ast.ImportFrom)]) == 0


#: What the Pulumi program may read from adapters: the catalog, the backend setting, and each
#: cloud's desired-state spec and URL parameters (modules that import no cloud SDK).
PLATFORM_READS = {
    "adapters.catalog",
    "adapters.config",
    "adapters.aws.spec",
    "adapters.gcp.spec",
    "adapters.aws.url",
    "adapters.gcp.url",
    "adapters.local.url",
}


def test_platform_package_imports_only_the_catalog_config_and_specs_from_adapters() -> None:
    allowed = PLATFORM_READS
    offenders = {}
    for path in (REPO_ROOT / "platform" / "phase_platform").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            names: list[str] = []
            if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names = [node.module]
            elif isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            bad = [
                n for n in names if n.split(".")[0] in {"adapters", "service"} and n not in allowed
            ]
            if bad:
                offenders[path.name] = bad
    assert offenders == {}


def test_what_the_platform_reads_imports_no_cloud_sdk() -> None:
    """The specs are read by Pulumi, bootstrap and verify alike; reading them must not load
    boto3 or google-cloud (the embedded default and the policy pack never install them)."""
    modules = sorted(m for m in PLATFORM_READS if importlib.util.find_spec(m) is not None)
    probe = (
        "import importlib, sys\n"
        f"for name in {modules!r}: importlib.import_module(name)\n"
        "loaded = sorted(m for m in sys.modules if m.split('.')[0] in "
        "{'boto3', 'botocore', 'google'})\n"
        "print(','.join(loaded))"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe], cwd=REPO_ROOT, capture_output=True, text=True, check=True
    )
    assert "adapters.aws.spec" in modules and "adapters.gcp.spec" in modules
    assert done.stdout.strip() == ""


def test_every_resource_is_a_child_of_the_one_component(run: ProgramRun) -> None:
    components = run.of_type(COMPONENT[run.cloud])
    assert len(components) == 1
    component = components[0]
    assert component.parent_type == "pulumi:pulumi:Stack"
    others = [r for r in run.resources if r is not component]
    assert others and all(r.parent == component.urn for r in others)
    assert all(r.name.startswith(f"{component.name}-") for r in others)


def test_custom_resources_use_the_stack_provider(run: ProgramRun) -> None:
    """The explicit provider carries the region/project and default tags/labels."""
    (provider,) = run.of_type(f"pulumi:providers:{run.cloud}")
    for resource in run.resources:
        if resource.custom and resource.type.startswith(f"{run.cloud}:"):
            assert resource.provider and resource.provider.startswith(provider.urn), resource.name


def test_one_cloud_per_stack(run: ProgramRun) -> None:
    other = "gcp" if run.cloud == "aws" else "aws"
    assert not [r for r in run.resources if r.type.startswith(f"{other}:")]
    assert run.outputs["cloud"] == run.cloud


def test_no_engine_warnings(run: ProgramRun) -> None:
    """Deprecated arguments and other provider warnings surface in the engine log."""
    assert run.log == []


def test_outputs_name_every_store_secret_and_bucket(run: ProgramRun) -> None:
    prefix = run.outputs["prefix"]
    assert prefix == f"phase-mirror-{run.stack}"
    names = run.outputs["tableNames" if run.cloud == "aws" else "collectionNames"]
    assert names == {store.value: spec.physical_name(prefix) for store, spec in STORES.items()}
    assert run.outputs["bucketName"] == f"{prefix}-baselines"
    assert run.outputs["circuitBreakerThreshold"] == 10
    assert all(value not in (None, "", [], {}) for value in run.outputs.values())


def test_run_program_returns_resources_with_type_name_inputs_parent() -> None:
    resources = run_program("aws", "staging")
    table = next(r for r in resources if r.type == "aws:dynamodb/table:Table")
    assert table.name.startswith("phase-mirror-table-")
    assert table.inputs["billingMode"] == "PAY_PER_REQUEST"
    assert table.parent_type == COMPONENT_TYPE_AWS and table.parent_name == "phase-mirror"


def test_runs_are_isolated_and_repeatable() -> None:
    """Pulumi keeps its state in context variables; each run gets its own copy."""
    first = run_program("gcp", "production")
    run_program("aws", "staging")
    again = run_program("gcp", "production")
    assert [(r.type, r.name, r.inputs) for r in first] == [
        (r.type, r.name, r.inputs) for r in again
    ]


def test_unknown_stack_and_cloud_are_refused() -> None:
    with pytest.raises(FileNotFoundError, match=r"Pulumi\.qa\.yaml.*stacks: production, staging"):
        run_program("aws", "qa")
    with pytest.raises(ValueError, match="unknown cloud 'azure'; use one of aws, gcp"):
        run_program("azure", "staging")


def test_preview_counts() -> None:
    """The closing note's resource counts (snapshots hold the full lists)."""
    counts = {
        (c, s): len(built(c, s).resources)
        for c in ("aws", "gcp")
        for s in ("staging", "production")
    }
    assert counts[("aws", "staging")] == counts[("aws", "production")]
    assert counts[("gcp", "staging")] == counts[("gcp", "production")]
