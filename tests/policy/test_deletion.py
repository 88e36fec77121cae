"""The stateful-deletion gate on `pulumi preview --json` digests (Pulumi's documented shape:
`steps` with `op`, `urn`, `oldState`, `newState`, `replaceReasons`; `changeSummary`)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from phase_policy.cli import main
from phase_policy.deletion import PreviewFileError, judge, load_preview, render

PROJECT = "phase-mirror"
PREFIX = {"production": "phase-mirror-production", "staging": "phase-mirror-staging"}


def urn(stack: str, type_: str, name: str) -> str:
    return f"urn:pulumi:{stack}::{PROJECT}::phase-mirror:platform:AwsPlatform${type_}::{name}"


def state(stack: str, type_: str, name: str, **extra: Any) -> dict[str, Any]:
    return {
        "urn": urn(stack, type_, name),
        "custom": True,
        "type": type_,
        "id": name,
        "inputs": {"name": f"{PREFIX.get(stack, stack)}-{name}"},
        "outputs": {"name": f"{PREFIX.get(stack, stack)}-{name}"},
        "parent": f"urn:pulumi:{stack}::{PROJECT}::phase-mirror:platform:AwsPlatform::phase-mirror",
        "provider": f"urn:pulumi:{stack}::{PROJECT}::pulumi:providers:aws::default::id",
        **extra,
    }


def step(op: str, stack: str, type_: str, name: str, **extra: Any) -> dict[str, Any]:
    entry: dict[str, Any] = {"op": op, "urn": urn(stack, type_, name)}
    if op in ("delete", "replace", "update", "same", "delete-replaced"):
        entry["oldState"] = state(stack, type_, name, **extra.pop("old", {}))
    if op in ("create", "replace", "update", "same", "create-replacement"):
        entry["newState"] = state(stack, type_, name)
    entry.update(extra)
    return entry


def preview(*steps: dict[str, Any]) -> dict[str, Any]:
    summary: dict[str, int] = {}
    for s in steps:
        summary[s["op"]] = summary.get(s["op"], 0) + 1
    return {"config": {}, "steps": list(steps), "changeSummary": summary, "duration": 1200000000}


TABLE = "aws:dynamodb/table:Table"
ALARM = "aws:cloudwatch/metricAlarm:MetricAlarm"


def test_harmless_preview_passes() -> None:
    verdict = judge(
        preview(
            step("same", "production", TABLE, "table-fp-events"),
            step("update", "production", TABLE, "table-consent", diffReasons=["tags"]),
            step("delete", "production", ALARM, "old-alarm"),
            step("create", "production", "aws:s3/bucket:Bucket", "new-bucket"),
        )
    )
    assert verdict.exit_code == 0 and not verdict.changes
    assert "PASS - no stateful resource" in render(verdict)


@pytest.mark.parametrize(
    ("type_", "kind"),
    [
        (TABLE, "table"),
        ("gcp:firestore/database:Database", "database"),
        ("aws:kms/key:Key", "key"),
        ("gcp:kms/keyRing:KeyRing", "key ring"),
        ("gcp:secretmanager/secret:Secret", "secret"),
        ("aws:s3/bucket:Bucket", "bucket"),
        ("aws:ssm/parameter:Parameter", "parameter"),
    ],
)
def test_production_refuses_deleting_any_stateful_kind(type_: str, kind: str) -> None:
    verdict = judge(preview(step("delete", "production", type_, "thing")))
    assert verdict.exit_code == 1
    [change] = verdict.refused
    assert change.kind == kind and change.action == "delete"
    text = render(verdict)
    assert "REFUSED" in text and change.urn in text and "why:" in text


def test_production_refuses_replacement_with_its_reasons_and_no_flag_helps() -> None:
    doc = preview(
        step("create-replacement", "production", TABLE, "table-fp-events"),
        step("replace", "production", TABLE, "table-fp-events", replaceReasons=["hashKey"]),
        step("delete-replaced", "production", TABLE, "table-fp-events"),
    )
    verdict = judge(doc, allow_staging=True)
    [change] = verdict.refused
    assert change.action == "replace" and change.replace_reasons == ("hashKey",)
    assert "replaced because hashKey changed" in render(verdict)


def test_staging_needs_the_explicit_flag() -> None:
    doc = preview(step("delete", "staging", "aws:s3/bucket:Bucket", "bucket-baselines"))
    refused = judge(doc)
    assert refused.exit_code == 1 and "--allow-staging-deletions" in render(refused)
    allowed = judge(doc, allow_staging=True)
    assert allowed.exit_code == 0 and allowed.allowed_by_flag
    assert "allowed by --allow-staging-deletions" in render(allowed)


def test_other_stacks_are_reported_not_refused() -> None:
    verdict = judge(preview(step("delete", "dev", TABLE, "t")))
    assert verdict.exit_code == 0 and len(verdict.changes) == 1


def test_retain_on_delete_is_only_forgotten() -> None:
    verdict = judge(preview(step("delete", "production", TABLE, "t", old={"retainOnDelete": True})))
    assert verdict.exit_code == 0
    assert "retainOnDelete" in render(verdict)


def test_stack_flag_overrides_the_urn() -> None:
    doc = preview(step("delete", "acme-production", TABLE, "t"))
    assert judge(doc).environment == "production"
    assert judge(doc, stack="sandbox").exit_code == 0


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("not json", "is not JSON"),
        ("[1, 2]", "expected the object `pulumi preview --json` prints"),
        ('{"steps": [{"op": "delete"}]}', "steps[0]: a step needs `op` and `urn`"),
    ],
)
def test_unreadable_previews_are_gate_errors(text: str, message: str) -> None:
    with pytest.raises(PreviewFileError, match=message.replace("[", r"\[").replace("]", r"\]")):
        judge(load_preview(None, text))


def test_cli_exit_codes_and_json(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "preview.json"
    path.write_text(json.dumps(preview(step("delete", "production", TABLE, "table-fp-events"))))
    assert main(["deletions", str(path)]) == 1
    out = capsys.readouterr().out
    assert out.startswith("deletion gate: REFUSED")
    assert main(["deletions", str(path), "--format", "json"]) == 1
    data = json.loads(capsys.readouterr().out)
    assert data["verdict"] == "refused" and data["changes"][0]["refused"] is True
    path.write_text("{")
    assert main(["deletions", str(path)]) == 2
    captured = capsys.readouterr()
    assert captured.out == "" and "is not JSON" in captured.err
    assert main(["deletions", str(tmp_path / "absent.json")]) == 2
    assert "cannot read" in capsys.readouterr().err
