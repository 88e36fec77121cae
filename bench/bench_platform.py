"""Pulumi platform: time to build each cloud x stack under Pulumi's mocks, and peak memory.

Every sample is a cold process (`python -c ...`: interpreter start, SDK imports, the program,
the mock engine), as CI's offline preview gate runs it; 5 samples per stack, median reported.
The child also reports its own import and build times and its peak RSS.
"""

from __future__ import annotations

import json
import statistics
import subprocess
import sys

from .report import Operation, measure, print_table

SAMPLES = 5
STACKS = [(cloud, stack) for cloud in ("aws", "gcp") for stack in ("staging", "production")]

CHILD = """
import json, resource, time
t0 = time.perf_counter()
from phase_platform.testing import run_stack
t1 = time.perf_counter()
run = run_stack({cloud!r}, {stack!r})
t2 = time.perf_counter()
print(json.dumps({{
    "import_s": t1 - t0,
    "build_s": t2 - t1,
    "resources": len(run.resources),
    "peak_rss_kb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
}}))
"""


def _sample(cloud: str, stack: str, reports: list[dict[str, float]]) -> Operation:
    """One cold process building the stack; appends the child's own report."""

    def once(_i: int) -> None:
        done = subprocess.run(
            [sys.executable, "-c", CHILD.format(cloud=cloud, stack=stack)],
            capture_output=True,
            text=True,
            check=True,
        )
        reports.append(json.loads(done.stdout.strip().splitlines()[-1]))

    return once


def run() -> None:
    rows = []
    for cloud, stack in STACKS:
        reports: list[dict[str, float]] = []
        wall = measure(_sample(cloud, stack, reports), SAMPLES, warmup=0)
        rows.append(
            [
                f"{cloud}-{stack}",
                int(reports[0]["resources"]),
                wall.p50_ns / 1e9,
                wall.max_ns / 1e9,
                statistics.median(r["import_s"] for r in reports),
                statistics.median(r["build_s"] for r in reports),
                max(r["peak_rss_kb"] for r in reports) / 1024,
            ]
        )
    print_table(
        f"Stack build under Pulumi mocks (cold process, median of {SAMPLES}; gate target < 4 s)",
        [
            "stack",
            "resources",
            "process s (median)",
            "process s (max)",
            "imports s",
            "program s",
            "peak RSS MiB",
        ],
        rows,
    )
