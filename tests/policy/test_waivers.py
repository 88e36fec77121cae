"""Waivers as code: parsing with clear errors, suppression, expiry, unused waivers, scope."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from phase_policy.findings import EXIT_PASS, EXIT_VIOLATIONS
from phase_policy.gate import TargetSpec, run_gate
from phase_policy.graph import graph_from_entries
from phase_policy.rules import RULES
from phase_policy.waivers import WaiverFileError, load_waivers, parse_waivers

from tests.policy.builders import aws_stack, setting

TODAY = date(2026, 3, 1)
KNOWN = [rule.id for rule in RULES]


def waiver(**overrides: object) -> dict[str, object]:
    entry: dict[str, object] = {
        "rule": "PM-AWS-001",
        "resource": "table-fp-events",
        "reason": "Migrating fp-events to a new table; PITR restored by TICKET-42",
        "owner": "platform@example.com",
        "expires": "2026-03-31",
    }
    entry.update(overrides)
    return entry


def broken_target(stack: str = "staging") -> TargetSpec:
    entries = aws_stack()
    setting("table-fp-events", "pointInTimeRecovery.enabled", False)(entries)
    graph = graph_from_entries(entries, project="phase-mirror", stack=stack)
    return TargetSpec("aws", stack, lambda: graph)


def gate(*entries: dict[str, object], today: date = TODAY, targets: list[TargetSpec] | None = None):  # type: ignore[no-untyped-def]
    waivers = parse_waivers({"waivers": list(entries)}, known_rules=KNOWN, today=TODAY)
    return run_gate(targets or [broken_target()], waivers=waivers, today=today)


def test_a_waived_finding_is_suppressed_not_dropped() -> None:
    result = gate(waiver())
    pitr = [f for f in result.findings if f.rule_id == "PM-AWS-001"]
    assert len(pitr) == 1 and pitr[0].suppressed and not pitr[0].blocking
    assert "TICKET-42" in pitr[0].waiver.justification  # type: ignore[union-attr]
    # The parity rule also sees the missing PITR; it is not waived, so the gate still fails.
    assert {f.rule_id for f in result.blocking} == {"PM-STACK-002"}
    both = gate(waiver(), waiver(rule="PM-STACK-002", resource="*"))
    assert both.exit_code == EXIT_PASS
    assert not both.waiver_problems


def test_patterns_match_urn_or_logical_name() -> None:
    assert (
        gate(waiver(resource="table-fp-*"), waiver(rule="PM-STACK-002", resource="*")).exit_code
        == 0
    )
    by_urn = waiver(resource="urn:pulumi:staging::phase-mirror::*::table-fp-events")
    assert gate(by_urn, waiver(rule="PM-STACK-002", resource="*")).exit_code == 0


def test_expired_waiver_fails_the_gate_and_suppresses_nothing() -> None:
    result = gate(waiver(expires="2026-02-28"), waiver(rule="PM-STACK-002", resource="*"))
    assert result.exit_code == EXIT_VIOLATIONS
    [problem] = result.waiver_problems
    assert problem.kind == "expired"
    assert "expired on 2026-02-28" in problem.message and "platform@example.com" in problem.message
    assert any(f.rule_id == "PM-AWS-001" and f.blocking for f in result.findings)


def test_waiver_is_valid_through_its_last_day() -> None:
    result = gate(waiver(expires="2026-03-01"), waiver(rule="PM-STACK-002", resource="*"))
    assert result.exit_code == EXIT_PASS


def test_waiver_matching_nothing_fails_the_gate() -> None:
    result = gate(
        waiver(),
        waiver(rule="PM-STACK-002", resource="*"),
        waiver(rule="PM-AWS-009", resource="old-bucket"),
    )
    assert result.exit_code == EXIT_VIOLATIONS
    [problem] = result.waiver_problems
    assert problem.kind == "unmatched" and "PM-AWS-009" in problem.message
    assert "delete it" in problem.message


def test_unused_waiver_is_judged_only_when_the_run_covers_its_scope() -> None:
    # Scoped to production; this run only evaluated staging: no verdict on it.
    scoped = waiver(rule="PM-AWS-009", resource="old-bucket", stacks=["production"])
    result = gate(waiver(), waiver(rule="PM-STACK-002", resource="*"), scoped)
    assert result.exit_code == EXIT_PASS
    # Covering its scope, it is reported.
    both = gate(
        waiver(),
        waiver(rule="PM-STACK-002", resource="*"),
        scoped,
        targets=[broken_target("staging"), broken_target("production")],
    )
    assert any(p.kind == "unmatched" and "PM-AWS-009" in p.message for p in both.waiver_problems)


def test_scope_limits_a_waiver() -> None:
    result = gate(waiver(stacks=["production"]), waiver(rule="PM-STACK-002", resource="*"))
    assert any(f.rule_id == "PM-AWS-001" and f.blocking for f in result.findings)
    result = gate(waiver(clouds=["gcp"]), waiver(rule="PM-STACK-002", resource="*"))
    assert any(f.rule_id == "PM-AWS-001" and f.blocking for f in result.findings)


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        (waiver(owner=""), "missing owner"),
        (waiver(reason=None), "missing reason"),
        (waiver(rule="CKV_AWS_28"), "unknown rule id 'CKV_AWS_28'"),
        (waiver(expires="next month"), "write the last valid day as YYYY-MM-DD"),
        (waiver(expires="2030-01-01"), "more than 366 days ahead"),
        (waiver(extra=1), "unknown field(s) extra"),
        (waiver(stacks="production,staging") | {"stacks": [1]}, "`stacks` must be a list"),
        ("not a mapping", "expected a mapping"),
    ],
)
def test_bad_waiver_entries_are_named(entry: object, message: str) -> None:
    with pytest.raises(WaiverFileError) as caught:
        parse_waivers({"waivers": [entry]}, known_rules=KNOWN, today=TODAY, source="w.yaml")
    assert message in str(caught.value)
    assert "w.yaml: waiver #1" in str(caught.value)


def test_waiver_files_yaml_json_and_errors(tmp_path: Path) -> None:
    path = tmp_path / "waivers.yaml"
    path.write_text(
        "waivers:\n"
        "  - rule: PM-AWS-010\n"
        "    resource: '*baselines*'\n"
        "    reason: partner migration\n"
        "    owner: '@platform'\n"
        "    expires: 2026-06-30\n"
        "    clouds: [aws]\n"
    )
    [loaded] = load_waivers(path, known_rules=KNOWN, today=TODAY)
    assert loaded.expires == date(2026, 6, 30) and loaded.clouds == ("aws",)
    (tmp_path / "w.json").write_text('{"waivers": []}')
    assert load_waivers(tmp_path / "w.json", known_rules=KNOWN, today=TODAY) == []
    (tmp_path / "bad.yaml").write_text("waivers: [\n")
    with pytest.raises(WaiverFileError, match="not valid YAML"):
        load_waivers(tmp_path / "bad.yaml", known_rules=KNOWN, today=TODAY)
    with pytest.raises(WaiverFileError, match="cannot read"):
        load_waivers(tmp_path / "missing.yaml", known_rules=KNOWN, today=TODAY)


def test_the_repository_waiver_file_is_valid() -> None:
    path = Path(__file__).resolve().parents[2] / "platform" / "policypack" / "waivers.yaml"
    load_waivers(path, known_rules=KNOWN, today=date.today())
