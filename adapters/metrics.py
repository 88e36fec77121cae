"""Metric sinks: catalog metrics as structured log lines, one line per data point.

AWS reads CloudWatch Embedded Metric Format lines from a Lambda's log stream (no API call on the
request path); GCP turns JSON log lines into log-based metrics. Lines go to stderr by default so
that a CLI's stdout carries only its report.
"""

from __future__ import annotations

import json
import sys
import threading
from collections import Counter
from collections.abc import Callable
from datetime import datetime
from typing import Any, TextIO

from .catalog import METRICS, METRICS_NAMESPACE, Metric
from .clock import Clock, SystemClock

Formatter = Callable[[Metric, float, dict[str, str], datetime], dict[str, Any]]


def emf_line(
    metric: Metric, value: float, dimensions: dict[str, str], at: datetime
) -> dict[str, Any]:
    """CloudWatch Embedded Metric Format."""
    spec = METRICS[metric]
    return {
        "_aws": {
            "Timestamp": int(at.timestamp() * 1000),
            "CloudWatchMetrics": [
                {
                    "Namespace": METRICS_NAMESPACE,
                    "Dimensions": [sorted(dimensions)] if dimensions else [[]],
                    "Metrics": [{"Name": spec.name, "Unit": spec.unit}],
                }
            ],
        },
        spec.name: value,
        **dimensions,
    }


def cloud_logging_line(
    metric: Metric, value: float, dimensions: dict[str, str], at: datetime
) -> dict[str, Any]:
    """A JSON line a log-based metric filters on `jsonPayload.metric`."""
    return {
        "severity": "WARNING",
        "message": f"metric {metric.value}",
        "metric": metric.value,
        "value": value,
        "labels": dimensions,
        "time": at.isoformat(),
    }


class LogMetricsSink:
    def __init__(
        self, formatter: Formatter, *, stream: TextIO | None = None, clock: Clock | None = None
    ) -> None:
        self._formatter = formatter
        self._stream = stream
        self._clock = clock or SystemClock()
        self._lock = threading.Lock()
        #: In-process totals, for `doctor`, tests and the /metrics endpoint.
        self.totals: Counter[str] = Counter()

    def emit(self, metric: Metric, value: float = 1, **dimensions: str) -> None:
        line = json.dumps(self._formatter(metric, value, dimensions, self._clock.now()))
        with self._lock:
            self.totals[metric.value] += int(value)
            stream = self._stream or sys.stderr
            stream.write(line + "\n")
            stream.flush()
