"""The offline preview gate from a cold process: wall time (median of 5) and peak memory.

Each run is a fresh `phase-mirror-gate check` process (imports, the Pulumi program under mocks for
every cloud x stack, the pack through pulumi_policy's analyzer, the report), timed from spawn to
exit; peak memory is the child's maximum resident set size from `wait4`. Targets: under 10 s for
every cloud and stack, under 4 s for one stack and cloud.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

from .report import Operation, measure, print_table

ROOT = Path(__file__).resolve().parents[1]
GATE = Path(sys.executable).parent / "phase-mirror-gate"
RUNS = 5

CASES: list[tuple[str, list[str], float]] = [
    ("all clouds x all stacks", ["check", "--cloud", "all", "--stack", "all"], 10.0),
    ("aws / staging", ["check", "--cloud", "aws", "--stack", "staging"], 4.0),
    ("gcp / production", ["check", "--cloud", "gcp", "--stack", "production"], 4.0),
    (
        "all, first-preview unknowns",
        ["check", "--cloud", "all", "--stack", "all", "--simulate-unknowns"],
        10.0,
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


def _deletion_case(directory: Path) -> list[str]:
    """A production preview digest with one refused table deletion, for the deletion gate."""
    urn = "urn:pulumi:production::phase-mirror::aws:dynamodb/table:Table::t"
    steps = [
        {"op": "delete", "urn": urn, "oldState": {"urn": urn, "type": "aws:dynamodb/table:Table"}}
    ]
    path = directory / "preview.json"
    path.write_text(json.dumps({"steps": steps, "changeSummary": {"delete": 1}}))
    return ["deletions", str(path)]


def run() -> None:
    rows = []
    with tempfile.TemporaryDirectory(prefix="pm-bench-gate-") as tmp:
        cases = [*CASES, ("deletion gate (1 refused step)", _deletion_case(Path(tmp)), 4.0)]
        for label, args, target in cases:
            usage: list[tuple[float, int]] = []
            # One untimed run warms the OS file cache; every measured run is still a new process.
            wall = measure(_spawn(args, usage), RUNS, warmup=1)
            median = wall.p50_ns / 1e9
            rows.append(
                (
                    label,
                    median,
                    wall.min_ns / 1e9,
                    wall.max_ns / 1e9,
                    max(rss for rss, _ in usage[1:]),
                    usage[1][1],
                    f"< {target:g} s: {'yes' if median < target else 'NO'}",
                )
            )
    print_table(
        f"offline gate, cold process, median of {RUNS}",
        ["case", "median s", "min s", "max s", "peak RSS MiB", "exit", "target"],
        rows,
    )
