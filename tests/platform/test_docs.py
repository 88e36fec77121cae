"""docs/platform.md stays complete: every config key, every output, the mocks-only statement
and the exact deploy commands."""

from __future__ import annotations

import pytest
from phase_platform.config import SCHEMA
from phase_platform.testing import REPO_ROOT, ProgramRun

DOC = (REPO_ROOT / "docs" / "platform.md").read_text()


@pytest.mark.parametrize("key", [setting.key for setting in SCHEMA])
def test_every_config_key_is_documented(key: str) -> None:
    assert f"| `{key}` |" in DOC


def test_every_output_is_documented(run: ProgramRun) -> None:
    missing = [name for name in run.outputs if f"`{name}`" not in DOC]
    assert missing == []


def test_mocks_statement_and_runbook_commands() -> None:
    assert (
        "No Pulumi CLI or provider plugin can be installed in this development environment" in DOC
    )
    for command in ("pulumi login", "pulumi stack select staging", "pulumi preview", "pulumi up"):
        assert command in DOC


def test_resource_counts_in_the_doc_match_the_program(run: ProgramRun) -> None:
    label = {"aws": "AWS", "gcp": "GCP"}[run.cloud]
    assert f"**{label} {len(run.resources)}**" in DOC
