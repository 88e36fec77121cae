"""`phase-mirror bootstrap` on AWS, monitoring part: the alarm topic, every metric alarm of the
stack's spec and the system-health composite, as `pulumi up` creates them (without the e-mail
subscription: bootstrap knows no address). Existing ones are kept.

moto (5.x) has no composite alarms: `PutCompositeAlarm` fails with a server error there, so on
an endpoint override the composite is reported as skipped instead of failing the bootstrap.

The API's alarms watch the HTTP API by id, which only exists once `pulumi up` created the API:
bootstrap looks it up by name (`api_ids`). On an emulator without that API the alarms are
skipped (not reported); against AWS itself a missing API fails the step.
"""

from __future__ import annotations

from typing import Any

from botocore.exceptions import ClientError

from ..operations import Check
from .cloudwatch import api_ids, describe_alarms, unresolved_api
from .errors import Resource, mapped
from .provision import TAGS
from .session import AwsTarget, Clients
from .spec import ApiIdOf, CompositeAlarm, MetricAlarm, aws_stack

MOTO_COMPOSITES = (
    "moto (5.x) does not implement composite alarms: PutCompositeAlarm fails with a server "
    "error and no composite rule is ever evaluated"
)


def metric_alarm_request(alarm: MetricAlarm, actions: list[str]) -> dict[str, Any]:
    """The `PutMetricAlarm` request for a spec record, late-bound dimensions resolved
    (`alarm.bound(...)`); the Pulumi program renders the same record into
    `aws.cloudwatch.MetricAlarm`."""
    request: dict[str, Any] = {
        "AlarmName": alarm.name,
        "AlarmDescription": alarm.description,
        "EvaluationPeriods": alarm.evaluation_periods,
        "ComparisonOperator": alarm.comparison,
        "TreatMissingData": alarm.treat_missing_data,
        "Threshold": alarm.threshold,
        "AlarmActions": actions,
        "OKActions": actions,
        "Tags": [{"Key": k, "Value": v} for k, v in TAGS.items()],
    }
    if alarm.expression is not None:
        request["Metrics"] = [
            {
                "Id": "total",
                "Expression": alarm.expression,
                "Period": alarm.period_seconds,
                "Label": alarm.label,
                "ReturnData": True,
            }
        ]
    else:
        request |= {
            "Namespace": alarm.namespace,
            "MetricName": alarm.metric_name,
            "Dimensions": [{"Name": k, "Value": v} for k, v in alarm.concrete_dimensions().items()],
            "Period": alarm.period_seconds,
        }
        if alarm.extended_statistic is not None:
            request["ExtendedStatistic"] = alarm.extended_statistic
        else:
            request["Statistic"] = alarm.statistic
    return request


class AlarmProvisioner:
    def __init__(self, clients: Clients, target: AwsTarget) -> None:
        self._clients = clients
        self._target = target
        self._stack = aws_stack(target.prefix)

    def create_all(self) -> list[Check]:
        topic_step, topic_arn = self._topic()
        stack = self._stack
        existing = describe_alarms(
            self._clients,
            self._target,
            [a.name for a in stack.alarms] + [stack.system_health.name],
        )
        ids = api_ids(self._clients, self._target, stack.alarms)
        steps = [topic_step]
        steps += [self._put_alarm(a, topic_arn, a.name in existing, ids) for a in stack.alarms]
        health = stack.system_health
        steps.append(self._put_composite(health, topic_arn, health.name in existing))
        return steps

    def _topic(self) -> tuple[Check, str]:
        name = self._stack.alarm_topic
        sns = self._clients.generic("sns")
        with mapped(self._target, Resource("SNS topic", name, "alarms")):
            for page in sns.get_paginator("list_topics").paginate():
                for topic in page.get("Topics", []):
                    if topic["TopicArn"].rsplit(":", 1)[-1] == name:
                        return Check.passed(f"topic {name}", "kept existing topic"), topic[
                            "TopicArn"
                        ]
            arn = sns.create_topic(
                Name=name,
                Attributes={
                    "KmsMasterKeyId": self._target.key_id,
                    "DisplayName": "Phase Mirror alarms",
                },
                Tags=[{"Key": k, "Value": v} for k, v in TAGS.items()],
            )["TopicArn"]
        detail = f"created {arn} (KMS-encrypted; subscribe an address)"
        return Check.passed(f"topic {name}", detail), arn

    def _put_alarm(
        self, alarm: MetricAlarm, topic_arn: str, exists: bool, ids: dict[ApiIdOf, str]
    ) -> Check:
        name = f"alarm {alarm.name}"
        if exists:
            return Check.passed(name, "kept existing alarm")
        if missing := unresolved_api(self._target, name, alarm, ids, "create"):
            return missing
        with mapped(self._target, Resource("CloudWatch alarm", alarm.name, "alarms")):
            self._clients.generic("cloudwatch").put_metric_alarm(
                **metric_alarm_request(alarm.bound(ids), [topic_arn])
            )
        return Check.passed(name, "created")

    def _put_composite(self, health: CompositeAlarm, topic_arn: str, exists: bool) -> Check:
        name = f"composite alarm {health.name}"
        if exists:
            return Check.passed(name, "kept existing alarm")
        with mapped(self._target, Resource("CloudWatch composite alarm", health.name, "alarms")):
            try:
                self._clients.generic("cloudwatch").put_composite_alarm(
                    AlarmName=health.name,
                    AlarmDescription=health.description,
                    AlarmRule=health.rule,
                    ActionsEnabled=True,
                    AlarmActions=[topic_arn],
                    OKActions=[topic_arn],
                    Tags=[{"Key": k, "Value": v} for k, v in TAGS.items()],
                )
            except ClientError as error:
                status = int(
                    error.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0) or 0
                )
                if not (self._target.endpoint and status >= 500):
                    raise
                return Check.passed(
                    name,
                    f"skipped: {self._target.endpoint} cannot create it ({MOTO_COMPOSITES}); "
                    "on AWS 'pulumi up' creates it",
                )
        return Check.passed(name, "created")
