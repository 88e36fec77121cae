"""GCP monitoring equivalent to the AWS alarms: an e-mail notification channel, log-based
metrics for the catalog's metric names (the service logs them as JSON lines, see
adapters/metrics.py `cloud_logging_line`), alert policies on those metrics, on Firestore
throttling and on the Cloud Run service and job, a combined "system health" policy and a
dashboard.

Everything is rendered from `adapters.gcp.spec` records, the same records `verify-alarms`
compares Cloud Monitoring with.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_gcp as gcp

from adapters.catalog import STORE_THROTTLING, kebab
from adapters.gcp.spec import (
    FIRESTORE_DATABASE,
    FIRESTORE_REQUESTS,
    Condition,
    LogMetric,
    gcp_stack,
)

from .scope import GcpScope


@dataclass(frozen=True)
class Monitoring:
    channel: gcp.monitoring.NotificationChannel
    log_metrics: list[gcp.logging.Metric]
    policies: list[gcp.monitoring.AlertPolicy]
    system_health: gcp.monitoring.AlertPolicy
    dashboard: gcp.monitoring.Dashboard


def condition(spec: Condition) -> gcp.monitoring.AlertPolicyConditionArgsDict:
    threshold: gcp.monitoring.AlertPolicyConditionConditionThresholdArgsDict = {
        "filter": spec.filter,
        "comparison": spec.comparison,
        "threshold_value": spec.threshold,
        "duration": "0s",
        "aggregations": [
            {
                "alignment_period": f"{spec.period_seconds}s",
                "per_series_aligner": spec.aligner,
                "cross_series_reducer": spec.reducer,
            }
        ],
        "trigger": {"count": 1},
    }
    if spec.denominator_filter is not None:
        # A ratio: both sides aligned over the same period, then divided.
        threshold["denominator_filter"] = spec.denominator_filter
        threshold["denominator_aggregations"] = [
            {
                "alignment_period": f"{spec.period_seconds}s",
                "per_series_aligner": spec.denominator_aligner,
                "cross_series_reducer": spec.denominator_reducer,
            }
        ]
    return {"display_name": spec.display_name, "condition_threshold": threshold}


def log_metric(scope: GcpScope, spec: LogMetric) -> gcp.logging.Metric:
    metric = spec.metric
    return gcp.logging.Metric(
        scope.child("log-metric", kebab(metric.name)),
        project=scope.project,
        name=spec.name,
        description=metric.description,
        filter=spec.filter,
        metric_descriptor={
            "metric_kind": "DELTA",
            "value_type": "INT64",
            "unit": "1",
            "display_name": metric.name,
            "labels": [
                {"key": dimension, "value_type": "STRING"} for dimension in metric.dimensions
            ],
        },
        label_extractors={
            dimension: f"EXTRACT(jsonPayload.labels.{dimension})" for dimension in metric.dimensions
        },
        opts=scope.opts(),
    )


def monitoring(scope: GcpScope) -> Monitoring:
    prefix, config = scope.prefix, scope.config
    stack = gcp_stack(prefix)
    channel = gcp.monitoring.NotificationChannel(
        scope.child("alerts-email"),
        project=scope.project,
        display_name=f"Phase Mirror {config.environment} alerts",
        type="email",
        labels={"email_address": config.alarm_email},
        opts=scope.opts(),
    )
    metrics = {spec.name: log_metric(scope, spec) for spec in stack.log_metrics}
    log_metrics = list(metrics.values())
    policies = []
    for alert in stack.policies:
        watched = metrics[alert.log_metric.name] if alert.log_metric else None
        policies.append(
            gcp.monitoring.AlertPolicy(
                scope.child("alert", alert.key),
                project=scope.project,
                display_name=alert.name,
                combiner="OR",
                conditions=[condition(alert.condition)],
                notification_channels=[channel.name],
                documentation={
                    "content": f"Phase Mirror {config.environment}: "
                    f"{alert.condition.display_name}. Runbook: docs/platform.md#alarms",
                    "mime_type": "text/markdown",
                },
                severity="ERROR",
                user_labels={"stack": prefix},
                opts=scope.opts(depends_on=[watched] if watched else []),
            )
        )
    health = stack.system_health
    system_health = gcp.monitoring.AlertPolicy(
        scope.child("alert", health.key),
        project=scope.project,
        display_name=health.name,
        combiner=health.combiner,
        conditions=[condition(alert.condition) for alert in stack.policies],
        notification_channels=[channel.name],
        documentation={
            "content": f"Any Phase Mirror {config.environment} alert condition is firing.",
            "mime_type": "text/markdown",
        },
        severity="CRITICAL",
        user_labels={"stack": prefix},
        opts=scope.opts(depends_on=log_metrics),
    )
    dashboard = gcp.monitoring.Dashboard(
        scope.child("dashboard"),
        project=scope.project,
        dashboard_json=pulumi.Output.all(*(m.name for m in log_metrics)).apply(
            lambda names: json.dumps(dashboard_body(scope, list(names)))
        ),
        opts=scope.opts(),
    )
    return Monitoring(channel, log_metrics, policies, system_health, dashboard)


def dashboard_body(scope: GcpScope, log_metric_names: list[str]) -> dict[str, Any]:
    period = STORE_THROTTLING.period_seconds

    def chart(title: str, filter_: str, reducer: str, group_by: list[str]) -> dict[str, Any]:
        return {
            "title": title,
            "xyChart": {
                "dataSets": [
                    {
                        "plotType": "LINE",
                        "timeSeriesQuery": {
                            "timeSeriesFilter": {
                                "filter": filter_,
                                "aggregation": {
                                    "alignmentPeriod": f"{period}s",
                                    "perSeriesAligner": "ALIGN_DELTA",
                                    "crossSeriesReducer": reducer,
                                    "groupByFields": group_by,
                                },
                            }
                        },
                    }
                ]
            },
        }

    stack = gcp_stack(scope.prefix)
    database = (
        f'resource.type="{FIRESTORE_DATABASE}" AND resource.labels.database_id="{stack.database}"'
    )
    widgets = [
        chart(
            "Firestore requests by response code",
            f'metric.type="{FIRESTORE_REQUESTS}" AND {database}',
            "REDUCE_SUM",
            ["metric.label.response_code"],
        ),
        *(
            chart(name, f'metric.type="logging.googleapis.com/user/{name}"', "REDUCE_SUM", [])
            for name in log_metric_names
        ),
    ]
    return {
        "displayName": f"Phase Mirror {scope.prefix}",
        "gridLayout": {"columns": "2", "widgets": widgets},
    }
