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
    DYNAMODB_THROTTLE_METRICS,
    METRICS,
    STORES,
    THROTTLE_ALARM_PERIOD_SECONDS,
    THROTTLE_ALARM_THRESHOLD,
    AlarmKind,
    Store,
    alarm_topic_name,
    aws_alarms,
    aws_system_health_alarm,
    aws_system_health_rule,
)

from .scope import AwsScope

THROTTLE_PERIOD_SECONDS = THROTTLE_ALARM_PERIOD_SECONDS


@dataclass(frozen=True)
class Monitoring:
    topic: aws.sns.Topic
    alarms: list[aws.cloudwatch.MetricAlarm]
    system_health: aws.cloudwatch.CompositeAlarm
    dashboard: aws.cloudwatch.Dashboard


def monitoring(
    scope: AwsScope, *, key: aws.kms.Key, tables: Mapping[Store, aws.dynamodb.Table]
) -> Monitoring:
    prefix = scope.prefix
    topic = aws.sns.Topic(
        scope.child("alarms-topic"),
        name=alarm_topic_name(prefix),
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
    # Every alarm name comes from the catalog, which `phase-mirror verify-alarms` reads too.
    for alarm in aws_alarms(prefix):
        if alarm.kind is AlarmKind.THROTTLE:
            assert alarm.store is not None and alarm.operation is not None
            metric = DYNAMODB_THROTTLE_METRICS[alarm.operation]
            alarms.append(
                aws.cloudwatch.MetricAlarm(
                    scope.child("alarm", alarm.key),
                    name=alarm.name,
                    alarm_description=(
                        f"{metric} on {alarm.store.physical_name(prefix)} above "
                        f"{THROTTLE_ALARM_THRESHOLD} per 5 minutes"
                    ),
                    namespace="AWS/DynamoDB",
                    metric_name=metric,
                    dimensions={"TableName": tables[alarm.store.store].name},
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
            continue
        metric_spec = alarm.metric
        assert metric_spec is not None
        alarms.append(
            aws.cloudwatch.MetricAlarm(
                scope.child("alarm", alarm.key),
                name=alarm.name,
                alarm_description=metric_spec.description,
                metric_queries=[
                    {
                        "id": "total",
                        "expression": metric_spec.insights_query,
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
        scope.child(aws_system_health_alarm(prefix).key),
        alarm_name=aws_system_health_alarm(prefix).name,
        alarm_description="Any Phase Mirror alarm of this stack",
        alarm_rule=aws_system_health_rule(prefix),
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
        for metric in DYNAMODB_THROTTLE_METRICS.values()
    ]
    capacity = [
        ["AWS/DynamoDB", metric, "TableName", spec.physical_name(prefix)]
        for spec in STORES.values()
        for metric in ("ConsumedReadCapacityUnits", "ConsumedWriteCapacityUnits")
    ]
    service = [
        [{"expression": spec.insights_query, "label": spec.name, "id": f"m{i}"}]
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
