"""One desired state per cloud, three readers: the Pulumi program, bootstrap and verify.

Every alarm / alert policy and every table of a stack is a record of `adapters.aws.spec` or
`adapters.gcp.spec`. Here each record is rendered by all its readers and compared field by
field: the resource the Pulumi program declares (under Pulumi's mocks), the request bootstrap
sends (and, on moto, what CloudWatch and DynamoDB then describe), and verify's verdict on it.
A reader that drifted from the others (a renamed metric, another threshold, a missing index)
fails here, naming the record.
"""

from __future__ import annotations

from typing import Any

import pytest
from google.cloud import monitoring_v3
from phase_platform.testing import STACKS, ProgramRun, run_stack

from adapters.aws.alarms import metric_alarm_request
from adapters.aws.driver import AwsDriver
from adapters.aws.spec import ApiIdOf, MetricAlarm, aws_stack
from adapters.aws.verify import AwsVerifier, drift
from adapters.clock import SystemClock
from adapters.config import parse_backend_url
from adapters.gcp.spec import AlertPolicy, gcp_stack
from adapters.gcp.verify import policy_check, system_health_check
from adapters.operations import CheckStatus
from tests.support.aws_backend import aws_url, fresh_prefix
from tests.support.emulators import Emulator

Watched = tuple[Any, ...]


def _prefix(run: ProgramRun) -> str:
    return str(run.outputs["prefix"])


@pytest.fixture(scope="module", params=STACKS)
def aws_program(request: pytest.FixtureRequest) -> ProgramRun:
    return run_stack("aws", request.param)


@pytest.fixture(scope="module", params=STACKS)
def gcp_program(request: pytest.FixtureRequest) -> ProgramRun:
    return run_stack("gcp", request.param)


# ---------------------------------------------------------------------------- aws alarms


def _from_record(alarm: MetricAlarm) -> Watched:
    return (
        alarm.name,
        alarm.description,
        float(alarm.threshold),
        alarm.period_seconds,
        alarm.comparison,
        alarm.evaluation_periods,
        alarm.treat_missing_data,
        alarm.namespace,
        alarm.metric_name,
        alarm.concrete_dimensions(),
        alarm.statistic,
        alarm.extended_statistic,
        alarm.expression,
    )


def _from_pulumi(inputs: dict[str, Any]) -> Watched:
    queries = inputs.get("metricQueries") or [{}]
    return (
        inputs["name"],
        inputs["alarmDescription"],
        float(inputs["threshold"]),
        inputs.get("period", queries[0].get("period")),
        inputs["comparisonOperator"],
        inputs["evaluationPeriods"],
        inputs["treatMissingData"],
        inputs.get("namespace"),
        inputs.get("metricName"),
        dict(inputs.get("dimensions") or {}),
        inputs.get("statistic"),
        inputs.get("extendedStatistic"),
        queries[0].get("expression"),
    )


def _from_cloudwatch(described: dict[str, Any]) -> Watched:
    """A PutMetricAlarm request or a DescribeAlarms entry (the same field names)."""
    metrics = described.get("Metrics") or [{}]
    return (
        described["AlarmName"],
        described["AlarmDescription"],
        float(described["Threshold"]),
        described.get("Period", metrics[0].get("Period")),
        described["ComparisonOperator"],
        described["EvaluationPeriods"],
        described["TreatMissingData"],
        described.get("Namespace"),
        described.get("MetricName"),
        {d["Name"]: d["Value"] for d in described.get("Dimensions") or []},
        described.get("Statistic"),
        described.get("ExtendedStatistic"),
        metrics[0].get("Expression"),
    )


def test_the_aws_program_declares_every_alarm_record_as_it_is(aws_program: ProgramRun) -> None:
    stack = aws_stack(_prefix(aws_program))
    declared = {
        r.inputs["name"]: r.inputs
        for r in aws_program.of_type("aws:cloudwatch/metricAlarm:MetricAlarm")
    }
    # The late-bound ApiId is the id of the API the program created (the mocks' id).
    (api,) = aws_program.of_type("aws:apigatewayv2/api:Api")
    assert api.inputs["name"] == stack.compute.api.name
    ids = {ApiIdOf(stack.compute.api.name): str(api.id)}
    assert {a.name for a in stack.alarms if a.late_bound} == {
        f"{stack.prefix}-api-5xx",
        f"{stack.prefix}-api-latency-p99",
    }
    assert set(declared) == {alarm.name for alarm in stack.alarms}
    for record in stack.alarms:
        alarm = record.bound(ids)
        assert _from_pulumi(declared[alarm.name]) == _from_record(alarm), alarm.name
        assert _from_cloudwatch(metric_alarm_request(alarm, ["arn:topic"])) == _from_record(alarm)
    (composite,) = aws_program.of_type("aws:cloudwatch/compositeAlarm:CompositeAlarm")
    assert composite.inputs["alarmName"] == stack.system_health.name
    assert composite.inputs["alarmRule"] == stack.system_health.rule


def test_the_aws_program_declares_every_table_record_as_it_is(aws_program: ProgramRun) -> None:
    stack = aws_stack(_prefix(aws_program))
    declared = {r.inputs["name"]: r.inputs for r in aws_program.of_type("aws:dynamodb/table:Table")}
    assert set(declared) == {table.name for table in stack.tables}
    for table in stack.tables:
        inputs = declared[table.name]
        assert (inputs["hashKey"], inputs.get("rangeKey")) == (
            table.keys.hash_key,
            table.keys.range_key,
        )
        assert {a["name"]: a["type"] for a in inputs["attributes"]} == table.attributes
        indexes = {i["name"]: i for i in inputs.get("globalSecondaryIndexes") or []}
        assert set(indexes) == {index.name for index in table.indexes}
        for index in table.indexes:
            keys = [(k["attributeName"], k["keyType"]) for k in indexes[index.name]["keySchemas"]]
            assert keys == index.keys.elements()
            assert indexes[index.name]["projectionType"] == index.projection
        assert (inputs.get("ttl") or {}).get("attributeName") == table.ttl_attribute
        assert inputs["pointInTimeRecovery"]["enabled"] is table.pitr


@pytest.mark.aws
def test_aws_bootstrap_creates_and_verify_accepts_exactly_the_records(
    moto_server: Emulator,
) -> None:
    url = aws_url(moto_server.endpoint, fresh_prefix())
    driver = AwsDriver(parse_backend_url(url), SystemClock())
    try:
        stack = aws_stack(driver.target.prefix)
        # What `pulumi up` deploys before the API's alarms can name it (moto has apigatewayv2).
        api_id = driver.clients.generic("apigatewayv2").create_api(
            Name=stack.compute.api.name, ProtocolType=stack.compute.api.protocol
        )["ApiId"]
        ids = {ApiIdOf(stack.compute.api.name): api_id}
        steps = driver.operator.bootstrap()
        assert all(
            step.status is CheckStatus.OK for step in steps if step.name.startswith("alarm ")
        )
        assert all(step.ok for step in steps), [s for s in steps if not s.ok]
        cloudwatch = driver.clients.generic("cloudwatch")
        described = {
            a["AlarmName"]: a
            for a in cloudwatch.describe_alarms(AlarmNamePrefix=f"{stack.prefix}-")["MetricAlarms"]
        }
        assert set(described) == {alarm.name for alarm in stack.alarms}
        verifier = AwsVerifier(driver.clients, driver.target)
        for record in stack.alarms:
            alarm = record.bound(ids)
            assert _from_cloudwatch(described[alarm.name]) == _from_record(alarm), alarm.name
            assert drift(alarm, described[alarm.name]) == []
            assert verifier.alarm_check(alarm, described[alarm.name]).status is CheckStatus.OK
        verdicts = {check.name: check for check in verifier.verify_alarms()}
        assert all(verdicts[f"alarm {a.name}"].status is CheckStatus.OK for a in stack.alarms)
        # The same records, with one field changed, are what verify calls drift.
        first = stack.alarms[0]
        moved = dict(described[first.name], Threshold=first.threshold + 1)
        assert drift(first, moved) == [
            f"threshold {first.threshold + 1}, the catalog says {first.threshold:g}"
        ]
        doctor = {check.name: check for check in driver.doctor()}
        for table in stack.tables:
            assert doctor[f"table {table.name}"].status is CheckStatus.OK, table.name
    finally:
        driver.close()


# ---------------------------------------------------------------------------- gcp alert policies


def _as_policy(inputs: dict[str, Any], name: str) -> monitoring_v3.AlertPolicy:
    """A declared alert policy as Cloud Monitoring would return it after `pulumi up`."""
    return monitoring_v3.AlertPolicy(
        name=f"projects/p/alertPolicies/{name}",
        display_name=inputs["displayName"],
        combiner=inputs["combiner"],
        enabled=True,
        notification_channels=["projects/p/notificationChannels/1"],
        conditions=[
            {
                "display_name": c["displayName"],
                "condition_threshold": {
                    "filter": c["conditionThreshold"]["filter"],
                    "threshold_value": c["conditionThreshold"]["thresholdValue"],
                    "denominator_filter": c["conditionThreshold"].get("denominatorFilter", ""),
                },
            }
            for c in inputs["conditions"]
        ],
    )


def _condition(alert: AlertPolicy) -> tuple[Any, ...]:
    c = alert.condition
    period = f"{c.period_seconds}s"
    ratio = c.denominator_filter is not None
    return (
        c.display_name,
        c.filter,
        float(c.threshold),
        (period, c.aligner, c.reducer),
        c.comparison,
        c.denominator_filter,
        (period, c.denominator_aligner, c.denominator_reducer) if ratio else None,
    )


def _aggregation(aggregations: list[dict[str, Any]] | None) -> tuple[str, str, str] | None:
    if not aggregations:
        return None
    (one,) = aggregations
    return (one["alignmentPeriod"], one["perSeriesAligner"], one["crossSeriesReducer"])


def _declared_condition(condition: dict[str, Any]) -> tuple[Any, ...]:
    threshold = condition["conditionThreshold"]
    return (
        condition["displayName"],
        threshold["filter"],
        float(threshold["thresholdValue"]),
        _aggregation(threshold["aggregations"]),
        threshold["comparison"],
        threshold.get("denominatorFilter"),
        _aggregation(threshold.get("denominatorAggregations")),
    )


def test_the_gcp_program_declares_every_policy_record_and_verify_accepts_it(
    gcp_program: ProgramRun,
) -> None:
    stack = gcp_stack(_prefix(gcp_program))
    declared = {
        r.inputs["displayName"]: r.inputs
        for r in gcp_program.of_type("gcp:monitoring/alertPolicy:AlertPolicy")
    }
    assert set(declared) == {a.name for a in stack.policies} | {stack.system_health.name}
    singles = []
    for alert in stack.policies:
        (condition,) = declared[alert.name]["conditions"]
        assert _declared_condition(condition) == _condition(alert), alert.name
        policy = _as_policy(declared[alert.name], alert.key)
        assert policy_check(alert, [policy], {}).status is CheckStatus.OK, alert.name
        singles.append(policy)
    health = declared[stack.system_health.name]
    assert [_declared_condition(c) for c in health["conditions"]] == [
        _condition(a) for a in stack.policies
    ]
    combined = system_health_check(
        stack.system_health, [_as_policy(health, "health")], singles, stack.policies, {}
    )
    assert combined.status is CheckStatus.OK
    metrics = {m.inputs["name"]: m.inputs for m in gcp_program.of_type("gcp:logging/metric:Metric")}
    assert {name: m["filter"] for name, m in metrics.items()} == {
        m.name: m.filter for m in stack.log_metrics
    }


def test_the_gcp_program_declares_every_collection_record(gcp_program: ProgramRun) -> None:
    stack = gcp_stack(_prefix(gcp_program))
    (database,) = gcp_program.of_type("gcp:firestore/database:Database")
    assert database.inputs["name"] == stack.database
    ttl = {
        (f.inputs["collection"], f.inputs["field"])
        for f in gcp_program.of_type("gcp:firestore/field:Field")
    }
    assert ttl == {(c.name, c.ttl_field) for c in stack.collections if c.ttl_field}
    indexes = {
        (
            i.inputs["collection"],
            i.inputs["fields"][0]["fieldPath"],
            i.inputs["fields"][1]["fieldPath"],
            i.inputs["fields"][1]["order"],
        )
        for i in gcp_program.of_type("gcp:firestore/index:Index")
    }
    assert indexes == {
        (c.name, i.hash_field, i.range_field, i.order) for c in stack.collections for i in c.indexes
    }
