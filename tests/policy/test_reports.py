"""SARIF 2.1.0 (validated against the OASIS schema), JUnit XML, text and JSON reports."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from datetime import date
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from phase_policy.findings import GateResult
from phase_policy.gate import TargetSpec, run_gate
from phase_policy.graph import graph_from_entries
from phase_policy.junit import to_junit
from phase_policy.render import to_json, to_text
from phase_policy.rules import RULES
from phase_policy.sarif import GATE_RULE_ID, to_sarif
from phase_policy.waivers import Waiver, parse_waivers

from tests.policy.builders import aws_stack, setting

ROOT = Path(__file__).resolve().parents[2]
TODAY = date(2026, 3, 1)


def _schema() -> dict[str, Any]:
    found = sorted(ROOT.glob("tests/**/sarif-schema-2.1.0.json"))
    assert found, "the OASIS SARIF 2.1.0 schema is expected under tests/"
    schema: dict[str, Any] = json.loads(found[0].read_text())
    return schema


def sample_waivers(source: str) -> list[Waiver]:
    """One waiver for fp-events' PITR (TICKET-42), one matching nothing (an old bucket)."""
    entry = {"owner": "platform@example.com", "expires": "2026-03-31"}
    return parse_waivers(
        {
            "waivers": [
                entry
                | {
                    "rule": "PM-AWS-001",
                    "resource": "table-fp-events",
                    "reason": "migration TICKET-42",
                },
                entry | {"rule": "PM-AWS-009", "resource": "gone", "reason": "old bucket"},
            ]
        },
        known_rules=[r.id for r in RULES],
        today=TODAY,
        source=source,
    )


@pytest.fixture(scope="module")
def result() -> GateResult:
    """Blocking, waived, advisory and unknown-at-preview findings, and one unused waiver."""
    entries = aws_stack()
    setting("table-fp-events", "pointInTimeRecovery.enabled", False)(entries)  # waived
    setting("table-api-keys", "serverSideEncryption", None)(entries)  # blocking
    setting("backup-vault", "kmsKeyArn", None)(entries)  # advisory
    setting("data-access", "policy", "04da6b54-80e4-46f7-96ec-b56ff0331ba9")(entries)  # unknown
    graph = graph_from_entries(entries, project="phase-mirror", stack="staging")
    waivers = sample_waivers("policy-waivers.yaml")
    return run_gate([TargetSpec("aws", "staging", lambda: graph)], waivers=waivers, today=TODAY)


def test_result_mixes_every_kind_of_finding(result: GateResult) -> None:
    kinds = {(f.rule_id, f.level, f.suppressed) for f in result.findings}
    assert ("PM-AWS-001", "error", True) in kinds
    assert ("PM-AWS-003", "error", False) in kinds
    assert ("PM-AWS-015", "warning", False) in kinds
    assert ("PM-AWS-012", "note", False) in kinds
    assert result.exit_code == 1


def test_sarif_validates_against_the_schema(result: GateResult) -> None:
    sarif = to_sarif(result)
    jsonschema.validate(sarif, _schema())
    run = sarif["runs"][0]
    rules = run["tool"]["driver"]["rules"]
    assert [r["id"] for r in rules] == [r.id for r in RULES] + [GATE_RULE_ID]
    for item in run["results"]:
        assert rules[item["ruleIndex"]]["id"] == item["ruleId"]
        assert item["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
    assert run["invocations"][0]["exitCode"] == 1


def test_sarif_rules_carry_severity_remediation_and_equivalents(result: GateResult) -> None:
    rules = {r["id"]: r for r in to_sarif(result)["runs"][0]["tool"]["driver"]["rules"]}
    pitr = rules["PM-AWS-001"]
    assert "CKV_AWS_28" in pitr["properties"]["tags"]
    assert pitr["properties"]["security-severity"] == "8.0"
    assert "point_in_time_recovery" in pitr["help"]["text"]
    assert pitr["defaultConfiguration"]["level"] == "error"
    assert rules["PM-AWS-015"]["defaultConfiguration"]["level"] == "warning"


def test_sarif_waived_result_has_a_suppression_with_justification(result: GateResult) -> None:
    results = to_sarif(result)["runs"][0]["results"]
    [waived] = [r for r in results if r["ruleId"] == "PM-AWS-001"]
    [suppression] = waived["suppressions"]
    assert suppression["kind"] == "external" and suppression["status"] == "accepted"
    assert "TICKET-42" in suppression["justification"]
    assert "platform@example.com" in suppression["justification"]
    assert all("suppressions" not in r for r in results if r["ruleId"] != "PM-AWS-001")
    [unused] = [r for r in results if r["ruleId"] == GATE_RULE_ID]
    assert unused["level"] == "error" and "matched no finding" in unused["message"]["text"]
    levels = {r["ruleId"]: r["level"] for r in results}
    assert levels["PM-AWS-012"] == "note" and levels["PM-AWS-015"] == "warning"


def test_sarif_fingerprints_are_stable_and_distinct(result: GateResult) -> None:
    first = [r["partialFingerprints"] for r in to_sarif(result)["runs"][0]["results"][:-1]]
    again = [r["partialFingerprints"] for r in to_sarif(result)["runs"][0]["results"][:-1]]
    assert first == again
    assert len({json.dumps(f) for f in first}) == len(first)


def test_junit_counts_failures_skips_and_waiver_problems(result: GateResult) -> None:
    root = ET.fromstring(to_junit(result))  # noqa: S314 - our own output
    assert root.tag == "testsuites"
    suites = {s.get("name"): s for s in root.findall("testsuite")}
    target = suites["aws/staging"]
    assert target.get("tests") == str(len(RULES))
    cases = {c.get("name", "").split()[0]: c for c in target.findall("testcase")}
    assert cases["PM-AWS-003"].find("failure") is not None
    assert cases["PM-AWS-001"].find("skipped") is not None
    assert cases["PM-AWS-015"].find("failure") is None  # advisory never fails
    assert cases["PM-AWS-009"].find("failure") is None
    failures = sum(1 for c in target.findall("testcase") if c.find("failure") is not None)
    assert target.get("failures") == str(failures)
    gate_suite = suites["gate"]
    assert gate_suite.get("failures") == "1"
    assert int(root.get("failures", "0")) == failures + 1


def test_text_and_json_reports(result: GateResult) -> None:
    text = to_text(result)
    assert text.startswith("phase-mirror-gate: FAIL (exit 1)")
    assert "WAIVED PM-AWS-001" in text and "TICKET-42" in text
    assert "ERROR  PM-AWS-003" in text and "fix: Set `server_side_encryption" in text
    assert "matched no finding" in text
    data = to_json(result)
    assert data["verdict"] == "fail" and data["exitCode"] == 1
    [pitr] = [f for f in data["targets"][0]["findings"] if f["rule"] == "PM-AWS-001"]
    assert pitr["waiver"]["owner"] == "platform@example.com" and pitr["blocking"] is False
    json.dumps(data)  # serializable
