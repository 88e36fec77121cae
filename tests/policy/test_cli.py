"""`phase-mirror-gate`: exit codes 0/1/2, reports on stdout only, files on request."""

from __future__ import annotations

import json
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from phase_policy.cli import main, rules_markdown
from phase_policy.rules import RULES

from tests.policy.builders import aws_stack, gcp_stack, setting

ROOT = Path(__file__).resolve().parents[2]


def write_graph(path: Path, entries: list[dict[str, object]], stack: str = "staging") -> Path:
    path.write_text(json.dumps({"project": "phase-mirror", "stack": stack, "resources": entries}))
    return path


def test_passing_graph_exits_0(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    graph = write_graph(tmp_path / "ok.json", aws_stack())
    assert main(["check", "--graph", str(graph), "--format", "json"]) == 0
    captured = capsys.readouterr()
    data = json.loads(captured.out)
    assert data["verdict"] == "pass" and data["targets"][0]["cloud"] == "aws"
    assert "evaluating phase-mirror" in captured.err


def test_violations_exit_1_and_every_report_is_written(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    entries = gcp_stack(production=True)
    setting("bucket", "publicAccessPrevention", "inherited")(entries)
    graph = write_graph(tmp_path / "broken.yaml", entries, stack="production")
    code = main(
        [
            "check",
            "--graph",
            str(graph),
            "--format",
            "sarif",
            "--sarif",
            str(tmp_path / "out" / "gate.sarif"),
            "--junit",
            str(tmp_path / "out" / "gate.xml"),
            "--json",
            str(tmp_path / "out" / "gate.json"),
        ]
    )
    assert code == 1
    stdout = json.loads(capsys.readouterr().out)
    assert stdout == json.loads((tmp_path / "out" / "gate.sarif").read_text())
    assert any(r["ruleId"] == "PM-GCP-006" for r in stdout["runs"][0]["results"])
    assert ET.parse(tmp_path / "out" / "gate.xml").getroot().get("failures") != "0"  # noqa: S314 - our own output
    assert json.loads((tmp_path / "out" / "gate.json").read_text())["exitCode"] == 1


def test_advisory_findings_do_not_fail(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    entries = aws_stack()
    setting("backup-vault", "kmsKeyArn", None)(entries)
    assert main(["check", "--graph", str(write_graph(tmp_path / "g.json", entries))]) == 0
    assert "WARN   PM-AWS-015" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("{", "is not valid JSON"),
        ('{"resources": [{"name": "x"}]}', "missing `type`"),
        (
            '{"resources": [{"type": "t", "name": "x", "parent": "ghost"}]}',
            "unknown parent 'ghost'",
        ),
    ],
)
def test_unreadable_graph_exits_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], content: str, message: str
) -> None:
    path = tmp_path / "bad.json"
    path.write_text(content)
    assert main(["check", "--graph", str(path)]) == 2
    assert message in capsys.readouterr().err


def test_bad_waiver_file_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    waivers = tmp_path / "w.yaml"
    waivers.write_text("waivers:\n  - rule: PM-AWS-001\n")
    graph = write_graph(tmp_path / "ok.json", aws_stack())
    assert main(["check", "--graph", str(graph), "--waivers", str(waivers)]) == 2
    captured = capsys.readouterr()
    assert "missing resource, reason, owner, expires" in captured.err and captured.out == ""


def test_expired_waiver_exits_1(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    waivers = tmp_path / "w.yaml"
    waivers.write_text(
        "waivers:\n  - {rule: PM-AWS-010, resource: '*', reason: r, owner: o, expires: 2026-01-31}\n"
    )
    entries = aws_stack()
    setting("bucket-tls-only", "policy", "{}")(entries)
    graph = write_graph(tmp_path / "g.json", entries)
    args = ["check", "--graph", str(graph), "--waivers", str(waivers)]
    assert main([*args, "--today", "2026-01-31"]) == 0
    capsys.readouterr()
    assert main([*args, "--today", "2026-02-01"]) == 1
    assert "expired on 2026-01-31" in capsys.readouterr().out


def test_usage_errors_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as caught:
        main(["check", "--today", "tomorrow"])
    assert caught.value.code == 2
    assert "use YYYY-MM-DD" in capsys.readouterr().err
    with pytest.raises(SystemExit) as caught:
        main(["nonsense"])
    assert caught.value.code == 2


def test_program_errors_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["check", "--cloud", "aws", "--stack", "qa"]) == 2
    err = capsys.readouterr().err
    assert "no stack file Pulumi.qa.yaml" in err and "stacks: production, staging" in err


def test_rules_listing_and_markdown(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["rules", "--format", "json"]) == 0
    listed = json.loads(capsys.readouterr().out)
    assert [r["id"] for r in listed] == [r.id for r in RULES]
    assert all(r["remediation"] and r["description"] for r in listed)
    assert main(["rules", "--format", "markdown"]) == 0
    assert capsys.readouterr().out == rules_markdown()


def test_cold_process_on_the_real_program_prints_only_sarif_on_stdout() -> None:
    completed = subprocess.run(
        [
            str(Path(sys.executable).parent / "phase-mirror-gate"),
            "check",
            "--cloud",
            "all",
            "--stack",
            "all",
            "--format",
            "sarif",
            "--waivers",
            str(ROOT / "platform" / "policypack" / "waivers.yaml"),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr
    sarif = json.loads(completed.stdout)
    assert sarif["runs"][0]["invocations"][0]["executionSuccessful"] is True
    # The real stacks have no finding, waived or not (tests/policy/test_program.py::WAIVED_DEBT).
    assert sarif["runs"][0]["results"] == []
    assert "aws/staging, aws/production, gcp/staging, gcp/production" in completed.stderr


def test_pre_commit_hook_runs_the_gate_on_program_changes() -> None:
    import re
    import shlex

    import yaml
    from phase_policy.cli import build_parser

    hooks = {h["id"]: h for h in yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text())}
    hook = hooks["phase-mirror-gate"]
    program, *arguments = shlex.split(hook["entry"])
    assert program == "phase-mirror-gate" and hook["pass_filenames"] is False
    args = build_parser().parse_args([*arguments, "--baseline", "gate.baseline.yaml"])
    assert args.waivers.exists() and args.func.__name__ == "cmd_check"
    files = re.compile(hook["files"])
    for path in (
        "__main__.py",
        "Pulumi.yaml",
        "Pulumi.production.yaml",
        "platform/phase_platform/aws/storage.py",
        "platform/policypack/waivers.yaml",
        "adapters/catalog.py",
        "gate.baseline.yaml",
    ):
        assert files.match(path), path
    assert not files.match("service/api/app.py") and not files.match("docs/policy.md")


def test_check_help_explains_the_baseline_options(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as caught:
        main(["check", "--help"])
    assert caught.value.code == 0
    out = " ".join(capsys.readouterr().out.split())
    assert "--baseline FILE" in out and "only new ones do" in out and "stale" in out
    assert "--write-baseline FILE" in out and "except waived ones" in out
    assert "phase-mirror-waive-" in out  # inline waivers are named next to --waivers
