"""AWS monitoring: the KMS-encrypted alarm topic and its e-mail subscription, every metric
alarm of the stack's spec (throttles on every durable table, the catalog's service metrics, the
compute's API, function and job alarms), the composite "system health" alarm and a dashboard.

The alarms are rendered from `adapters.aws.spec` records, the same records `phase-mirror
bootstrap` sends to CloudWatch and `verify-alarms` compares AWS with. A late-bound dimension
(`ApiIdOf`: the HTTP API's id) is resolved here with the id of the API the stack creates.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_aws as aws

from adapters.aws.spec import (
    DYNAMODB_NAMESPACE,
    DYNAMODB_THROTTLE_METRICS,
    ApiIdOf,
    AwsStack,
    MetricAlarm,
    aws_stack,
)
from adapters.catalog import STORE_THROTTLING

from .scope import AwsScope


@dataclass(frozen=True)
class Monitoring:
    topic: aws.sns.Topic
    alarms: list[aws.cloudwatch.MetricAlarm]
    system_health: aws.cloudwatch.CompositeAlarm
    dashboard: aws.cloudwatch.Dashboard


#: The created resources' ids for the records' late-bound dimensions.
LateBound = Mapping[ApiIdOf, pulumi.Output[str]]


def metric_alarm(
    scope: AwsScope,
    alarm: MetricAlarm,
    actions: list[pulumi.Output[str]],
    late: LateBound,
) -> aws.cloudwatch.MetricAlarm:
    """One spec record as a CloudWatch alarm (`metric_alarm_request` in adapters/aws/alarms.py
    renders the same record for bootstrap)."""
    if alarm.expression is not None:
        watched: dict[str, Any] = {
            "metric_queries": [
                {
                    "id": "total",
                    "expression": alarm.expression,
                    "period": alarm.period_seconds,
                    "label": alarm.label,
                    "return_data": True,
                }
            ]
        }
    else:
        watched = {
            "namespace": alarm.namespace,
            "metric_name": alarm.metric_name,
            "dimensions": {
                name: late[value] if isinstance(value, ApiIdOf) else value
                for name, value in alarm.dimensions.items()
            },
            "statistic": alarm.statistic,
            "extended_statistic": alarm.extended_statistic,
            "period": alarm.period_seconds,
        }
    return aws.cloudwatch.MetricAlarm(
        scope.child("alarm", alarm.key),
        name=alarm.name,
        alarm_description=alarm.description,
        evaluation_periods=alarm.evaluation_periods,
        threshold=alarm.threshold,
        comparison_operator=alarm.comparison,
        treat_missing_data=alarm.treat_missing_data,
        alarm_actions=actions,
        ok_actions=actions,
        opts=scope.opts(),
        **watched,
    )


def monitoring(scope: AwsScope, *, key: aws.kms.Key, late: LateBound) -> Monitoring:
    stack = aws_stack(scope.prefix)
    topic = aws.sns.Topic(
        scope.child("alarms-topic"),
        name=stack.alarm_topic,
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
    alarms = [metric_alarm(scope, alarm, actions, late) for alarm in stack.alarms]
    health = stack.system_health
    system_health = aws.cloudwatch.CompositeAlarm(
        scope.child(health.key),
        alarm_name=health.name,
        alarm_description=health.description,
        alarm_rule=health.rule,
        actions_enabled=True,
        alarm_actions=actions,
        ok_actions=actions,
        opts=scope.opts(depends_on=alarms),
    )
    dashboard = aws.cloudwatch.Dashboard(
        scope.child("dashboard"),
        dashboard_name=scope.prefix,
        dashboard_body=pulumi.Output.all(*(alarm.arn for alarm in alarms), system_health.arn).apply(
            lambda arns: json.dumps(dashboard_body(scope, stack, list(arns)))
        ),
        opts=scope.opts(),
    )
    return Monitoring(topic, alarms, system_health, dashboard)


def dashboard_body(scope: AwsScope, stack: AwsStack, alarm_arns: list[str]) -> dict[str, Any]:
    region = scope.region

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
                "period": STORE_THROTTLING.period_seconds,
                "view": "timeSeries",
                "metrics": metrics,
            },
        }

    throttles = [
        [DYNAMODB_NAMESPACE, metric, "TableName", table.name]
        for table in stack.durable_tables
        for metric in DYNAMODB_THROTTLE_METRICS.values()
    ]
    capacity = [
        [DYNAMODB_NAMESPACE, metric, "TableName", table.name]
        for table in stack.tables
        for metric in ("ConsumedReadCapacityUnits", "ConsumedWriteCapacityUnits")
    ]
    service = [
        [{"expression": alarm.expression, "label": alarm.label, "id": f"m{i}"}]
        for i, alarm in enumerate(a for a in stack.alarms if a.expression is not None)
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
