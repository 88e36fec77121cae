"""The SARIF the gate uploads: valid against the OASIS 2.1.0 schema, within GitHub code scanning's
documented constraints, with fingerprints that survive unrelated edits and a helpUri per rule.

GitHub's constraints, from its "SARIF support for code scanning" reference and its SARIF limits
table: `$schema`, `version` 2.1.0 and `runs` required; at most 20 runs per file, 25,000 results
and 25,000 rules per run, 1,000 locations per result, 20 tags per rule; `tool.driver.name` and
`rules[]` required; per rule `id`, `shortDescription.text`, `fullDescription.text` (at most 1024
characters each) and `help.text` required, `name` at most 255 characters,
`defaultConfiguration.level` one of note/warning/error, `precision` one of
very-high/high/medium/low, `security-severity` a score in (0, 10]; per result `message.text`
and at least one location with `physicalLocation.artifactLocation.uri` (repository-relative)
and a region (`startLine`, `startColumn`, `endLine`, `endColumn`) required, only the first
location used; `partialFingerprints` required, and only `primaryLocationLineHash` read. Empty
strings are not accepted for required properties.
"""

from __future__ import annotations

import json
import re
from datetime import date
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from phase_policy.baseline import parse_baseline
from phase_policy.findings import GateResult
from phase_policy.gate import TargetSpec, run_gate
from phase_policy.graph import graph_from_entries
from phase_policy.inline_waivers import encode
from phase_policy.sarif import FINGERPRINT_KEY, GITHUB_LIMITS, to_sarif

from tests.policy.builders import aws_stack, find, gcp_stack, setting
from tests.policy.test_reports import sample_waivers

ROOT = Path(__file__).resolve().parents[2]
SCHEMA = ROOT / "tests" / "oracle" / "sarif-schema-2.1.0.json"
TODAY = date(2026, 3, 1)
LEVELS = {"note", "warning", "error"}
PRECISIONS = {"very-high", "high", "medium", "low"}


def github_problems(sarif: dict[str, Any]) -> list[str]:
    """Every way `sarif` breaks GitHub code scanning's documented upload constraints."""
    problems: list[str] = []

    def need(ok: object, what: str) -> None:
        if not ok:
            problems.append(what)

    def text(value: object) -> bool:
        return isinstance(value, str) and value.strip() != ""

    need(text(sarif.get("$schema")), "$schema")
    need(sarif.get("version") == "2.1.0", "version 2.1.0")
    runs = sarif.get("runs") or []
    need(0 < len(runs) <= GITHUB_LIMITS["runs"], "1..20 runs")
    for r, run in enumerate(runs):
        driver = run.get("tool", {}).get("driver", {})
        need(text(driver.get("name")), f"run {r}: tool.driver.name")
        rules = driver.get("rules")
        need(isinstance(rules, list) and len(rules) <= GITHUB_LIMITS["rules_per_run"], "rules[]")
        ids = [rule.get("id") for rule in rules or []]
        need(len(set(ids)) == len(ids), f"run {r}: unique rule ids")
        for rule in rules or []:
            where = f"rule {rule.get('id')}"
            need(text(rule.get("id")), f"{where}: id")
            need(len(rule.get("name", "")) <= GITHUB_LIMITS["rule_name"], f"{where}: name <= 255")
            for field in ("shortDescription", "fullDescription"):
                value = rule.get(field, {}).get("text")
                need(text(value) and len(value) <= 1024, f"{where}: {field}.text (1..1024)")
            need(text(rule.get("help", {}).get("text")), f"{where}: help.text")
            need(text(rule.get("helpUri")), f"{where}: helpUri")
            level = rule.get("defaultConfiguration", {}).get("level", "warning")
            need(level in LEVELS, f"{where}: defaultConfiguration.level {level}")
            props = rule.get("properties", {})
            need(len(props.get("tags", [])) <= GITHUB_LIMITS["tags_per_rule"], f"{where}: tags")
            need(props.get("precision", "high") in PRECISIONS, f"{where}: precision")
            if "security-severity" in props:
                score = float(props["security-severity"])
                need(0 < score <= 10, f"{where}: security-severity in (0, 10]")
        results = run.get("results")
        need(isinstance(results, list), f"run {r}: results[]")
        need(len(results or []) <= GITHUB_LIMITS["results_per_run"], f"run {r}: results <= 25000")
        hashes = []
        for i, result in enumerate(results or []):
            where = f"run {r} result {i} ({result.get('ruleId')})"
            need(result.get("ruleId") in ids, f"{where}: ruleId names a rule")
            if "ruleIndex" in result:
                need(ids[result["ruleIndex"]] == result["ruleId"], f"{where}: ruleIndex")
            need(result.get("level", "warning") in LEVELS, f"{where}: level")
            need(text(result.get("message", {}).get("text")), f"{where}: message.text")
            locations = result.get("locations") or []
            need(0 < len(locations) <= GITHUB_LIMITS["locations_per_result"], f"{where}: locations")
            for location in locations[:1]:
                physical = location.get("physicalLocation", {})
                uri = physical.get("artifactLocation", {}).get("uri", "")
                need(text(uri), f"{where}: artifactLocation.uri")
                need(
                    not uri.startswith("/") and not re.match(r"^[a-z]+:", uri),
                    f"{where}: uri {uri!r} is repository-relative",
                )
                region = physical.get("region", {})
                for key in ("startLine", "startColumn", "endLine", "endColumn"):
                    need(isinstance(region.get(key), int) and region[key] >= 1, f"{where}: {key}")
            prints = result.get("partialFingerprints", {})
            need(text(prints.get("primaryLocationLineHash")), f"{where}: primaryLocationLineHash")
            hashes.append(prints.get("primaryLocationLineHash"))
            for suppression in result.get("suppressions", []):
                need(suppression.get("kind") in {"inSource", "external"}, f"{where}: kind")
                need(text(suppression.get("justification")), f"{where}: justification")
        need(len(set(hashes)) == len(hashes), f"run {r}: one alert per result (distinct hashes)")
        category = run.get("automationDetails", {}).get("id", "/")
        need(category.endswith("/"), f"run {r}: automationDetails.id is a category")
    return problems


def _graph(entries: list[dict[str, Any]], stack: str = "staging") -> TargetSpec:
    cloud = "gcp" if any(e["type"].startswith("gcp:") for e in entries) else "aws"
    graph = graph_from_entries(entries, project="phase-mirror", stack=stack)
    return TargetSpec(cloud, stack, lambda: graph)


@pytest.fixture(scope="module")
def everything() -> GateResult:
    """Blocking, waived (file and inline), baselined, advisory, undecidable findings on both
    clouds, a waiver problem and a stale baseline entry."""
    aws = aws_stack()
    setting("table-fp-events", "pointInTimeRecovery.enabled", False)(aws)  # file waiver
    setting("table-api-keys", "pointInTimeRecovery.enabled", False)(aws)  # inline waiver
    key, value = encode("PM-AWS-001", expires=date(2026, 3, 31), owner="platform", reason="t-1")
    find(aws, "table-api-keys")["inputs"].setdefault("tags", {})[key] = value
    setting("table-api-keys", "serverSideEncryption", None)(aws)  # blocking
    setting("backup-vault", "kmsKeyArn", None)(aws)  # advisory
    setting("data-access", "policy", "04da6b54-80e4-46f7-96ec-b56ff0331ba9")(aws)  # unknown
    gcp = gcp_stack()
    setting("bucket", "publicAccessPrevention", "inherited")(gcp)  # baselined
    waivers = sample_waivers("platform/policypack/waivers.yaml")
    targets = [_graph(aws), _graph(gcp)]
    first = run_gate(targets, waivers=waivers, today=TODAY)
    bucket = [f for f in first.findings if f.rule_id == "PM-GCP-006"]
    entries = parse_baseline(
        {
            "version": 1,
            "findings": [
                *(
                    {
                        "rule": f.rule_id,
                        "cloud": f.cloud,
                        "stack": f.stack,
                        "urn": f.urn,
                        "path": f.path,
                    }
                    for f in bucket
                ),
                {"rule": "PM-GCP-005", "cloud": "gcp", "stack": "staging", "urn": bucket[0].urn},
            ],
        }
    )
    return run_gate(
        targets, waivers=waivers, today=TODAY, baseline=entries, baseline_source="baseline.yaml"
    )


def test_the_result_covers_every_kind(everything: GateResult) -> None:
    findings = everything.findings
    assert any(f.waiver and not f.waiver.inline for f in findings)
    assert any(f.waiver and f.waiver.inline for f in findings)
    assert any(f.baselined for f in findings) and everything.stale
    assert {f.level for f in findings} == LEVELS
    assert everything.waiver_problems


def test_sarif_validates_against_the_2_1_0_schema(everything: GateResult) -> None:
    jsonschema.validate(to_sarif(everything), json.loads(SCHEMA.read_text()))


def test_sarif_meets_githubs_documented_constraints(everything: GateResult) -> None:
    assert github_problems(to_sarif(everything)) == []


def test_the_validator_catches_what_github_refuses(everything: GateResult) -> None:
    sarif = to_sarif(everything)
    result = sarif["runs"][0]["results"][0]
    result["message"]["text"] = ""
    del result["partialFingerprints"]["primaryLocationLineHash"]
    result["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] = "/abs/Pulumi.yaml"
    result["level"] = "none"
    sarif["runs"][0]["tool"]["driver"]["rules"][0]["properties"]["tags"] = ["t"] * 21
    found = "\n".join(github_problems(sarif))
    for expected in (
        "message.text",
        "primaryLocationLineHash",
        "repository-relative",
        "level",
        "tags",
    ):
        assert expected in found


def test_every_rule_has_a_help_uri_to_its_docs_anchor(everything: GateResult) -> None:
    docs = (ROOT / "docs" / "policy.md").read_text()
    anchors = set(re.findall(r'<a id="([^"]+)"></a>', docs))
    for rule in to_sarif(everything)["runs"][0]["tool"]["driver"]["rules"]:
        base, _, anchor = rule["helpUri"].partition("#")
        assert base.endswith("/docs/policy.md"), rule["helpUri"]
        assert anchor in anchors, f"{rule['id']}: docs/policy.md has no anchor {anchor!r}"


def _prints(result: GateResult) -> dict[tuple[str, str], dict[str, str]]:
    run = to_sarif(result)["runs"][0]
    return {
        (r["ruleId"], r["locations"][0]["logicalLocations"][0]["fullyQualifiedName"]): r[
            "partialFingerprints"
        ]
        for r in run["results"]
        if r["ruleId"] != "PM-GATE-001"
    }


def test_fingerprints_survive_unrelated_edits() -> None:
    entries = aws_stack()
    setting("table-fp-events", "pointInTimeRecovery.enabled", False)(entries)
    setting("table-api-keys", "serverSideEncryption", None)(entries)
    before = _prints(run_gate([_graph(entries)], today=TODAY))
    extra = {"type": "aws:sns/topic:Topic", "name": "extra", "inputs": {"kmsMasterKeyId": "k"}}
    edited = [*reversed(entries), extra]
    setting("alarms", "name", "renamed-topic-name")(edited)  # another resource's property
    after = _prints(run_gate([_graph(edited)], today=TODAY))
    assert {k: v for k, v in after.items() if k in before} == before
    hashes = [p["primaryLocationLineHash"] for p in before.values()]
    assert len(set(hashes)) == len(hashes)
    assert all(FINGERPRINT_KEY in p for p in before.values())


def test_fingerprints_differ_by_stack_and_resource() -> None:
    entries = aws_stack()
    setting("table-fp-events", "pointInTimeRecovery.enabled", False)(entries)
    setting("table-api-keys", "pointInTimeRecovery.enabled", False)(entries)
    staging = _prints(run_gate([_graph(entries)], today=TODAY))
    production = _prints(run_gate([_graph(entries, "production")], today=TODAY))
    pitr = [v[FINGERPRINT_KEY] for k, v in staging.items() if k[0] == "PM-AWS-001"]
    assert len(set(pitr)) == 2
    assert not {v[FINGERPRINT_KEY] for v in staging.values()} & {
        v[FINGERPRINT_KEY] for v in production.values()
    }
