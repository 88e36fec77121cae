"""The timing loop and the table printer shared by every benchmark module (`bench/bench_*.py`).

`timed` is the only timing loop. Each round calls every operation once, rotating which one goes
first (two operations: AB, BA, AB, ...), so warm-up, caches, an emulator's or the machine's drift
and the other processes on the shared cores hit every side alike. `paired` runs an operation
against its baseline (the raw SDK call, the state before) that way and reports both medians and
their ratio; `compare` prints a table of such pairs. Benchmarks print tables: they never assert
a time.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import NamedTuple

#: One timed call; `i` is the round (negative during warm-up), for distinct keys per call.
Operation = Callable[[int], object]


@dataclass(frozen=True)
class Stats:
    """The per-call times of one operation in one run, in nanoseconds, sorted."""

    samples_ns: tuple[int, ...]

    @classmethod
    def of(cls, samples_ns: Iterable[int]) -> Stats:
        return cls(tuple(sorted(samples_ns)))

    @property
    def n(self) -> int:
        return len(self.samples_ns)

    @property
    def ops_per_s(self) -> float:
        """Calls per second of time spent in the operation (the other side's time excluded)."""
        total = sum(self.samples_ns)
        return self.n / (total / 1e9) if total else float("inf")

    @property
    def p50_ns(self) -> float:
        return float(statistics.median(self.samples_ns)) if self.samples_ns else 0.0

    @property
    def p99_ns(self) -> float:
        return self._at(int(self.n * 0.99))

    @property
    def min_ns(self) -> float:
        return self._at(0)

    @property
    def max_ns(self) -> float:
        return self._at(self.n - 1)

    @property
    def p50_us(self) -> float:
        return self.p50_ns / 1000

    @property
    def p99_us(self) -> float:
        return self.p99_ns / 1000

    def _at(self, index: int) -> float:
        """The sample at `index` of the sorted samples (clamped); 0 when there are none."""
        return float(self.samples_ns[max(0, min(self.n - 1, index))]) if self.samples_ns else 0.0


@dataclass(frozen=True)
class Pair:
    """An operation and its baseline, timed in the same rounds."""

    ours: Stats
    base: Stats

    @property
    def ratio(self) -> float:
        """Median of ours over median of the baseline (1.0: the operation adds nothing)."""
        return self.ours.p50_ns / self.base.p50_ns


def timed(operations: Sequence[Operation], n: int, *, warmup: int = 5) -> list[Stats]:
    """Call every operation `n` times, round by round, rotating the order each round, after
    `warmup` untimed rounds (i = -1, -2, ...); the per-call times of each, in their order."""
    count = len(operations)
    for i in range(warmup):
        for k in range(count):
            operations[(i + k) % count](-1 - i)
    samples: list[list[int]] = [[] for _ in operations]
    clock = time.perf_counter_ns
    for i in range(n):
        for k in range(count):
            j = (i + k) % count
            operation = operations[j]
            start = clock()
            operation(i)
            samples[j].append(clock() - start)
    return [Stats.of(s) for s in samples]


def measure(operation: Operation, n: int, *, warmup: int = 5) -> Stats:
    """One operation alone (nothing to compare it with) through the same loop."""
    return timed([operation], n, warmup=warmup)[0]


def paired(ours: Operation, base: Operation, n: int, *, warmup: int = 5) -> Pair:
    """`ours` and `base` alternating call by call: ours first in even rounds, base in odd."""
    mine, theirs = timed([ours, base], n, warmup=warmup)
    return Pair(mine, theirs)


class Case(NamedTuple):
    """A row of a comparison table: the operation, its baseline (None: nothing to compare
    with) and how many calls of each."""

    name: str
    ours: Operation
    base: Operation | None
    n: int


def compare(title: str, cases: Sequence[Case], *, base: str = "raw") -> None:
    """Time every case (paired with its baseline) and print one table: per-call medians and p99
    of both sides in microseconds, and the ratio of the medians."""
    rows: list[list[object]] = []
    for case in cases:
        if case.base is None:
            alone = measure(case.ours, case.n)
            rows.append(
                [case.name, case.n, alone.ops_per_s, alone.p50_us, alone.p99_us, "-", "-", "-"]
            )
            continue
        pair = paired(case.ours, case.base, case.n)
        ours, theirs = pair.ours, pair.base
        rows.append(
            [
                case.name,
                case.n,
                ours.ops_per_s,
                ours.p50_us,
                ours.p99_us,
                theirs.p50_us,
                theirs.p99_us,
                pair.ratio,
            ]
        )
    headers = ["operation", "n", "ops/s", "p50 µs", "p99 µs", f"{base} p50 µs", f"{base} p99 µs"]
    print_table(title, [*headers, "ratio p50"], rows)


def print_table(title: str, headers: Sequence[str], rows: Sequence[Sequence[object]]) -> None:
    """A Markdown table: text left-aligned, numbers right-aligned."""
    cells = [[_fmt(value) for value in row] for row in rows]
    widths = [
        max(len(h), *(len(r[i]) for r in cells)) if cells else len(h) for i, h in enumerate(headers)
    ]
    print(f"\n## {title}\n")
    print("| " + " | ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True)) + " |")
    print("|" + "|".join("-" * (w + 2) for w in widths) + "|")
    for row, texts in zip(rows, cells, strict=True):
        aligned = (
            text.rjust(w) if isinstance(value, int | float) else text.ljust(w)
            for value, text, w in zip(row, texts, widths, strict=True)
        )
        print("| " + " | ".join(aligned) + " |")


def _fmt(value: object) -> str:
    if isinstance(value, float):
        return f"{value:,.2f}" if value < 1000 else f"{value:,.0f}"
    return str(value)
