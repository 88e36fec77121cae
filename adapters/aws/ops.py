"""Operational checks on AWS: `phase-mirror verify-pitr` and `verify-alarms`, and the alarms
`phase-mirror bootstrap` creates so that they can be verified on an emulator.

verify-pitr reads `DescribeContinuousBackups` of every durable catalog table. verify-alarms
reads the stack's CloudWatch alarms (names from `adapters.catalog`, the same the platform
creates) and checks each exists, watches what the catalog says, notifies the alarm topic and
is not in ALARM; the composite "system health" alarm must watch every one of them.
`--simulate` forces one metric alarm to ALARM (`SetAlarmState`), checks the composite follows
within a timeout, and sets the alarm back to OK.

moto, the emulator the tests use, has no composite alarms at all: `PutCompositeAlarm` fails
with a server error (NotImplementedError in moto 5.x) and nothing evaluates composite rules.
On an endpoint override (`endpoint=` in the backend setting) a missing or unmoved composite
is therefore reported as "not reported by this endpoint", and the composite's rule is also
evaluated locally on the states the endpoint reports, so the drill still proves the rule would
fire. Against AWS itself those gaps are failures.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterable, Mapping
from datetime import UTC, datetime
from typing import Any

from botocore.exceptions import ClientError

from ..backend import Check
from ..catalog import (
    DYNAMODB_THROTTLE_METRICS,
    THROTTLE_ALARM_PERIOD_SECONDS,
    THROTTLE_ALARM_THRESHOLD,
    AlarmKind,
    AlarmSpec,
    alarm_topic_name,
    aws_alarms,
    aws_system_health_alarm,
    aws_system_health_rule,
    durable_stores,
)
from .errors import BOOTSTRAP_HINT, Resource, error_code, mapped
from .provision import TAGS
from .session import AwsTarget, Clients

#: The status phrase of a check an emulator cannot answer (the CLI reports it as such).
NOT_REPORTED = "not reported by this endpoint"
MOTO_COMPOSITES = (
    "moto (5.x) does not implement composite alarms: PutCompositeAlarm fails with a server "
    "error and no composite rule is ever evaluated"
)
ALARM_FIX = (
    "run 'pulumi up' for the stack (it creates every alarm the catalog names), or "
    "'phase-mirror bootstrap' on an emulator or a dev account"
)
DRILL_REASON = "phase-mirror verify-alarms --simulate: drill, not an incident"
#: Seconds between two looks at the composite while waiting for it to react.
POLL_SECONDS = 5.0


class AwsOps:
    def __init__(
        self,
        clients: Clients,
        target: AwsTarget,
        *,
        sleep: Callable[[float], None] = time.sleep,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._clients = clients
        self._target = target
        self._sleep = sleep
        self._monotonic = monotonic

    @property
    def _cloudwatch(self) -> Any:
        return self._clients.generic("cloudwatch")

    # ------------------------------------------------------------------ verify-pitr

    def verify_pitr(self) -> list[Check]:
        """One check per durable catalog table: point-in-time recovery ENABLED."""
        return [
            self._pitr(spec.physical_name(self._target.prefix), spec.name)
            for spec in durable_stores()
        ]

    def _pitr(self, table: str, store: str) -> Check:
        name = f"pitr {table}"
        with mapped(self._target, Resource("DynamoDB table", table, store)):
            try:
                described = self._clients.dynamodb.describe_continuous_backups(TableName=table)
            except ClientError as error:
                if error_code(error) not in ("TableNotFoundException", "ResourceNotFoundException"):
                    raise
                return Check(
                    name, False, f"table missing in {self._target.where()}", BOOTSTRAP_HINT
                )
        pitr = described["ContinuousBackupsDescription"].get("PointInTimeRecoveryDescription", {})
        status = pitr.get("PointInTimeRecoveryStatus", "DISABLED")
        if status != "ENABLED":
            return Check(
                name,
                False,
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
            detail += f"; restorable from {_utc(earliest)} to {_utc(latest)}"
        return Check(name, True, detail)

    # ------------------------------------------------------------------ verify-alarms

    def verify_alarms(self, simulate: bool = False, timeout: float = 120.0) -> list[Check]:
        prefix = self._target.prefix
        expected = aws_alarms(prefix)
        health = aws_system_health_alarm(prefix)
        found = self._describe([alarm.name for alarm in expected] + [health.name])
        checks = [self.alarm_check(alarm, found.get(alarm.name)) for alarm in expected]
        checks.append(self.composite_check(health, found.get(health.name), expected))
        if simulate:
            checks.extend(self._simulate(expected, health, found, timeout))
        return checks

    def _describe(self, names: list[str]) -> dict[str, dict[str, Any]]:
        """The named alarms that exist, metric and composite alike, by name."""
        found: dict[str, dict[str, Any]] = {}
        # Without AlarmTypes, AWS lists metric alarms only.
        request: dict[str, Any] = {
            "AlarmNames": names,
            "AlarmTypes": ["MetricAlarm", "CompositeAlarm"],
        }
        with mapped(
            self._target, Resource("CloudWatch alarms", f"{self._target.prefix}-*", "alarms")
        ):
            while True:
                page = self._cloudwatch.describe_alarms(**request)
                for alarm in [*page.get("MetricAlarms", []), *page.get("CompositeAlarms", [])]:
                    found[alarm["AlarmName"]] = alarm
                if not page.get("NextToken"):
                    return found
                request["NextToken"] = page["NextToken"]

    def alarm_check(self, alarm: AlarmSpec, described: dict[str, Any] | None) -> Check:
        name = f"alarm {alarm.name}"
        if described is None:
            return Check(name, False, f"missing in {self._target.where()}", ALARM_FIX)
        problems: list[str] = []
        fixes: list[str] = []
        state = described.get("StateValue", "")
        if state == "ALARM":
            problems.append(_firing(described))
            fixes.append(f"see docs/runbooks/alarms.md ({alarm.kind.value} alarms)")
        if drift := _drift(alarm, described, self._target.prefix):
            problems += drift
            fixes.append("'pulumi up' restores the catalog's definition")
        if silence := _silence(described):
            problems += silence
            fixes.append(
                f"aws cloudwatch enable-alarm-actions --alarm-names {alarm.name} (or 'pulumi up')"
            )
        if problems:
            return Check(name, False, "; ".join(problems), "; ".join(fixes))
        note = " (no data yet: not in alarm)" if state == "INSUFFICIENT_DATA" else ""
        return Check(
            name,
            True,
            f"{state}{note}; watches what the catalog says, notifies {_actions(described)}",
        )

    def composite_check(
        self, health: AlarmSpec, described: dict[str, Any] | None, expected: Iterable[AlarmSpec]
    ) -> Check:
        name = f"composite alarm {health.name}"
        if described is None:
            if self._target.endpoint:
                return Check(
                    name,
                    True,
                    f"{NOT_REPORTED}: {self._target.endpoint} has no composite alarm; "
                    f"{MOTO_COMPOSITES}, so 'phase-mirror bootstrap' cannot create it there "
                    "(on AWS, 'pulumi up' does)",
                )
            return Check(name, False, f"missing in {self._target.where()}", ALARM_FIX)
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
        problems += _silence(described)
        state = described.get("StateValue", "")
        if state == "ALARM":
            problems.insert(0, _firing(described))
        if problems:
            return Check(
                name,
                False,
                "; ".join(problems),
                "start from the alarms above that are in ALARM (docs/runbooks/alarms.md); "
                "'pulumi up' restores the rule and actions",
            )
        return Check(
            name,
            True,
            f"{state}; fires when any of the {len(names)} alarms does, notifies "
            f"{_actions(described)}",
        )

    # ------------------------------------------------------------------ --simulate

    def _simulate(
        self,
        expected: tuple[AlarmSpec, ...],
        health: AlarmSpec,
        found: Mapping[str, dict[str, Any]],
        timeout: float,
    ) -> list[Check]:
        firing = [
            alarm.name
            for alarm in expected
            if found.get(alarm.name, {}).get("StateValue") == "ALARM"
        ]
        missing = [alarm.name for alarm in expected if alarm.name not in found]
        if firing or missing:
            reasons = [f"{', '.join(firing)} already in ALARM"] if firing else []
            reasons += [f"{', '.join(missing)} missing"] if missing else []
            why = "; ".join(reasons)
            return [
                Check(
                    "simulate",
                    False,
                    f"not run: {why}; a drill needs every alarm present and quiet",
                    "fix the failures above, then run --simulate again",
                )
            ]
        subject = expected[0]  # any alarm would do; the first is stable across runs
        composite = found.get(health.name)
        cloudwatch = self._cloudwatch
        resource = Resource("CloudWatch alarm", subject.name, "alarms")
        with mapped(self._target, resource):
            cloudwatch.set_alarm_state(
                AlarmName=subject.name, StateValue="ALARM", StateReason=DRILL_REASON
            )
        try:
            checks = self._during_drill(expected, subject, health, composite, timeout)
        finally:
            with mapped(self._target, resource):
                cloudwatch.set_alarm_state(
                    AlarmName=subject.name, StateValue="OK", StateReason=f"{DRILL_REASON} (over)"
                )
        after = self._describe([subject.name]).get(subject.name, {}).get("StateValue")
        checks.append(
            Check(
                f"simulate: {subject.name} back to OK",
                after == "OK",
                f"set to OK, now {after}"
                + ("" if composite is None else "; the composite follows at its next evaluation"),
                f"aws cloudwatch set-alarm-state --alarm-name {subject.name} --state-value OK "
                "--state-reason 'drill over' (its next evaluation resets it too)",
            )
        )
        return checks

    def _during_drill(
        self,
        expected: tuple[AlarmSpec, ...],
        subject: AlarmSpec,
        health: AlarmSpec,
        composite: dict[str, Any] | None,
        timeout: float,
    ) -> list[Check]:
        states = {
            name: str(alarm.get("StateValue", ""))
            for name, alarm in self._describe([a.name for a in expected]).items()
        }
        moved = states.get(subject.name) == "ALARM"
        checks = [
            Check(
                f"simulate: {subject.name} set to ALARM",
                moved,
                f"SetAlarmState accepted; the alarm reports {states.get(subject.name)}",
                "the endpoint ignored SetAlarmState; check cloudwatch:SetAlarmState permission",
            )
        ]
        rule = (
            str(composite["AlarmRule"])
            if composite
            else aws_system_health_rule(self._target.prefix)
        )
        source = (
            f"the rule of {health.name}"
            if composite
            else "the catalog's rule (the endpoint has no composite)"
        )
        try:
            fires = evaluate_rule(rule, states)
            detail = f"{source} evaluates to {'ALARM' if fires else 'OK'} on the states the endpoint reports"
        except RuleSyntaxError as error:
            fires, detail = False, f"{source} cannot be evaluated: {error}"
        checks.append(
            Check(
                "simulate: system-health rule, evaluated locally",
                fires,
                detail,
                f"the rule must name {subject.name}: 'pulumi up' restores it",
            )
        )
        checks.append(self._composite_reaction(subject, health, composite, timeout))
        return checks

    def _composite_reaction(
        self,
        subject: AlarmSpec,
        health: AlarmSpec,
        composite: dict[str, Any] | None,
        timeout: float,
    ) -> Check:
        name = f"simulate: {health.name} reacts"
        if composite is None:
            if self._target.endpoint:
                return Check(
                    name,
                    True,
                    f"{NOT_REPORTED}: {MOTO_COMPOSITES}; the rule was evaluated locally instead",
                )
            return Check(name, False, "there is no composite alarm to react", ALARM_FIX)
        started = self._monotonic()
        while True:
            state = self._describe([health.name]).get(health.name, {}).get("StateValue")
            elapsed = self._monotonic() - started
            if state == "ALARM":
                return Check(
                    name,
                    True,
                    f"went to ALARM {elapsed:.0f} s after {subject.name} did; its actions "
                    f"notified {_actions(composite)}",
                )
            if elapsed >= timeout:
                break
            self._sleep(min(POLL_SECONDS, max(timeout - elapsed, 0.0)))
        if self._target.endpoint:
            return Check(
                name,
                True,
                f"{NOT_REPORTED}: the composite stayed {state} for {timeout:g} s; emulators "
                "such as moto do not evaluate composite rules (the rule was evaluated locally)",
            )
        return Check(
            name,
            False,
            f"stayed {state} for {timeout:g} s after {subject.name} went to ALARM",
            "check the composite's rule and that its actions are enabled; raise --timeout if "
            "CloudWatch is slow to evaluate",
        )

    # ------------------------------------------------------------------ bootstrap

    def create_alarms(self) -> list[Check]:
        """The alarm topic, every catalog alarm and the composite, as the platform creates
        them (without the e-mail subscription: bootstrap knows no address). Existing ones are
        kept; a composite the endpoint cannot hold (moto) is reported as skipped."""
        topic_step, topic_arn = self._topic()
        prefix = self._target.prefix
        health = aws_system_health_alarm(prefix)
        existing = self._describe([a.name for a in aws_alarms(prefix)] + [health.name])
        steps = [topic_step]
        for alarm in aws_alarms(prefix):
            steps.append(self._put_alarm(alarm, topic_arn, alarm.name in existing))
        steps.append(self._put_composite(health, topic_arn, health.name in existing))
        return steps

    def _topic(self) -> tuple[Check, str]:
        name = alarm_topic_name(self._target.prefix)
        sns = self._clients.generic("sns")
        with mapped(self._target, Resource("SNS topic", name, "alarms")):
            for page in sns.get_paginator("list_topics").paginate():
                for topic in page.get("Topics", []):
                    if topic["TopicArn"].rsplit(":", 1)[-1] == name:
                        return Check(f"topic {name}", True, "kept existing topic"), topic[
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
        return Check(
            f"topic {name}", True, f"created {arn} (KMS-encrypted; subscribe an address)"
        ), arn

    def _put_alarm(self, alarm: AlarmSpec, topic_arn: str, exists: bool) -> Check:
        name = f"alarm {alarm.name}"
        if exists:
            return Check(name, True, "kept existing alarm")
        prefix = self._target.prefix
        request: dict[str, Any] = {
            "AlarmName": alarm.name,
            "EvaluationPeriods": 1,
            "ComparisonOperator": "GreaterThanThreshold",
            "TreatMissingData": "notBreaching",
            "AlarmActions": [topic_arn],
            "OKActions": [topic_arn],
            "Tags": [{"Key": k, "Value": v} for k, v in TAGS.items()],
        }
        if alarm.kind is AlarmKind.THROTTLE:
            assert alarm.store is not None and alarm.operation is not None
            table = alarm.store.physical_name(prefix)
            metric = DYNAMODB_THROTTLE_METRICS[alarm.operation]
            request |= {
                "AlarmDescription": f"{metric} on {table} above {THROTTLE_ALARM_THRESHOLD} per 5 minutes",
                "Namespace": "AWS/DynamoDB",
                "MetricName": metric,
                "Dimensions": [{"Name": "TableName", "Value": table}],
                "Statistic": "Sum",
                "Period": THROTTLE_ALARM_PERIOD_SECONDS,
                "Threshold": THROTTLE_ALARM_THRESHOLD,
            }
        else:
            spec = alarm.metric
            assert spec is not None
            request |= {
                "AlarmDescription": spec.description,
                "Metrics": [
                    {
                        "Id": "total",
                        "Expression": spec.insights_query,
                        "Period": spec.period_seconds,
                        "Label": spec.name,
                        "ReturnData": True,
                    }
                ],
                "Threshold": spec.alarm_threshold,
            }
        with mapped(self._target, Resource("CloudWatch alarm", alarm.name, "alarms")):
            self._cloudwatch.put_metric_alarm(**request)
        return Check(name, True, "created")

    def _put_composite(self, health: AlarmSpec, topic_arn: str, exists: bool) -> Check:
        name = f"composite alarm {health.name}"
        if exists:
            return Check(name, True, "kept existing alarm")
        with mapped(self._target, Resource("CloudWatch composite alarm", health.name, "alarms")):
            try:
                self._cloudwatch.put_composite_alarm(
                    AlarmName=health.name,
                    AlarmDescription="Any Phase Mirror alarm of this stack",
                    AlarmRule=aws_system_health_rule(self._target.prefix),
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
                return Check(
                    name,
                    True,
                    f"skipped: {self._target.endpoint} cannot create it ({MOTO_COMPOSITES}); "
                    "on AWS 'pulumi up' creates it",
                )
        return Check(name, True, "created")


# ---------------------------------------------------------------------- helpers


def _drift(alarm: AlarmSpec, described: Mapping[str, Any], prefix: str) -> list[str]:
    """How a described alarm differs from the catalog's definition of it."""
    problems = []
    if alarm.kind is AlarmKind.THROTTLE:
        assert alarm.store is not None and alarm.operation is not None
        table = alarm.store.physical_name(prefix)
        metric = DYNAMODB_THROTTLE_METRICS[alarm.operation]
        dimensions = {d["Name"]: d["Value"] for d in described.get("Dimensions", [])}
        watched = f"{described.get('Namespace')}/{described.get('MetricName')} on {dimensions.get('TableName')}"
        if watched != f"AWS/DynamoDB/{metric} on {table}":
            problems.append(f"watches {watched}, the catalog says AWS/DynamoDB/{metric} on {table}")
        threshold: float = THROTTLE_ALARM_THRESHOLD
    else:
        spec = alarm.metric
        assert spec is not None
        expressions = [m.get("Expression") for m in described.get("Metrics", [])]
        if spec.insights_query not in expressions:
            problems.append(f"does not evaluate {spec.insights_query!r}")
        threshold = spec.alarm_threshold
    if float(described.get("Threshold", -1)) != threshold:
        problems.append(f"threshold {described.get('Threshold')}, the catalog says {threshold:g}")
    return problems


def _silence(described: Mapping[str, Any]) -> list[str]:
    if not described.get("ActionsEnabled", False):
        return ["its actions are disabled: nobody is notified"]
    if not described.get("AlarmActions"):
        return ["it has no alarm action: nobody is notified"]
    return []


def _firing(described: Mapping[str, Any]) -> str:
    since = described.get("StateUpdatedTimestamp")
    when = f" since {_utc(since)}" if since else ""
    return f"in ALARM{when}: {described.get('StateReason', '')}".rstrip(": ")


def _utc(moment: datetime) -> str:
    """botocore returns local-time datetimes for some services: print them in UTC."""
    return f"{moment.astimezone(UTC):%Y-%m-%dT%H:%M:%SZ}"


def _actions(described: Mapping[str, Any]) -> str:
    return ", ".join(arn.rsplit(":", 1)[-1] for arn in described.get("AlarmActions", []))


# ---------------------------------------------------------------------- composite alarm rules


class RuleSyntaxError(ValueError):
    pass


_RULE_TOKEN = re.compile(
    r"""\s*(?:
        (?P<state>ALARM|OK|INSUFFICIENT_DATA)\s*\(\s*(?:"(?P<quoted>[^"]+)"|(?P<bare>[^()\s"]+))\s*\)
      | (?P<word>AND|OR|NOT|TRUE|FALSE)\b
      | (?P<paren>[()])
    )""",
    re.VERBOSE,
)


def _tokens(rule: str) -> list[tuple[str, str]]:
    """(kind, value) pairs; a state function becomes ("ALARM", alarm name)."""
    tokens, position = [], 0
    while position < len(rule.rstrip()):
        match = _RULE_TOKEN.match(rule, position)
        if match is None:
            raise RuleSyntaxError(f"unsupported syntax at {rule[position : position + 30]!r}")
        if match.group("state"):
            target = match.group("quoted") or match.group("bare")
            # A rule may name an alarm by ARN: arn:aws:cloudwatch:REGION:ACCOUNT:alarm:NAME
            tokens.append((match.group("state"), target.split(":alarm:", 1)[-1]))
        else:
            word = match.group("word") or match.group("paren")
            tokens.append((word, word))
        position = match.end()
    return tokens


def evaluate_rule(rule: str, states: Mapping[str, str]) -> bool:
    """Evaluate a composite alarm rule (state functions, TRUE/FALSE, NOT > AND > OR,
    parentheses) on alarm states; an alarm not in `states` counts as INSUFFICIENT_DATA."""
    tokens = _tokens(rule)
    position = 0

    def peek() -> str | None:
        return tokens[position][0] if position < len(tokens) else None

    def take() -> tuple[str, str]:
        nonlocal position
        if position >= len(tokens):
            raise RuleSyntaxError("the rule ends too early")
        position += 1
        return tokens[position - 1]

    def either() -> bool:
        value = both()
        while peek() == "OR":
            take()
            value = both() or value
        return value

    def both() -> bool:
        value = single()
        while peek() == "AND":
            take()
            value = single() and value
        return value

    def single() -> bool:
        kind, value = take()
        if kind == "NOT":
            return not single()
        if kind == "(":
            inner = either()
            if take()[0] != ")":
                raise RuleSyntaxError("unbalanced parentheses")
            return inner
        if kind in ("TRUE", "FALSE"):
            return kind == "TRUE"
        if kind in ("ALARM", "OK", "INSUFFICIENT_DATA"):
            return states.get(value, "INSUFFICIENT_DATA") == kind
        raise RuleSyntaxError(f"unexpected {kind!r}")

    if not tokens:
        raise RuleSyntaxError("the rule is empty")
    result = either()
    if position != len(tokens):
        raise RuleSyntaxError(f"unexpected {tokens[position][0]!r}")
    return result
