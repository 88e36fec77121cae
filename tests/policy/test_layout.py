"""Import arrows around the policy package and the docs' rule table."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

from phase_policy.cli import rules_markdown
from phase_policy.rules import RULES

ROOT = Path(__file__).resolve().parents[2]


def _imported_roots(path: Path) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module.split(".")[0])
    return found


def test_service_never_imports_the_policy_or_platform_packages() -> None:
    offenders = {
        str(path.relative_to(ROOT)): roots
        for path in (ROOT / "service").rglob("*.py")
        if (roots := _imported_roots(path) & {"phase_policy", "phase_platform", "pulumi_policy"})
    }
    assert offenders == {}


def test_policy_package_imports_only_the_catalog_from_the_project() -> None:
    for path in (ROOT / "platform" / "phase_policy").rglob("*.py"):
        roots = _imported_roots(path)
        assert "service" not in roots, path
        assert "phase_platform" not in roots or path.name == "program.py", path


def test_policy_package_stays_out_of_platform_package_and_pulumi_until_needed() -> None:
    """Importing the rules must not load the Pulumi program (it is loaded only to run it)."""
    code = (
        "import sys, phase_policy.rules, phase_policy.deletion, phase_policy.cli; "
        "print('phase_platform' in sys.modules)"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    ).stdout
    assert out.strip() == "False"


def test_docs_rule_table_is_generated_from_the_rules() -> None:
    doc = (ROOT / "docs" / "policy.md").read_text()
    assert rules_markdown() in doc, "regenerate with `phase-mirror-gate rules --format markdown`"
    for rule in RULES:
        assert f'<a id="{rule.id.lower()}"></a>' in doc, rule.id
