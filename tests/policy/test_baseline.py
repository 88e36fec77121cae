"""Baseline mode: record today's findings, fail only on new ones, list stale entries; the file
format and its errors; the identity survives unrelated edits of the program."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml
from phase_policy.baseline import BaselineFileError, load_baseline, parse_baseline
from phase_policy.cli import main
from phase_policy.findings import fingerprint, split_path

from tests.policy.builders import aws_stack, setting

TODAY = "2026-03-01"


def write_graph(path: Path, entries: list[dict[str, Any]], stack: str = "staging") -> Path:
    path.write_text(json.dumps({"project": "phase-mirror", "stack": stack, "resources": entries}))
    return path


def broken(*extra: tuple[str, str, object]) -> list[dict[str, Any]]:
    """The AWS fixture without PITR on fp-events (plus `extra` (name, path, value) breakages)."""
    entries = aws_stack()
    setting("table-fp-events", "pointInTimeRecovery.enabled", False)(entries)
    for name, path, value in extra:
        setting(name, path, value)(entries)
    return entries


def check(graph: Path, *args: str) -> list[str]:
    return ["check", "--graph", str(graph), "--today", TODAY, *args]


def report(capsys: pytest.CaptureFixture[str]) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(capsys.readouterr().out)
    return data


def new_rules(data: dict[str, Any]) -> set[str]:
    return {
        f["rule"]
        for t in data["targets"]
        for f in t["findings"]
        if f["blocking"] and not f["baselined"]
    }


@pytest.fixture
def recorded(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> Path:
    """A baseline written from the broken stack."""
    graph = write_graph(tmp_path / "today.json", broken())
    baseline = tmp_path / "baseline.yaml"
    assert main([*check(graph, "--format", "json"), "--write-baseline", str(baseline)]) == 0
    data = report(capsys)
    assert data["baseline"]["file"] == str(baseline) and not new_rules(data)
    return baseline


def test_written_baseline_is_documented_yaml(recorded: Path) -> None:
    document = yaml.safe_load(recorded.read_text())
    assert recorded.read_text().startswith("# phase-mirror-gate baseline")
    assert document["version"] == 1 and document["tool"] == "phase-mirror-gate"
    rules = {entry["rule"] for entry in document["findings"]}
    assert "PM-AWS-001" in rules
    for entry in document["findings"]:
        assert entry["fingerprint"] == fingerprint(entry["rule"], entry["urn"], entry["path"])
        assert entry["cloud"] == "aws" and entry["stack"] == "staging"
    assert len(load_baseline(recorded)) == len(document["findings"])


def test_known_findings_pass_new_ones_fail(
    tmp_path: Path, recorded: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    same = write_graph(tmp_path / "same.json", broken())
    assert main([*check(same, "--format", "json"), "--baseline", str(recorded)]) == 0
    data = report(capsys)
    pitr = [f for f in data["targets"][0]["findings"] if f["rule"] == "PM-AWS-001"]
    assert pitr and all(f["baselined"] and not f["blocking"] for f in pitr)
    assert data["baseline"]["stale"] == []

    worse = write_graph(
        tmp_path / "worse.json", broken(("table-api-keys", "serverSideEncryption", None))
    )
    assert main([*check(worse, "--format", "json"), "--baseline", str(recorded)]) == 1
    data = report(capsys)
    assert "PM-AWS-003" in new_rules(data) and "PM-AWS-001" not in new_rules(data)


def test_text_report_shows_only_new_findings(
    tmp_path: Path, recorded: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    worse = write_graph(
        tmp_path / "worse.json", broken(("table-api-keys", "serverSideEncryption", None))
    )
    assert main([*check(worse), "--baseline", str(recorded)]) == 1
    text = capsys.readouterr().out
    assert "ERROR  PM-AWS-003" in text and "PM-AWS-001" not in text
    assert f"recorded in the baseline {recorded} not shown" in text
    assert "baselined" in text.splitlines()[0]


def test_fixed_findings_are_listed_as_stale(
    tmp_path: Path, recorded: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    fixed = write_graph(tmp_path / "fixed.json", aws_stack())
    main([*check(fixed, "--format", "json"), "--baseline", str(recorded)])
    stale = report(capsys)["baseline"]["stale"]
    assert any(e["rule"] == "PM-AWS-001" and e["urn"].endswith("::table-fp-events") for e in stale)
    main([*check(fixed), "--baseline", str(recorded)])
    text = capsys.readouterr().out
    assert "stale entr" in text and "STALE  PM-AWS-001 aws/staging table-fp-events" in text


def test_stale_is_judged_only_for_evaluated_targets(
    tmp_path: Path, recorded: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # The same resources evaluated as another stack: the staging entries are out of scope.
    other = write_graph(tmp_path / "prod.json", aws_stack(), stack="qa")
    main([*check(other, "--format", "json"), "--baseline", str(recorded)])
    assert report(capsys)["baseline"]["stale"] == []


def test_identity_survives_unrelated_edits(
    tmp_path: Path, recorded: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    entries = broken()
    entries.reverse()  # another registration order
    entries.append(  # and one more, unrelated, compliant resource
        {
            "type": "aws:sns/topic:Topic",
            "name": "extra-topic",
            "inputs": {"name": "extra", "kmsMasterKeyId": "arn:aws:kms:us-east-1:1:key/x"},
        }
    )
    edited = write_graph(tmp_path / "edited.json", entries)
    assert main([*check(edited, "--format", "json"), "--baseline", str(recorded)]) == 0
    assert report(capsys)["baseline"]["stale"] == []


def test_waived_findings_are_not_recorded(tmp_path: Path) -> None:
    waivers = tmp_path / "w.yaml"
    waivers.write_text(
        "waivers:\n  - {rule: PM-AWS-001, resource: table-fp-events, reason: r, owner: o,"
        " expires: 2026-03-31}\n"
    )
    graph = write_graph(tmp_path / "g.json", broken())
    baseline = tmp_path / "b.json"
    main([*check(graph, "--waivers", str(waivers)), "--write-baseline", str(baseline)])
    rules = {e["rule"] for e in json.loads(baseline.read_text())["findings"]}
    assert "PM-AWS-001" not in rules and "PM-STACK-002" in rules  # the JSON flavour, too


def test_rewriting_with_both_options_reports_what_went_stale(
    tmp_path: Path, recorded: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    fixed = write_graph(tmp_path / "fixed.json", aws_stack())
    fresh = tmp_path / "fresh.yaml"
    code = main(
        [
            *check(fixed, "--format", "json"),
            "--baseline",
            str(recorded),
            "--write-baseline",
            str(fresh),
        ]
    )
    assert code == 0
    data = report(capsys)
    assert data["baseline"]["file"] == str(fresh)
    assert not any(e.rule == "PM-AWS-001" for e in load_baseline(fresh))


def test_baseline_is_not_written_from_an_incomplete_run(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text("{")
    baseline = tmp_path / "b.yaml"
    assert main(["check", "--graph", str(bad), "--write-baseline", str(baseline)]) == 2
    err = capsys.readouterr().err
    assert "not writing" in err and "the run was incomplete" in err and not baseline.exists()


def test_sarif_marks_new_and_unchanged_results(
    tmp_path: Path, recorded: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    worse = write_graph(
        tmp_path / "worse.json", broken(("table-api-keys", "serverSideEncryption", None))
    )
    main([*check(worse, "--format", "sarif"), "--baseline", str(recorded)])
    run = json.loads(capsys.readouterr().out)["runs"][0]
    states = {(r["ruleId"], r["baselineState"]) for r in run["results"] if "baselineState" in r}
    assert ("PM-AWS-001", "unchanged") in states and ("PM-AWS-003", "new") in states
    for item in run["results"]:
        if item.get("baselineState") == "unchanged":
            [suppression] = item["suppressions"]
            assert (
                suppression["status"] == "accepted"
                and str(recorded) in suppression["justification"]
            )
    assert run["properties"]["baseline"] == str(recorded)


GOOD = {"rule": "PM-AWS-001", "cloud": "aws", "stack": "staging", "urn": "urn:pulumi:s::p::t::n"}


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ([], "expected a mapping with `version: 1`"),
        ({"findings": []}, "missing `version`"),
        ({"version": 2, "findings": []}, "baseline version 2 is not supported"),
        ({"version": True, "findings": []}, "baseline version True is not supported"),
        ({"version": 1, "findings": {}}, "`findings` must be a list"),
        ({"version": 1, "extra": 1}, "unknown field(s) extra"),
        ({"version": 1, "findings": ["x"]}, "finding #1: expected a mapping"),
        ({"version": 1, "findings": [GOOD | {"urn": ""}]}, "finding #1: missing urn"),
        ({"version": 1, "findings": [GOOD | {"why": "x"}]}, "unknown field(s) why"),
        ({"version": 1, "findings": [GOOD | {"urn": "arn:aws:x"}]}, "is not a Pulumi URN"),
        ({"version": 1, "findings": [GOOD | {"path": 3}]}, "`path` must be a string"),
        ({"version": 1, "findings": [GOOD | {"fingerprint": "00"}]}, "does not match"),
        ({"version": 1, "findings": [GOOD, GOOD]}, "finding #2: same finding as #1"),
    ],
)
def test_malformed_baselines_are_named(data: object, message: str) -> None:
    with pytest.raises(BaselineFileError) as caught:
        parse_baseline(data, source="b.yaml")
    assert message in str(caught.value) and str(caught.value).startswith("b.yaml")


def test_unusable_baseline_file_exits_2_with_nothing_on_stdout(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    graph = write_graph(tmp_path / "g.json", aws_stack())
    (tmp_path / "b.yaml").write_text("version: [\n")
    for path, message in (
        (tmp_path / "b.yaml", "is not valid YAML"),
        (tmp_path / "no.yaml", "cannot read"),
    ):
        assert main([*check(graph), "--baseline", str(path)]) == 2
        captured = capsys.readouterr()
        assert message in captured.err and captured.out == ""


def test_split_path_names_the_property_or_masks_values() -> None:
    assert split_path("encryption is off [at serverSideEncryption.enabled]") == (
        "encryption is off",
        "serverSideEncryption.enabled",
    )
    assert split_path("grants x [at members[0]]") == ("grants x", "members[0]")
    _, five = split_path("deletion window is 5 days; staging needs at least 7")
    _, six = split_path("deletion window is 6 days; staging needs at least 7")
    assert five == six == "msg:deletion window is # days; staging needs at least #"
    _, quoted = split_path("rotation period 'P1Y' is not a duration")
    assert quoted == "msg:rotation period * is not a duration"
