"""Inputs: safe YAML with lines, the config file (unknown keys and bad values name the key),
the context file, CODEOWNERS matching and workflow parsing edge cases."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from service.oracle.codeowners import owner_problem, parse_codeowners
from service.oracle.config import ConfigError, parse_config
from service.oracle.context import ContextError, context_from, load_context
from service.oracle.model import Severity
from service.oracle.rules import known_checks
from service.oracle.workflows import load_workflow
from service.oracle.yamlsrc import YamlError, YMap, parse

# ----------------------------------------------------------------- YAML


def test_yaml_keeps_on_as_a_string_and_lines() -> None:
    doc = parse("name: x\non:\n  push:\njobs: {}\n")
    assert isinstance(doc, YMap) and "on" in doc and True not in doc
    assert doc.line_of("on") == 2 and doc.line_of("jobs") == 4


def test_yaml_refuses_object_construction(tmp_path: Path) -> None:
    marker = tmp_path / "pwned"
    text = f"on: push\nx: !!python/object/apply:os.system ['touch {marker}']\n"
    result = parse(text)
    assert isinstance(result, YamlError) and result.line == 2
    assert not marker.exists()


def test_yaml_alias_bomb_is_cheap() -> None:
    lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    lines += [f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 10)}]" for i in range(1, 9)]
    doc = parse("\n".join(lines) + "\n")
    assert isinstance(doc, YMap) and doc["a8"][0] is doc["a7"]  # shared, not expanded


def test_merge_keys_are_supported() -> None:
    doc = parse("base: &b {runs-on: ubuntu}\njob:\n  <<: *b\n  name: j\n")
    assert isinstance(doc, YMap) and doc["job"] == {"runs-on": "ubuntu", "name": "j"}


@pytest.mark.parametrize(
    ("text", "line"),
    [("on: [push\n", 2), ("a: b\n c: d\n", 2), ("\t- tab\n", 1), ("jobs:\n  x: 'unclosed\n", 3)],
)
def test_malformed_yaml_reports_a_line(text: str, line: int) -> None:
    workflow = load_workflow("w.yml", text)
    assert workflow.problem is not None and workflow.problem.malformed
    assert workflow.problem.line == line


def test_workflow_trigger_shapes() -> None:
    assert load_workflow("a", "on: push\njobs: {x: {runs-on: u}}\n").triggers == {"push": None}
    assert set(load_workflow("a", "on: [push, pull_request]\njobs: {x: {}}\n").triggers) == {
        "push",
        "pull_request",
    }
    assert load_workflow("a", "jobs: {x: {}}\n").problem is not None


# ----------------------------------------------------------------- config


KNOWN = known_checks()


def test_config_round_trip() -> None:
    config = parse_config(
        "version: 1\n"
        "rules:\n"
        "  MD-102: {enabled: false}\n"
        "  MD-003:\n"
        "    severity: {unpinned-first-party-action: medium}\n"
        "  MD-004: {severity: critical}\n"
        "thresholds: {block_high: 5, drift_magnitude: 0.25, circuit_breaker_per_hour: 3}\n"
        "governed_paths: ['infra/**']\n"
        "trusted_action_owners: [actions, github, acme]\n",
        KNOWN,
    )
    assert not config.enabled("MD-102") and config.enabled("MD-001")
    assert (
        config.severity_for("MD-003", "unpinned-first-party-action", Severity.LOW)
        is Severity.MEDIUM
    )
    assert config.severity_for("MD-004", "no-codeowners", Severity.HIGH) is Severity.CRITICAL
    assert config.severity_for("MD-004", "evaluation-error", Severity.LOW) is Severity.CRITICAL
    assert config.thresholds.block_high == 5 and config.thresholds.drift_magnitude == 0.25
    assert config.governed_paths == ("infra/**",) and "acme" in config.trusted_action_owners


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "thresholds:\n  block_hgh: 3\n",
            r"\.phase-mirror\.yml:2: unknown key 'thresholds\.block_hgh' \(did you mean 'block_high'\?\)",
        ),
        ("rulez: {}\n", r":1: unknown key 'rulez' \(did you mean 'rules'\?\)"),
        ("rules:\n  MD-009: {enabled: false}\n", r":2: unknown key 'rules\.MD-009'"),
        (
            "rules:\n  MD-003:\n    severity: {unpined-action: low}\n",
            r":3: unknown key 'rules\.MD-003\.severity\.unpined-action' \(did you mean 'unpinned-action'\?\)",
        ),
        (
            "rules:\n  MD-003: {severity: urgent}\n",
            r"rules\.MD-003\.severity: 'urgent' is not a severity",
        ),
        ("rules:\n  MD-003: {enabled: maybe}\n", r"rules\.MD-003\.enabled must be true or false"),
        ("thresholds: {block_high: -1}\n", r"thresholds\.block_high must be a whole number >= 0"),
        (
            "thresholds: {drift_magnitude: 2}\n",
            r"thresholds\.drift_magnitude must be a number between 0 and 1",
        ),
        ("governed_paths: ['/etc/passwd']\n", r"must be relative to the repository root"),
        ("version: 2\n", r"unsupported version 2"),
        ("rules: [MD-001]\n", r"rules must be a mapping"),
        ("rules: {MD-001: {enabled: true}\n", r":2: invalid YAML"),
    ],
)
def test_config_errors_name_the_key(text: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        parse_config(text, KNOWN)


def test_empty_config_is_the_default() -> None:
    assert parse_config("", KNOWN).thresholds.block_medium == 10


# ----------------------------------------------------------------- context


def test_context_accepts_event_payload_shape(tmp_path: Path) -> None:
    event = {
        "action": "synchronize",
        "number": 3,
        "pull_request": {
            "user": {"login": "dev"},
            "head": {"sha": "a" * 40, "ref": "f"},
            "base": {"ref": "main"},
        },
        "repository": {"full_name": "acme/widgets", "default_branch": "trunk"},
        "sender": {"login": "dev"},
    }
    path = tmp_path / "event.json"
    path.write_text(json.dumps(event))
    context = load_context(path)
    assert (context.author, context.head_sha, context.base_ref) == ("dev", "a" * 40, "main")
    assert context.repository_name == "acme/widgets" and context.default_branch == "trunk"
    assert not context.knows_protection


def test_context_errors(tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text('{"pull_request": ')
    with pytest.raises(ContextError, match="not valid JSON"):
        load_context(bad)
    with pytest.raises(ContextError, match="'rules' must be array"):
        context_from({"rules": {}})
    with pytest.raises(ContextError, match="must be a JSON object"):
        context_from([])
    with pytest.raises(ContextError, match="cannot read"):
        load_context(tmp_path / "missing.json")


# ----------------------------------------------------------------- CODEOWNERS


def test_codeowners_last_match_wins_and_empty_owner_unowns() -> None:
    owners = parse_codeowners(
        "CODEOWNERS", "* @acme/all\n/.github/ @acme/platform\n/.github/dependabot.yml\n"
    )
    assert owners.owners_of("src/x.py") == ("@acme/all",)
    assert owners.owners_of(".github/workflows/ci.yml") == ("@acme/platform",)
    assert owners.owners_of(".github/dependabot.yml") == ()


@pytest.mark.parametrize(
    ("owner", "problem"),
    [
        ("@acme/platform", None),
        ("@octo-dev", None),
        ("dev@acme.io", None),
        ("@username", "placeholder"),
        ("@your-org/team-name", "placeholder"),
        ("@ORG/TEAM", "placeholder"),
        ("owner@example.com", "placeholder e-mail"),
        ("<your-team>", "not a valid owner"),
        ("@bad_name!", "not a valid owner"),
    ],
)
def test_owner_problems(owner: str, problem: str | None) -> None:
    found = owner_problem(owner)
    assert (found is None) if problem is None else (found is not None and problem in found)
