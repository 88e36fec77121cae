"""The fixture workflows are real GitHub Actions workflows (SchemaStore's workflow schema, as
vendored by check-jsonschema), so the rules are tested on inputs GitHub would accept; and the
progress bar only draws for large jobs."""

from __future__ import annotations

import io
import json
from importlib import resources
from pathlib import Path

import jsonschema
import pytest

from service.oracle.progress import MIN_ITEMS, ProgressBar
from service.oracle.yamlsrc import parse

from .conftest import FIXTURES

SCHEMA = json.loads(
    resources.files("check_jsonschema.builtin_schemas.vendor")
    .joinpath("github-workflows.json")
    .read_text()
)
#: Fixtures that are deliberately not valid workflows (MD-003 malformed/invalid checks).
NOT_WORKFLOWS = {"broken.yml", "notes.yaml"}
WORKFLOWS = sorted(
    p
    for p in FIXTURES.rglob("*.y*ml")
    if p.parent.name == "workflows" and p.name not in NOT_WORKFLOWS
)


@pytest.mark.parametrize("path", WORKFLOWS, ids=lambda p: str(p.relative_to(FIXTURES)))
def test_fixture_workflow_is_valid_for_github(path: Path) -> None:
    jsonschema.Draft7Validator(SCHEMA).validate(parse(path.read_text()))


def test_progress_bar_draws_only_for_large_jobs() -> None:
    stream = io.StringIO()
    bar = ProgressBar("parsing", stream)
    bar(5, 10)
    bar.close()
    assert stream.getvalue() == ""
    bar(MIN_ITEMS, MIN_ITEMS)
    bar.close()
    assert f"{MIN_ITEMS}/{MIN_ITEMS}" in stream.getvalue() and stream.getvalue().endswith("\n")
