"""Timing and table printing shared by every benchmark module (`bench/bench_*.py`)."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class Stats:
    n: int
    ops_per_s: float
    p50_us: float
    p99_us: float


def measure(operation: Callable[[int], object], n: int, *, warmup: int = 10) -> Stats:
    """Call `operation(i)` for i in range(n) after `warmup` calls; per-call latencies."""
    for i in range(warmup):
        operation(-1 - i)
    samples = []
    start = time.perf_counter()
    for i in range(n):
        t0 = time.perf_counter_ns()
        operation(i)
        samples.append(time.perf_counter_ns() - t0)
    elapsed = time.perf_counter() - start
    samples.sort()
    return Stats(
        n=n,
        ops_per_s=n / elapsed if elapsed else float("inf"),
        p50_us=statistics.median(samples) / 1000,
        p99_us=samples[min(len(samples) - 1, int(len(samples) * 0.99))] / 1000,
    )


def print_table(title: str, headers: Sequence[str], rows: Sequence[Sequence[object]]) -> None:
    cells = [[_fmt(value) for value in row] for row in rows]
    widths = [
        max(len(h), *(len(r[i]) for r in cells)) if cells else len(h) for i, h in enumerate(headers)
    ]
    print(f"\n## {title}\n")
    print("| " + " | ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True)) + " |")
    print("|" + "|".join("-" * (w + 2) for w in widths) + "|")
    for row in cells:
        print("| " + " | ".join(v.rjust(w) for v, w in zip(row, widths, strict=True)) + " |")


def _fmt(value: object) -> str:
    if isinstance(value, float):
        return f"{value:,.2f}" if value < 1000 else f"{value:,.0f}"
    return str(value)
