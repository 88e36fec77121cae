"""A small Prometheus text-format registry (counters and one latency histogram).

Each server worker process keeps its own registry (like any multi-process Python server without a
shared-memory collector): with `--workers N` a scrape reaches one worker, and
`phase_mirror_worker_pid` says which. See docs/runbooks/calibration-service.md.
"""

from __future__ import annotations

import bisect
import os
import threading
import time
from collections import defaultdict
from collections.abc import Iterable

LabelSet = tuple[tuple[str, str], ...]

BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)


def _labels(labels: LabelSet) -> str:
    if not labels:
        return ""
    inner = ",".join(f'{k}="{_escape(v)}"' for k, v in labels)
    return "{" + inner + "}"


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')


class Registry:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._counters: dict[str, dict[LabelSet, float]] = defaultdict(dict)
        self._help: dict[str, str] = {}
        self._hist_counts: dict[LabelSet, list[int]] = {}
        self._hist_sum: dict[LabelSet, float] = defaultdict(float)
        self.started = time.time()

    def describe(self, name: str, text: str) -> None:
        self._help[name] = text

    def inc(self, name: str, value: float = 1.0, **labels: str) -> None:
        key = tuple(sorted(labels.items()))
        with self._lock:
            series = self._counters[name]
            series[key] = series.get(key, 0.0) + value

    def observe(self, seconds: float, **labels: str) -> None:
        key = tuple(sorted(labels.items()))
        index = bisect.bisect_left(BUCKETS, seconds)
        with self._lock:
            counts = self._hist_counts.get(key)
            if counts is None:
                counts = self._hist_counts[key] = [0] * (len(BUCKETS) + 1)
            counts[index] += 1
            self._hist_sum[key] += seconds

    def render(self, extra: Iterable[tuple[str, str, float]] = ()) -> str:
        lines: list[str] = []
        with self._lock:
            for name in sorted(self._counters):
                lines.append(f"# HELP {name} {self._help.get(name, name)}")
                lines.append(f"# TYPE {name} counter")
                for labels, value in sorted(self._counters[name].items()):
                    lines.append(f"{name}{_labels(labels)} {value:g}")
            hist = "phase_mirror_http_request_duration_seconds"
            lines.append(f"# HELP {hist} Request latency by route.")
            lines.append(f"# TYPE {hist} histogram")
            for labels, counts in sorted(self._hist_counts.items()):
                cumulative = 0
                for bound, count in zip(BUCKETS, counts, strict=False):
                    cumulative += count
                    le = (*labels, ("le", f"{bound:g}"))
                    lines.append(f"{hist}_bucket{_labels(le)} {cumulative}")
                cumulative += counts[-1]
                lines.append(f"{hist}_bucket{_labels((*labels, ('le', '+Inf')))} {cumulative}")
                lines.append(f"{hist}_sum{_labels(labels)} {self._hist_sum[labels]:.6f}")
                lines.append(f"{hist}_count{_labels(labels)} {cumulative}")
        for name, help_text, value in extra:
            lines.append(f"# HELP {name} {help_text}")
            lines.append(f"# TYPE {name} gauge")
            lines.append(f"{name} {value:g}")
        lines.append("# HELP process_start_time_seconds Start time of this worker process.")
        lines.append("# TYPE process_start_time_seconds gauge")
        lines.append(f"process_start_time_seconds {self.started:.3f}")
        lines.append("# HELP phase_mirror_worker_pid Process id of the worker that answered.")
        lines.append("# TYPE phase_mirror_worker_pid gauge")
        lines.append(f"phase_mirror_worker_pid {os.getpid()}")
        return "\n".join(lines) + "\n"


def new_registry() -> Registry:
    registry = Registry()
    registry.describe("phase_mirror_http_requests_total", "HTTP requests by route and status.")
    registry.describe("phase_mirror_ingest_total", "Ingest results by code (ACCEPTED or error).")
    registry.describe("phase_mirror_nonce_total", "Nonce operations by result.")
    registry.describe(
        "phase_mirror_backend_errors_total", "Backend errors by class (Unavailable, Throttled...)."
    )
    registry.describe("phase_mirror_calibration_queries_total", "Calibration queries by result.")
    registry.describe(
        "phase_mirror_shed_total", "Requests refused with 429 because the service was at capacity."
    )
    return registry
