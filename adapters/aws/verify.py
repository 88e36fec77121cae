"""`phase-mirror verify-pitr` and `verify-alarms` on AWS: compare what AWS describes with the
stack's spec (adapters/aws/spec.py, which the Pulumi program renders too).

verify-pitr reads `DescribeContinuousBackups` of every durable table. verify-alarms reads the
stack's CloudWatch alarms and checks each exists, watches what the spec says, notifies and is
not in ALARM; the system-health composite must fire when any one of them does. `--simulate`
runs a drill (adapters/aws/drill.py).

moto has no composite alarms (see alarms.py): on an endpoint override a missing composite is
NOT_REPORTED, never a pass; against AWS itself it is a failure. The same holds for the API's
alarms when no HTTP API of the stack's name exists to resolve their `ApiId` with.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from botocore.exceptions import ClientError

from ..operations import Check
from .alarm_rules import RuleSyntaxError, evaluate_rule
from .alarms import MOTO_COMPOSITES
from .cloudwatch import (
    ALARM_FIX,
    actions,
    api_ids,
    describe_alarms,
    firing,
    silence,
    unresolved_api,
    utc,
)
from .drill import AlarmDrill
from .errors import BOOTSTRAP_HINT, Resource, error_code, mapped
from .session import AwsTarget, Clients
from .spec import CompositeAlarm, DynamoTable, MetricAlarm, aws_stack, watched_metric


class AwsVerifier:
    def __init__(self, clients: Clients, target: AwsTarget) -> None:
        self._clients = clients
        self._target = target
        self._stack = aws_stack(target.prefix)
        self._drill = AlarmDrill(clients, target)

    # ------------------------------------------------------------------ verify-pitr

    def verify_pitr(self) -> list[Check]:
        """One check per durable table: point-in-time recovery ENABLED."""
        return [self._pitr(table) for table in self._stack.durable_tables]

    def _pitr(self, spec: DynamoTable) -> Check:
        table = spec.name
        name = f"pitr {table}"
        with mapped(self._target, Resource("DynamoDB table", table, spec.store.name)):
            try:
                described = self._clients.dynamodb.describe_continuous_backups(TableName=table)
            except ClientError as error:
                if error_code(error) not in ("TableNotFoundException", "ResourceNotFoundException"):
                    raise
                return Check.failed(
                    name, f"table missing in {self._target.where()}", BOOTSTRAP_HINT
                )
        pitr = described["ContinuousBackupsDescription"].get("PointInTimeRecoveryDescription", {})
        status = pitr.get("PointInTimeRecoveryStatus", "DISABLED")
        if status != "ENABLED":
            return Check.failed(
                name,
                f"point-in-time recovery {status} on a durable table",
                f"aws dynamodb update-continuous-backups --table-name {table} "
                "--point-in-time-recovery-specification PointInTimeRecoveryEnabled=true "
                "(or 'pulumi up', which sets it)",
            )
        detail = "point-in-time recovery ENABLED"
        if days := pitr.get("RecoveryPeriodInDays"):
            detail += f", {days}-day recovery period"
        earliest, latest = (
            pitr.get("EarliestRestorableDateTime"),
            pitr.get("LatestRestorableDateTime"),
        )
        if earliest and latest:
            detail += f"; restorable from {utc(earliest)} to {utc(latest)}"
        return Check.passed(name, detail)

    # ------------------------------------------------------------------ verify-alarms

    def verify_alarms(self, simulate: bool = False, timeout: float = 120.0) -> list[Check]:
        expected, health = self._stack.alarms, self._stack.system_health
        found = describe_alarms(
            self._clients, self._target, [alarm.name for alarm in expected] + [health.name]
        )
        ids = api_ids(self._clients, self._target, expected)
        checks = []
        comparable = []
        for alarm in expected:
            unresolved = unresolved_api(self._target, f"alarm {alarm.name}", alarm, ids, "compare")
            if unresolved is not None:
                checks.append(unresolved)
                continue
            comparable.append(alarm.bound(ids))
            checks.append(self.alarm_check(comparable[-1], found.get(alarm.name)))
        checks.append(self.composite_check(health, found.get(health.name), expected))
        if simulate:
            # An alarm the endpoint cannot have (no API to watch) does not block the drill.
            checks.extend(self._drill.run(tuple(comparable), health, found, timeout))
        return checks

    def alarm_check(self, alarm: MetricAlarm, described: dict[str, Any] | None) -> Check:
        """The verdict on one alarm; `alarm` has its late-bound dimensions resolved."""
        name = f"alarm {alarm.name}"
        if described is None:
            return Check.failed(name, f"missing in {self._target.where()}", ALARM_FIX)
        problems: list[str] = []
        fixes: list[str] = []
        state = described.get("StateValue", "")
        if state == "ALARM":
            problems.append(firing(described))
            fixes.append(f"see docs/runbooks/alarms.md ({alarm.kind.value} alarms)")
        if drifted := drift(alarm, described):
            problems += drifted
            fixes.append("'pulumi up' restores the catalog's definition")
        if silent := silence(described):
            problems += silent
            fixes.append(
                f"aws cloudwatch enable-alarm-actions --alarm-names {alarm.name} (or 'pulumi up')"
            )
        if problems:
            return Check.failed(name, "; ".join(problems), "; ".join(fixes))
        note = " (no data yet: not in alarm)" if state == "INSUFFICIENT_DATA" else ""
        return Check.passed(
            name, f"{state}{note}; watches what the catalog says, notifies {actions(described)}"
        )

    def composite_check(
        self,
        health: CompositeAlarm,
        described: dict[str, Any] | None,
        expected: Iterable[MetricAlarm],
    ) -> Check:
        name = f"composite alarm {health.name}"
        if described is None:
            if self._target.endpoint:
                return Check.unreported(
                    name,
                    f"{self._target.endpoint} has no composite alarm; {MOTO_COMPOSITES}, so "
                    "'phase-mirror bootstrap' cannot create it there (on AWS, 'pulumi up' does)",
                )
            return Check.failed(name, f"missing in {self._target.where()}", ALARM_FIX)
        names = [alarm.name for alarm in expected]
        problems = []
        try:
            # Any single alarm in ALARM, the others OK, must fire the composite.
            quiet = dict.fromkeys(names, "OK")
            rule = str(described.get("AlarmRule", ""))
            deaf = [n for n in names if not evaluate_rule(rule, quiet | {n: "ALARM"})]
            if deaf:
                problems.append(f"its rule does not fire when only {', '.join(deaf)} is in ALARM")
        except RuleSyntaxError as error:
            problems.append(f"its rule cannot be read: {error}")
        problems += silence(described)
        state = described.get("StateValue", "")
        if state == "ALARM":
            problems.insert(0, firing(described))
        if problems:
            return Check.failed(
                name,
                "; ".join(problems),
                "start from the alarms above that are in ALARM (docs/runbooks/alarms.md); "
                "'pulumi up' restores the rule and actions",
            )
        return Check.passed(
            name,
            f"{state}; fires when any of the {len(names)} alarms does, notifies "
            f"{actions(described)}",
        )


def drift(alarm: MetricAlarm, described: Mapping[str, Any]) -> list[str]:
    """How a described alarm differs from its spec record (late-bound dimensions resolved):
    every field `metric_alarm_request` sends is compared."""
    problems = []
    metrics = described.get("Metrics") or [{}]
    if alarm.expression is not None:
        expressions = [m.get("Expression") for m in described.get("Metrics", [])]
        if alarm.expression not in expressions:
            problems.append(f"does not evaluate {alarm.expression!r}")
        period = metrics[0].get("Period")
    else:
        dimensions = {d["Name"]: d["Value"] for d in described.get("Dimensions", [])}
        watched = watched_metric(
            described.get("Namespace"), described.get("MetricName"), dimensions
        )
        if watched != alarm.watches:
            problems.append(f"watches {watched}, the catalog says {alarm.watches}")
        statistic = described.get("ExtendedStatistic") or described.get("Statistic")
        expected = alarm.extended_statistic or alarm.statistic
        if statistic != expected:
            problems.append(f"statistic {statistic}, the catalog says {expected}")
        period = described.get("Period")
    if period != alarm.period_seconds:
        problems.append(f"period {period} s, the catalog says {alarm.period_seconds} s")
    if float(described.get("Threshold", -1)) != alarm.threshold:
        problems.append(
            f"threshold {described.get('Threshold')}, the catalog says {alarm.threshold:g}"
        )
    for field, value in (
        ("ComparisonOperator", alarm.comparison),
        ("EvaluationPeriods", alarm.evaluation_periods),
        ("TreatMissingData", alarm.treat_missing_data),
    ):
        if described.get(field) != value:
            problems.append(f"{field} {described.get(field)}, the catalog says {value}")
    return problems
