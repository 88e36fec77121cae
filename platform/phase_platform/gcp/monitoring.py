"""GCP monitoring equivalent to the AWS alarms: an e-mail notification channel, log-based
metrics for the catalog's metric names (the service logs them as JSON lines, see
adapters/metrics.py `cloud_logging_line`), alert policies on those metrics and on Firestore
throttling, a combined "system health" policy and a dashboard."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_gcp as gcp

from adapters.catalog import (
    THROTTLE_ALARM_THRESHOLD,
    AlarmSpec,
    MetricSpec,
    gcp_alert_policies,
    gcp_system_health_policy,
    kebab,
)

from .scope import GcpScope

PERIOD_SECONDS = 300


@dataclass(frozen=True)
class Monitoring:
    channel: gcp.monitoring.NotificationChannel
    log_metrics: list[gcp.logging.Metric]
    policies: list[gcp.monitoring.AlertPolicy]
    system_health: gcp.monitoring.AlertPolicy
    dashboard: gcp.monitoring.Dashboard


def log_filter(spec: MetricSpec) -> str:
    return f'jsonPayload.metric="{spec.name}"'


def throttle_filter(scope: GcpScope) -> str:
    """Firestore's equivalent of DynamoDB throttle events: RESOURCE_EXHAUSTED responses of
    this stack's database (Firestore has no per-collection throttling metric)."""
    return (
        'metric.type="firestore.googleapis.com/api/request_count" '
        'AND resource.type="firestore.googleapis.com/Database" '
        f'AND resource.labels.database_id="{scope.prefix}" '
        'AND metric.labels.response_code="RESOURCE_EXHAUSTED"'
    )


def _threshold(
    display_name: str, filter_: pulumi.Input[str], threshold: float
) -> gcp.monitoring.AlertPolicyConditionArgsDict:
    return {
        "display_name": display_name,
        "condition_threshold": {
            "filter": filter_,
            "comparison": "COMPARISON_GT",
            "threshold_value": threshold,
            "duration": "0s",
            "aggregations": [
                {
                    "alignment_period": f"{PERIOD_SECONDS}s",
                    "per_series_aligner": "ALIGN_DELTA",
                    # One series for the whole stack, whatever the labels (e.g. RuleId).
                    "cross_series_reducer": "REDUCE_SUM",
                }
            ],
            "trigger": {"count": 1},
        },
    }


def monitoring(scope: GcpScope) -> Monitoring:
    prefix, config = scope.prefix, scope.config
    channel = gcp.monitoring.NotificationChannel(
        scope.child("alerts-email"),
        project=scope.project,
        display_name=f"Phase Mirror {config.environment} alerts",
        type="email",
        labels={"email_address": config.alarm_email},
        opts=scope.opts(),
    )
    log_metrics: list[gcp.logging.Metric] = []
    conditions: list[
        tuple[AlarmSpec, gcp.monitoring.AlertPolicyConditionArgsDict, gcp.logging.Metric | None]
    ] = []
    # Every policy name comes from the catalog, which `phase-mirror verify-alarms` reads too.
    for alert in gcp_alert_policies(prefix):
        spec = alert.metric
        if spec is None:  # Firestore throttling: a built-in metric, no log-based one
            conditions.append(
                (
                    alert,
                    _threshold(
                        f"Firestore RESOURCE_EXHAUSTED > {THROTTLE_ALARM_THRESHOLD} per 5 minutes",
                        throttle_filter(scope),
                        THROTTLE_ALARM_THRESHOLD,
                    ),
                    None,
                )
            )
            continue
        metric = gcp.logging.Metric(
            scope.child("log-metric", kebab(spec.name)),
            project=scope.project,
            name=spec.log_metric_name(prefix),
            description=spec.description,
            filter=log_filter(spec),
            metric_descriptor={
                "metric_kind": "DELTA",
                "value_type": "INT64",
                "unit": "1",
                "display_name": spec.name,
                "labels": [
                    {"key": dimension, "value_type": "STRING"} for dimension in spec.dimensions
                ],
            },
            label_extractors={
                dimension: f"EXTRACT(jsonPayload.labels.{dimension})"
                for dimension in spec.dimensions
            },
            opts=scope.opts(),
        )
        log_metrics.append(metric)
        conditions.append(
            (
                alert,
                _threshold(
                    f"{spec.name} > {spec.alarm_threshold:g} per 5 minutes",
                    metric.name.apply(
                        lambda name: f'metric.type="logging.googleapis.com/user/{name}"'
                    ),
                    spec.alarm_threshold,
                ),
                metric,
            )
        )
    policies = [
        gcp.monitoring.AlertPolicy(
            scope.child("alert", alert.key),
            project=scope.project,
            display_name=alert.name,
            combiner="OR",
            conditions=[condition],
            notification_channels=[channel.name],
            documentation={
                "content": f"Phase Mirror {config.environment}: {condition['display_name']}. "
                "Runbook: docs/platform.md#alarms",
                "mime_type": "text/markdown",
            },
            severity="ERROR",
            user_labels={"stack": prefix},
            opts=scope.opts(depends_on=[metric] if metric else []),
        )
        for alert, condition, metric in conditions
    ]
    health = gcp_system_health_policy(prefix)
    system_health = gcp.monitoring.AlertPolicy(
        scope.child("alert", health.key),
        project=scope.project,
        display_name=health.name,
        combiner="OR",
        conditions=[condition for _, condition, _ in conditions],
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
                                    "alignmentPeriod": f"{PERIOD_SECONDS}s",
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

    database = f'resource.type="firestore.googleapis.com/Database" AND resource.labels.database_id="{scope.prefix}"'
    widgets = [
        chart(
            "Firestore requests by response code",
            f'metric.type="firestore.googleapis.com/api/request_count" AND {database}',
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
