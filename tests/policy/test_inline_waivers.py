"""Inline waivers: a tag (AWS) or label (GCP) on the resource, validated like the file waivers,
shown as in-source SARIF suppressions; expired or unmatched ones fail the gate."""

from __future__ import annotations

import re
from datetime import date
from typing import Any

import pytest
from phase_policy.findings import EXIT_GATE_ERROR, EXIT_PASS, EXIT_VIOLATIONS, GateResult
from phase_policy.gate import TargetSpec, run_gate
from phase_policy.graph import graph_from_entries
from phase_policy.inline_waivers import MAX_LENGTH, InlineWaiverError, encode, tag_key
from phase_policy.rules import RULES, RULES_BY_ID
from phase_policy.sarif import to_sarif

from tests.policy.builders import aws_stack, find, gcp_stack, setting

TODAY = date(2026, 3, 1)
#: GCP's label syntax (keys start with a letter); AWS tags accept a superset.
GCP_LABEL = re.compile(r"[a-z][a-z0-9_-]{0,62}")
GCP_LABEL_VALUE = re.compile(r"[a-z0-9_-]{0,63}")
# The rules these tests exercise, so another rule's fixture drift does not change the verdicts.
AWS_RULES = [RULES_BY_ID[r] for r in ("PM-AWS-001", "PM-AWS-003", "PM-AWS-011")]
GCP_RULES = [RULES_BY_ID[r] for r in ("PM-GCP-006", "PM-GCP-007")]


def tag(
    entries: list[dict[str, Any]], name: str, key: str, value: str, field: str = "tags"
) -> None:
    inputs = find(entries, name).setdefault("inputs", {})
    inputs[field] = {**(inputs.get(field) or {}), key: value}


def gate(
    entries: list[dict[str, Any]],
    cloud: str = "aws",
    rules: list[Any] = AWS_RULES,
    today: date = TODAY,
) -> GateResult:
    graph = graph_from_entries(entries, project="phase-mirror", stack="staging")
    return run_gate([TargetSpec(cloud, "staging", lambda: graph)], rules=rules, today=today)


def no_pitr() -> list[dict[str, Any]]:
    entries = aws_stack()
    setting("table-fp-events", "pointInTimeRecovery.enabled", False)(entries)
    return entries


WAIVER = encode("PM-AWS-001", expires=date(2026, 3, 31), owner="platform-team", reason="tkt-42")


def test_encoding_fits_gcp_labels_and_aws_tags() -> None:
    key, value = WAIVER
    assert key == "phase-mirror-waive-pm-aws-001"
    assert value == "2026-03-31_platform-team_tkt-42"
    for rule in RULES:
        longest = encode(
            rule.id, expires=date(2026, 1, 1), owner="o" * 20, reason="r" * (MAX_LENGTH - 32)
        )
        assert GCP_LABEL.fullmatch(longest[0]) and GCP_LABEL_VALUE.fullmatch(longest[1])
    with pytest.raises(InlineWaiverError, match="at most 63"):
        encode("PM-AWS-001", expires=date(2026, 1, 1), owner="o", reason="x" * 60)
    with pytest.raises(InlineWaiverError, match="owner"):
        encode("PM-AWS-001", expires=date(2026, 1, 1), owner="a@example.com", reason="x")


def test_a_tag_waives_that_rule_on_that_resource_only() -> None:
    entries = no_pitr()
    setting("table-api-keys", "pointInTimeRecovery.enabled", False)(entries)
    tag(entries, "table-fp-events", *WAIVER)
    result = gate(entries)
    pitr = {f.resource_name: f for f in result.findings if f.rule_id == "PM-AWS-001"}
    waived = pitr["table-fp-events"]
    assert waived.suppressed and waived.waiver is not None and waived.waiver.inline
    assert waived.waiver.owner == "platform-team" and waived.waiver.reason == "tkt-42"
    assert pitr["table-api-keys"].blocking  # the neighbour is not waived
    assert result.exit_code == EXIT_VIOLATIONS and not result.waiver_problems


def test_inline_waiver_passes_the_gate_and_is_an_in_source_sarif_suppression() -> None:
    entries = no_pitr()
    tag(entries, "table-fp-events", *WAIVER)
    result = gate(entries)
    assert result.exit_code == EXIT_PASS
    [item] = [r for r in to_sarif(result)["runs"][0]["results"] if r["ruleId"] == "PM-AWS-001"]
    [suppression] = item["suppressions"]
    assert suppression["kind"] == "inSource" and suppression["status"] == "accepted"
    assert "tkt-42" in suppression["justification"]
    assert "platform-team" in suppression["justification"]
    assert suppression["properties"]["tag"] == WAIVER[0]


def test_gcp_label_waives_a_bucket_finding() -> None:
    entries = gcp_stack()
    setting("bucket", "publicAccessPrevention", "inherited")(entries)
    key, value = encode("PM-GCP-006", expires=date(2026, 4, 30), owner="data-team", reason="t-7")
    tag(entries, "bucket", key, value, field="labels")
    result = gate(entries, cloud="gcp", rules=GCP_RULES)
    assert [f.rule_id for f in result.findings if f.suppressed] == ["PM-GCP-006"]
    assert result.exit_code == EXIT_PASS


def test_expired_inline_waiver_fails_and_suppresses_nothing() -> None:
    entries = no_pitr()
    tag(entries, "table-fp-events", *WAIVER)
    result = gate(entries, today=date(2026, 4, 1))
    assert result.exit_code == EXIT_VIOLATIONS
    [problem] = result.waiver_problems
    assert (
        problem.kind == "expired"
        and "inline waiver phase-mirror-waive-pm-aws-001" in problem.message
    )
    assert any(f.rule_id == "PM-AWS-001" and f.blocking for f in result.findings)
    sarif = to_sarif(result)["runs"][0]["results"]
    [gate_result] = [r for r in sarif if r["ruleId"] == "PM-GATE-001"]
    assert gate_result["locations"][0]["logicalLocations"][0]["fullyQualifiedName"].endswith(
        "::table-fp-events"
    )


def test_inline_waiver_matching_nothing_fails() -> None:
    entries = aws_stack()  # PITR is on: nothing to waive
    tag(entries, "table-fp-events", *WAIVER)
    result = gate(entries)
    assert result.exit_code == EXIT_VIOLATIONS
    [problem] = result.waiver_problems
    assert problem.kind == "unmatched" and "table-fp-events" in problem.message


@pytest.mark.parametrize(
    ("key", "value", "message"),
    [
        ("phase-mirror-waive-pm-aws-001", "2026-03-31_team", "is not <expires YYYY-MM-DD>"),
        ("phase-mirror-waive-pm-aws-001", "31-03-2026_team_t", "is not YYYY-MM-DD"),
        ("phase-mirror-waive-pm-aws-001", "2026-02-30_team_t", "is not a real date"),
        ("phase-mirror-waive-pm-aws-001", "2030-01-01_team_t", "more than 366 days ahead"),
        ("phase-mirror-waive-pm-aws-001", "2026-03-31_Team_t", "owner 'Team'"),
        ("phase-mirror-waive-pm-aws-001", "2026-03-31_team_Why not", "reason 'Why not'"),
        ("phase-mirror-waive-pm-aws-001", "2026-03-31_team_" + "x" * 60, "at most 63"),
        ("phase-mirror-waive-ckv-aws-28", "2026-03-31_team_t", "unknown rule id 'CKV-AWS-28'"),
        ("Phase-Mirror-Waive-PM-AWS-001", "2026-03-31_team_t", "the key must be lowercase"),
        (
            "phase-mirror-waive-pm-aws-001",
            "04da6b54-80e4-46f7-96ec-b56ff0331ba9",
            "unknown at preview",
        ),
    ],
)
def test_malformed_inline_waivers_stop_the_gate(key: str, value: str, message: str) -> None:
    entries = no_pitr()
    tag(entries, "table-fp-events", key, value)
    result = gate(entries)
    assert result.exit_code == EXIT_GATE_ERROR
    [error] = result.errors
    assert message in error and "::table-fp-events: inline waiver" in error
    # The findings are still evaluated and reported, unwaived.
    assert any(f.rule_id == "PM-AWS-001" and not f.suppressed for f in result.findings)


def test_other_tags_and_non_string_values() -> None:
    entries = no_pitr()
    tag(entries, "table-fp-events", "Store", "fp-events")  # ordinary tags are ignored
    assert not gate(entries).errors
    find(entries, "table-fp-events")["inputs"]["tags"] = {tag_key("PM-AWS-001"): 42}
    [error] = gate(entries).errors
    assert "the value must be a string" in error
