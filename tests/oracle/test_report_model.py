"""The typed report model (report.py) and the pinned schema describe the same report: each
record's fields are, in order, the keys its schema object requires, and the JSON report an
analysis carries is exactly its model rendered."""

from __future__ import annotations

from dataclasses import fields
from typing import Any

import pytest

from adapters.backend import Backend
from service.oracle import l0
from service.oracle.report import (
    CircuitBreaker,
    FpEvents,
    L0Result,
    MachineDecision,
    NotEvaluated,
    Report,
    RepositoryInfo,
    RuleRow,
    RunInfo,
    Timings,
    Tool,
    finding_json,
)
from service.oracle.report_schema import REPORT_SCHEMA

from .conftest import fixture, run

PARTS = REPORT_SCHEMA["properties"]


def names(record: type[Any]) -> list[str]:
    return [f.name for f in fields(record)]


@pytest.mark.parametrize(
    ("record", "schema"),
    [
        (Tool, PARTS["tool"]),
        (RepositoryInfo, PARTS["repository"]),
        (RunInfo, PARTS["run"]),
        (MachineDecision, PARTS["machine_decision"]),
        (NotEvaluated, PARTS["not_evaluated"]["items"]),
        (RuleRow, PARTS["rules"]["items"]),
        (FpEvents, PARTS["fp_events"]),
        (CircuitBreaker, PARTS["circuit_breaker"]),
        (L0Result, PARTS["l0"]),
        (l0.Violation, PARTS["l0"]["properties"]["violations"]["items"]),
    ],
)
def test_each_record_is_its_schema_object(record: type[Any], schema: dict[str, Any]) -> None:
    assert names(record) == schema["required"]


def test_the_report_record_covers_every_top_level_key() -> None:
    # schema, schema_hash and integrity are constants of the unsealed report, not model fields
    assert ["schema", "schema_hash", *names(Report), "integrity"] == REPORT_SCHEMA["required"]
    assert names(Timings)[0] == PARTS["timings"]["required"][0]


def test_a_finding_renders_the_schema_finding(keyed_backend: Backend) -> None:
    analysis = run(keyed_backend, fixture("md002", "failing"))
    assert list(finding_json(analysis.findings[0])) == PARTS["findings"]["items"]["required"]


def test_the_report_is_the_model_rendered(keyed_backend: Backend) -> None:
    analysis = run(keyed_backend, fixture("md003", "failing"))
    assert analysis.model.as_json() == analysis.report
    assert list(analysis.report) == REPORT_SCHEMA["required"]
    decision = analysis.model.machine_decision
    assert (decision.outcome, decision.exit_code) == (analysis.outcome, analysis.exit_code)
