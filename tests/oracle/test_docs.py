"""docs/oracle.md stays in step with the code: every check, threshold and the schema pin."""

from __future__ import annotations

from dataclasses import fields
from pathlib import Path

from service.oracle.config import Thresholds
from service.oracle.report_schema import SCHEMA_HASH_HEX
from service.oracle.rules import RULES

DOC = (Path(__file__).parents[2] / "docs" / "oracle.md").read_text()


def test_every_rule_and_check_is_documented_with_its_remediation() -> None:
    for rule in RULES:
        assert f"### {rule.spec.id} {rule.spec.title}" in DOC
        for check in rule.spec.checks:
            assert f"`{check.id}`" in DOC, check.id
            assert check.remediation.replace("|", "\\|") in DOC, check.id


def test_every_threshold_and_the_schema_pin_are_documented() -> None:
    for field in fields(Thresholds):
        assert f"  {field.name}: " in DOC, field.name
    assert SCHEMA_HASH_HEX in DOC
