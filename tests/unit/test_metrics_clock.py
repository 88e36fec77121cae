"""Metric line formats and UTC bucketing."""

from __future__ import annotations

import io
import json
from datetime import UTC, datetime, timedelta, timezone

import pytest

from adapters.catalog import METRICS_NAMESPACE, Metric
from adapters.clock import FakeClock, utc_day, utc_hour_bucket
from adapters.metrics import LogMetricsSink, cloud_logging_line, emf_line


def test_emf_line_is_cloudwatch_embedded_metric_format() -> None:
    stream = io.StringIO()
    sink = LogMetricsSink(emf_line, stream=stream, clock=FakeClock())
    sink.emit(Metric.CIRCUIT_BREAKER_TRIGGERS, 1, RuleId="MD-002")
    line = json.loads(stream.getvalue())
    directive = line["_aws"]["CloudWatchMetrics"][0]
    assert directive["Namespace"] == METRICS_NAMESPACE
    assert directive["Dimensions"] == [["RuleId"]]
    assert directive["Metrics"] == [{"Name": "CircuitBreakerTriggers", "Unit": "Count"}]
    assert line["CircuitBreakerTriggers"] == 1 and line["RuleId"] == "MD-002"
    assert isinstance(line["_aws"]["Timestamp"], int)
    assert sink.totals["CircuitBreakerTriggers"] == 1


def test_cloud_logging_line_names_the_metric() -> None:
    stream = io.StringIO()
    LogMetricsSink(cloud_logging_line, stream=stream).emit(Metric.SECRET_STORE_FAILURES)
    line = json.loads(stream.getvalue())
    assert line["metric"] == "SecretStoreFailures" and line["severity"] == "WARNING"


def test_hour_bucket_is_utc_whatever_the_input_zone() -> None:
    moment = datetime(2026, 3, 1, 23, 30, tzinfo=timezone(timedelta(hours=-5)))
    assert utc_hour_bucket(moment) == "2026-03-02T04"
    assert utc_day(moment) == "2026-03-02"
    assert utc_hour_bucket(datetime(2026, 3, 1, 4, 0, tzinfo=UTC)) == "2026-03-01T04"
    with pytest.raises(ValueError, match="naive"):
        utc_hour_bucket(datetime(2026, 3, 1))
