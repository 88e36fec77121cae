"""The offline preview gate from a cold process, and Checkov on the same stacks as Terraform.

Each run is a fresh `phase-mirror-gate check` process (imports, the Pulumi program under mocks for
every cloud x stack, the pack through pulumi_policy's analyzer, the report), timed from spawn to
exit; peak memory is the child's maximum resident set size from `wait4`. Target (issue 13):
under 2 s for every case, and faster than Checkov.

Checkov runs from its own virtualenv (`.bench/checkov-venv`, created here with pip from PyPI,
pinned to CHECKOV_VERSION) over `.bench/terraform/<cloud>-<stack>/main.tf`: the same resources
with the same values, rendered from the Pulumi program at the start of each run by
`bench/fixtures/render_tf.py` (generated, never committed; every AWS / GCP resource the gate
sees; Pulumi's own resources and `random` ids excepted). Checkov reads static files while the
gate also runs the Pulumi program, so the comparison favours Checkov. Each gate case with a
Terraform equivalent is timed against Checkov in the same rounds (alternating, `report.paired`);
when Checkov cannot be installed its column says why and the gate is still measured.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

from .fixtures import render_tf
from .report import Operation, Stats, measure, paired, print_table

ROOT = Path(__file__).resolve().parents[1]
GATE = Path(sys.executable).parent / "phase-mirror-gate"
RUNS = 5
#: Checkov takes seconds per run: fewer rounds for the paired cases.
PAIRED_RUNS = 3
TARGET_S = 2.0
TERRAFORM = render_tf.OUT
CHECKOV_VENV = ROOT / ".bench" / "checkov-venv"
CHECKOV_VERSION = "3.3.30"
#: No update check, no platform mapping download: Checkov works offline, like the gate.
CHECKOV_ARGS = ["--framework", "terraform", "--quiet", "--compact", "-o", "json", "--skip-download"]
CHECKOV_ENV = {"CKV_SKIP_PACKAGE_UPDATE_CHECK": "true", "BC_SKIP_MAPPING": "TRUE"}

#: (label, gate arguments, the Terraform directory Checkov scans for the same stacks or None).
CASES: list[tuple[str, list[str], Path | None]] = [
    ("all clouds x all stacks", ["check", "--cloud", "all", "--stack", "all"], TERRAFORM),
    ("aws / staging", ["check", "--cloud", "aws", "--stack", "staging"], TERRAFORM / "aws-staging"),
    (
        "gcp / production",
        ["check", "--cloud", "gcp", "--stack", "production"],
        TERRAFORM / "gcp-production",
    ),
    (
        "all, first-preview unknowns",
        ["check", "--cloud", "all", "--stack", "all", "--simulate-unknowns"],
        None,
    ),
]


def _spawn(args: list[str], usage: list[tuple[float, int]]) -> Operation:
    """One cold gate process; appends (peak RSS in MiB, exit code) from `wait4`."""

    def once(_i: int) -> None:
        process = subprocess.Popen(
            [str(GATE), *args, "--format", "json"],
            cwd=ROOT,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        _, status, rusage = os.wait4(process.pid, 0)
        process.returncode = os.waitstatus_to_exitcode(status)
        usage.append((rusage.ru_maxrss / 1024, process.returncode))

    return once


def checkov() -> tuple[Path | None, str]:
    """Checkov's executable in its own virtualenv (installed on first use), or why not."""
    executable = CHECKOV_VENV / "bin" / "checkov"
    if executable.exists():
        return executable, ""
    print(
        f"bench gate: installing checkov=={CHECKOV_VERSION} into {CHECKOV_VENV} ...",
        file=sys.stderr,
    )
    try:
        subprocess.run([sys.executable, "-m", "venv", str(CHECKOV_VENV)], check=True, timeout=300)
        subprocess.run(
            [
                str(CHECKOV_VENV / "bin" / "pip"),
                "install",
                "--quiet",
                f"checkov=={CHECKOV_VERSION}",
            ],
            check=True,
            timeout=1200,
            stdout=subprocess.DEVNULL,
        )
    except (OSError, subprocess.SubprocessError) as error:
        return None, f"checkov not installed: {type(error).__name__}"
    return (executable, "") if executable.exists() else (None, "checkov not installed")


def _checkov(executable: Path, directory: Path, summary: dict[str, int]) -> Operation:
    """One cold Checkov process over `directory` (Terraform only, JSON report, offline)."""

    def once(_i: int) -> None:
        completed = subprocess.run(
            [str(executable), "-d", str(directory), *CHECKOV_ARGS],
            cwd=ROOT,
            capture_output=True,
            text=True,
            env={**os.environ, **CHECKOV_ENV},
            check=False,
        )
        if not summary:
            reports = json.loads(completed.stdout or "[]")
            for report in reports if isinstance(reports, list) else [reports]:
                for key in ("resource_count", "passed", "failed", "parsing_errors"):
                    summary[key] = summary.get(key, 0) + int(report.get("summary", {}).get(key, 0))

    return once


def _deletion_case(directory: Path) -> list[str]:
    """A production preview digest with one refused table deletion, for the deletion gate."""
    urn = "urn:pulumi:production::phase-mirror::aws:dynamodb/table:Table::t"
    steps = [
        {"op": "delete", "urn": urn, "oldState": {"urn": urn, "type": "aws:dynamodb/table:Table"}}
    ]
    path = directory / "preview.json"
    path.write_text(json.dumps({"steps": steps, "changeSummary": {"delete": 1}}))
    return ["deletions", str(path)]


def _gate_row(label: str, wall: Stats, usage: list[tuple[float, int]]) -> list[object]:
    median = wall.p50_ns / 1e9
    return [
        label,
        median,
        wall.min_ns / 1e9,
        wall.max_ns / 1e9,
        max(rss for rss, _ in usage[1:]),
        usage[1][1],
        f"< {TARGET_S:g} s: {'yes' if median < TARGET_S else 'NO'}",
    ]


def run() -> None:
    rows: list[list[object]] = []
    executable, why_not = checkov()
    if executable is not None:
        render_tf.write_all(TERRAFORM)
    with tempfile.TemporaryDirectory(prefix="pm-bench-gate-") as tmp:
        cases = [*CASES, ("deletion gate (1 refused step)", _deletion_case(Path(tmp)), None)]
        for label, args, terraform in cases:
            usage: list[tuple[float, int]] = []
            if terraform is None or executable is None:
                # One untimed run warms the OS file cache; every measured run is a new process.
                wall = measure(_spawn(args, usage), RUNS, warmup=1)
                other = "-" if terraform is None else why_not
                rows.append([*_gate_row(label, wall, usage), other, "-", "-"])
                continue
            summary: dict[str, int] = {}
            pair = paired(
                _spawn(args, usage), _checkov(executable, terraform, summary), PAIRED_RUNS, warmup=1
            )
            scanned = (
                f"{summary.get('resource_count', 0)} resources, {summary.get('failed', 0)} failed "
                f"checks, {summary.get('parsing_errors', 0)} parse errors"
            )
            rows.append(
                [*_gate_row(label, pair.ours, usage), pair.base.p50_ns / 1e9, pair.ratio, scanned]
            )
    print_table(
        f"offline gate vs Checkov {CHECKOV_VERSION} on the same stacks as Terraform, cold "
        f"processes, median of {RUNS} (gate alone) or {PAIRED_RUNS} alternating rounds (paired)",
        [
            "case",
            "gate median s",
            "min s",
            "max s",
            "peak RSS MiB",
            "exit",
            "target",
            "checkov median s",
            "gate / checkov",
            "checkov scanned",
        ],
        rows,
    )
