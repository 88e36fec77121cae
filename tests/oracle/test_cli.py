"""The oracle's commands: analyze (stdout carries only the report), verify-report, fp, baseline,
drift, l0, and their usage errors and exit codes."""

from __future__ import annotations

import json
import secrets
import subprocess
import sys
from pathlib import Path

import jsonschema
import pytest

from adapters.backend import open_backend
from adapters.catalog import Secret
from service.cli.main import build_parser, main

from .conftest import fixture, remove_redaction_key
from .test_reports import SARIF_SCHEMA


@pytest.fixture
def url(tmp_path: Path) -> str:
    """A local backend URL whose store holds a redaction key."""
    location = f"local://{tmp_path / 'store'}"
    backend = open_backend(location)
    backend.secrets.put(Secret.REDACTION_KEY, secrets.token_hex(32))
    backend.close()
    return location


def cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "service.cli.main", *args],
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_analyze_stdout_is_only_the_report(url: str, tmp_path: Path) -> None:
    context = fixture("md001", "failing", "context.json")
    result = cli(
        "--backend",
        url,
        "analyze",
        str(fixture("md002", "failing")),
        "--format",
        "json",
        "--context",
        str(context),
    )
    assert result.returncode == 1, result.stderr
    report = json.loads(result.stdout)  # nothing but the report on stdout
    assert report["machine_decision"]["outcome"] == "block"
    assert report["repository"] == {
        "name": "acme/widgets",
        "head_sha": "1" * 40,
        "base_ref": "main",
        "author": "octo-dev",
    }
    assert "phase-mirror: block (exit 1)" in result.stderr
    sarif = cli(
        "--backend",
        url,
        "analyze",
        str(fixture("md002", "failing")),
        "--format",
        "sarif",
        "--dry-run",
    )
    assert sarif.returncode == 0, sarif.stderr
    jsonschema.Draft7Validator(SARIF_SCHEMA).validate(json.loads(sarif.stdout))


def test_report_file_verifies_and_tampering_fails(
    url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "report.txt"
    assert main(
        ["--backend", url, "analyze", str(fixture("md002", "passing")), "--output", str(out)]
    ) in (0, 1)
    assert capsys.readouterr().out == ""  # --output: nothing on stdout
    assert main(["--backend", url, "verify-report", str(out)]) == 0
    assert "valid" in capsys.readouterr().out
    out.write_text(out.read_text().replace("outcome:", "outcome:  "))
    assert main(["--backend", url, "verify-report", str(out)]) == 1
    assert "MAC mismatch" in capsys.readouterr().out


def test_missing_key_exits_2_with_an_unsealed_report(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    url = f"local://{tmp_path / 'empty'}"
    backend = open_backend(url)
    remove_redaction_key(backend)
    backend.close()
    code = main(["--backend", url, "analyze", str(fixture("md002", "passing")), "--format", "json"])
    text = capsys.readouterr().out
    report = json.loads(text)
    assert (
        code == 2 and report["integrity"] is None and report["machine_decision"]["unable_to_vouch"]
    )
    saved = tmp_path / "report.json"
    saved.write_text(text)
    assert main(["--backend", url, "verify-report", str(saved)]) == 2


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["analyze", "/no/such/dir"], "is not a directory"),
        (["analyze", ".", "--context", "/no/such.json"], "cannot read context file"),
        (["analyze", ".", "--config", "/no/such.yml"], "does not exist"),
        (["fp", "stats", "--rule", "MD-002", "--since", "yesterday"], "use 7d, 24h, 30m"),
        (["fp", "list", "--limit", "0"], "--limit must be at least 1"),
    ],
)
def test_usage_errors(
    url: str, args: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["--backend", url, *args]) == 64
    assert message in capsys.readouterr().err


def test_bad_config_names_the_key(
    url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = tmp_path / "pm.yml"
    config.write_text("thresholds:\n  block_hihg: 2\n")
    assert (
        main(
            ["--backend", url, "analyze", str(fixture("md002", "passing")), "--config", str(config)]
        )
        == 64
    )
    err = capsys.readouterr().err
    assert "pm.yml:2: unknown key 'thresholds.block_hihg' (did you mean 'block_high'?)" in err
    assert "Traceback" not in err


def test_fp_commands(url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    repo = str(fixture("md002", "failing"))
    context = str(fixture("md001", "failing", "context.json"))
    assert main(["--backend", url, "analyze", repo, "--format", "json", "--context", context]) == 1
    report = json.loads(capsys.readouterr().out)
    target = next(f for f in report["findings"] if f["rule_id"] == "MD-002")

    assert (
        main(
            [
                "--backend",
                url,
                "fp",
                "mark",
                target["fingerprint"],
                "--reason",
                "expected",
                "--reviewer",
                "alice",
            ]
        )
        == 0
    )
    assert f"of finding {target['fingerprint']} as false_positive" in capsys.readouterr().out

    assert main(["--backend", url, "fp", "list", "--rule", "MD-002", "--json"]) == 0
    events = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert {e["rule_id"] for e in events} == {"MD-002"}
    assert [e["review"] for e in events if e["finding_id"] == target["fingerprint"]] == [
        "false_positive"
    ]

    assert (
        main(["--backend", url, "fp", "stats", "--rule", "MD-002", "--last", "100", "--json"]) == 0
    )
    stats = json.loads(capsys.readouterr().out)
    assert stats["false_positives"] == 1 and stats["fpr"] == 1.0 and stats["reviewed"] == 1
    assert 0.2 < stats["wilson_95"][0] < 0.21 and stats["wilson_95"][1] == 1.0  # Wilson, n=1
    assert main(["--backend", url, "fp", "stats", "--rule", "MD-002", "--since", "7d"]) == 0
    assert "observed FPR: 1.000" in capsys.readouterr().out

    export = tmp_path / "events.jsonl"
    assert main(["--backend", url, "fp", "export", "--output", str(export)]) == 0
    other = f"local://{tmp_path / 'other'}"
    assert main(["--backend", other, "fp", "import", str(export)]) == 0
    assert (
        f"imported {len(export.read_text().splitlines())} FP event(s), skipped 0"
        in capsys.readouterr().out
    )
    assert main(["--backend", other, "fp", "import", str(export)]) == 0
    assert "imported 0 FP event(s)" in capsys.readouterr().out

    bad = tmp_path / "bad.jsonl"
    bad.write_text(export.read_text().splitlines()[0] + '\n{"event_id": 1}\n')
    assert main(["--backend", other, "fp", "import", str(bad)]) == 64
    assert "line 2:" in capsys.readouterr().err

    assert (
        main(["--backend", url, "fp", "mark", "f" * 32, "--reason", "x", "--reviewer", "y"]) == 66
    )


def test_baseline_and_drift_commands(
    url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import shutil

    root = tmp_path / "repo"
    shutil.copytree(fixture("md005", "baseline"), root)
    assert main(["--backend", url, "drift", str(root), "--repo", "acme/widgets"]) == 2
    assert "no baseline" in capsys.readouterr().err
    assert main(["--backend", url, "baseline", str(root), "--repo", "acme/widgets"]) == 0
    assert "version 1, 4 governed file(s)" in capsys.readouterr().out
    assert (
        main(["--backend", url, "drift", str(root), "--repo", "acme/widgets", "--format", "json"])
        == 0
    )
    report = json.loads(capsys.readouterr().out)
    assert report["drift"]["magnitude"] == 0 and report["integrity"]["mac"]
    (root / "CODEOWNERS").write_text("* @acme/someone-else\n")
    drifted = tmp_path / "drift.txt"
    assert (
        main(
            [
                "--backend",
                url,
                "drift",
                str(root),
                "--repo",
                "acme/widgets",
                "--output",
                str(drifted),
            ]
        )
        == 1
    )
    assert "modified CODEOWNERS" in drifted.read_text()
    assert main(["--backend", url, "verify-report", str(drifted)]) == 0
    capsys.readouterr()
    assert main(["--backend", url, "baseline", str(root), "--repo", "acme/widgets"]) == 0
    assert main(["--backend", url, "baseline", str(root), "--repo", "acme/widgets", "--list"]) == 0
    assert len(capsys.readouterr().out.strip().splitlines()) == 3  # one stored line + two versions
    assert (
        main(
            [
                "--backend",
                url,
                "drift",
                str(root),
                "--repo",
                "acme/widgets",
                "--baseline-version",
                "1",
            ]
        )
        == 1
    )


def test_l0_commands(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["l0", "show"]) == 0
    shown = json.loads(capsys.readouterr().out)
    assert shown["schema_hash_matches"] and shown["reserved_permission_mask"] == "0xf000"
    good = {"schema_hash": shown["schema_hash"], "permission_bits": 127}
    states = tmp_path / "states.jsonl"
    states.write_text(
        json.dumps(good)
        + "\n"
        + json.dumps({**good, "fpr_before": 0.4, "fpr_after": 0.1, "reviewed_events": 3})
        + "\n"
    )
    assert main(["l0", "check", str(states)]) == 1
    out = capsys.readouterr().out
    assert "state 2: VIOLATION contraction_witness" in out and "1 of 2 state(s)" in out
    states.write_text(json.dumps(good))
    assert main(["l0", "check", str(states)]) == 0
    states.write_text(json.dumps({**good, "typo": 1}))
    assert main(["l0", "check", str(states)]) == 64


def test_every_oracle_command_has_help() -> None:
    parser = build_parser()
    choices = parser._subparsers._group_actions[0].choices  # type: ignore[union-attr]
    for name in ("analyze", "fp", "baseline", "drift", "verify-report", "l0"):
        assert choices[name].description and choices[name].format_help()
    for group, actions in (
        ("fp", ("mark", "list", "stats", "export", "import")),
        ("l0", ("check", "show")),
    ):
        sub = choices[group]._subparsers._group_actions[0].choices  # type: ignore[union-attr]
        for action in actions:
            assert sub[action].description, f"{group} {action}"


def test_start_up_imports_only_what_the_command_needs() -> None:
    """`--version` loads no adapter, oracle or YAML code, and a command line naming one
    subcommand loads only that subcommand's module (start-up is most of a small run's time)."""
    import subprocess
    import sys

    probe = (
        "import sys\n"
        "from service.cli.main import main\n"
        "code = main(sys.argv[1:])\n"
        "heavy = ('adapters', 'service.oracle', 'yaml', 'pydantic', 'service.cli.serve', "
        "'service.cli.smoke', 'service.calibration')\n"
        "print(sorted({m.split('.')[0] if m.startswith(('yaml', 'pydantic')) else m "
        "for m in sys.modules if m.startswith(heavy)}))\n"
    )
    version = subprocess.run(
        [sys.executable, "-c", probe, "--version"], capture_output=True, text=True, check=True
    )
    assert version.stdout.splitlines()[-1] == "[]"
    help_text = subprocess.run(
        [sys.executable, "-c", probe, "l0", "show"], capture_output=True, text=True, check=True
    )
    loaded = help_text.stdout.splitlines()[-1]
    assert "service.cli.serve" not in loaded and "service.calibration" not in loaded


def test_the_cli_constants_match_their_sources() -> None:
    from adapters.config import ENV_BACKEND
    from service.cli import common
    from service.cli import main as cli_main

    assert cli_main.ENV_BACKEND == ENV_BACKEND and cli_main.EXIT_USAGE == common.EXIT_USAGE
    assert set(cli_main.COMMANDS.values()) == set(cli_main.COMMAND_MODULES)
