"""AWS monitoring: the KMS-encrypted alarm topic and its e-mail subscription, throttle alarms
on every durable table, alarms on the catalog's service metrics, the composite "system
health" alarm and a dashboard."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_aws as aws

from adapters.catalog import (
    METRICS,
    METRICS_NAMESPACE,
    STORES,
    THROTTLE_ALARM_THRESHOLD,
    MetricSpec,
    Store,
)

from ..naming import kebab, metric_alarm_name, system_health_alarm_name, throttle_alarm_name
from .scope import AwsScope

THROTTLE_PERIOD_SECONDS = 300
THROTTLE_OPERATIONS = {"read": "ReadThrottleEvents", "write": "WriteThrottleEvents"}


@dataclass(frozen=True)
class Monitoring:
    topic: aws.sns.Topic
    alarms: list[aws.cloudwatch.MetricAlarm]
    system_health: aws.cloudwatch.CompositeAlarm
    dashboard: aws.cloudwatch.Dashboard


def metric_insights_query(spec: MetricSpec) -> str:
    """The service emits its metrics with per-event dimensions (e.g. RuleId) in EMF; a plain
    metric alarm would only see one dimension combination, so sum across all of them."""
    return f"SELECT SUM({spec.name}) FROM {METRICS_NAMESPACE}"


def monitoring(
    scope: AwsScope, *, key: aws.kms.Key, tables: Mapping[Store, aws.dynamodb.Table]
) -> Monitoring:
    prefix = scope.prefix
    topic = aws.sns.Topic(
        scope.child("alarms-topic"),
        name=f"{prefix}-alarms",
        display_name=f"Phase Mirror {scope.config.environment} alarms",
        kms_master_key_id=key.arn,
        opts=scope.opts(),
    )
    aws.sns.TopicSubscription(
        scope.child("alarms-email"),
        topic=topic.arn,
        protocol="email",
        endpoint=scope.config.alarm_email,
        opts=scope.opts(),
    )
    actions = [topic.arn]
    alarms: list[aws.cloudwatch.MetricAlarm] = []
    for store, spec in STORES.items():
        if not spec.durable:
            continue
        for operation, metric in THROTTLE_OPERATIONS.items():
            alarms.append(
                aws.cloudwatch.MetricAlarm(
                    scope.child("alarm", spec.name, f"{operation}-throttles"),
                    name=throttle_alarm_name(prefix, spec, operation),
                    alarm_description=(
                        f"{metric} on {spec.physical_name(prefix)} above "
                        f"{THROTTLE_ALARM_THRESHOLD} per 5 minutes"
                    ),
                    namespace="AWS/DynamoDB",
                    metric_name=metric,
                    dimensions={"TableName": tables[store].name},
                    statistic="Sum",
                    period=THROTTLE_PERIOD_SECONDS,
                    evaluation_periods=1,
                    threshold=THROTTLE_ALARM_THRESHOLD,
                    comparison_operator="GreaterThanThreshold",
                    treat_missing_data="notBreaching",
                    alarm_actions=actions,
                    ok_actions=actions,
                    opts=scope.opts(),
                )
            )
    for metric_spec in METRICS.values():
        alarms.append(
            aws.cloudwatch.MetricAlarm(
                scope.child("alarm", kebab(metric_spec.name)),
                name=metric_alarm_name(prefix, metric_spec),
                alarm_description=metric_spec.description,
                metric_queries=[
                    {
                        "id": "total",
                        "expression": metric_insights_query(metric_spec),
                        "period": metric_spec.period_seconds,
                        "label": metric_spec.name,
                        "return_data": True,
                    }
                ],
                evaluation_periods=1,
                threshold=metric_spec.alarm_threshold,
                comparison_operator="GreaterThanThreshold",
                treat_missing_data="notBreaching",
                alarm_actions=actions,
                ok_actions=actions,
                opts=scope.opts(),
            )
        )
    system_health = aws.cloudwatch.CompositeAlarm(
        scope.child("system-health"),
        alarm_name=system_health_alarm_name(prefix),
        alarm_description="Any Phase Mirror alarm of this stack",
        alarm_rule=pulumi.Output.all(*(alarm.name for alarm in alarms)).apply(
            lambda names: " OR ".join(f'ALARM("{name}")' for name in names)
        ),
        actions_enabled=True,
        alarm_actions=actions,
        ok_actions=actions,
        opts=scope.opts(depends_on=alarms),
    )
    dashboard = aws.cloudwatch.Dashboard(
        scope.child("dashboard"),
        dashboard_name=prefix,
        dashboard_body=pulumi.Output.all(*(alarm.arn for alarm in alarms), system_health.arn).apply(
            lambda arns: json.dumps(dashboard_body(scope, list(arns)))
        ),
        opts=scope.opts(),
    )
    return Monitoring(topic, alarms, system_health, dashboard)


def dashboard_body(scope: AwsScope, alarm_arns: list[str]) -> dict[str, Any]:
    prefix, region = scope.prefix, scope.region
    durable = [spec for spec in STORES.values() if spec.durable]

    def metric_widget(title: str, metrics: list[list[Any]], y: int, x: int) -> dict[str, Any]:
        return {
            "type": "metric",
            "x": x,
            "y": y,
            "width": 12,
            "height": 6,
            "properties": {
                "title": title,
                "region": region,
                "stat": "Sum",
                "period": THROTTLE_PERIOD_SECONDS,
                "view": "timeSeries",
                "metrics": metrics,
            },
        }

    throttles = [
        ["AWS/DynamoDB", metric, "TableName", spec.physical_name(prefix)]
        for spec in durable
        for metric in THROTTLE_OPERATIONS.values()
    ]
    capacity = [
        ["AWS/DynamoDB", metric, "TableName", spec.physical_name(prefix)]
        for spec in STORES.values()
        for metric in ("ConsumedReadCapacityUnits", "ConsumedWriteCapacityUnits")
    ]
    service = [
        [{"expression": metric_insights_query(spec), "label": spec.name, "id": f"m{i}"}]
        for i, spec in enumerate(METRICS.values())
    ]
    return {
        "widgets": [
            metric_widget("DynamoDB throttle events (durable tables)", throttles, 0, 0),
            metric_widget("DynamoDB consumed capacity", capacity, 0, 12),
            metric_widget("Service metrics (PhaseMirror namespace)", service, 6, 0),
            {
                "type": "alarm",
                "x": 12,
                "y": 6,
                "width": 12,
                "height": 6,
                "properties": {"title": "Alarm status", "alarms": alarm_arns},
            },
        ]
    }
