"""`phase-mirror verify-alarms --simulate` on AWS: force one metric alarm to ALARM
(`SetAlarmState`), check that the system-health composite follows within a timeout, and set
the alarm back to OK.

The composite's rule is also evaluated locally on the states the endpoint reports, so on moto
(no composite alarms, no rule evaluation) the drill still proves the rule would fire; there
the composite's own reaction is NOT_REPORTED. Against AWS itself those gaps are failures.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any

from ..operations import Check
from .alarm_rules import RuleSyntaxError, evaluate_rule
from .alarms import MOTO_COMPOSITES
from .cloudwatch import ALARM_FIX, actions, describe_alarms
from .errors import Resource, mapped
from .session import AwsTarget, Clients
from .spec import CompositeAlarm, MetricAlarm

DRILL_REASON = "phase-mirror verify-alarms --simulate: drill, not an incident"
#: Seconds between two looks at the composite while waiting for it to react.
POLL_SECONDS = 5.0


class AlarmDrill:
    def __init__(self, clients: Clients, target: AwsTarget) -> None:
        self._clients = clients
        self._target = target

    def _states(self, names: list[str]) -> dict[str, str]:
        described = describe_alarms(self._clients, self._target, names)
        return {name: str(alarm.get("StateValue", "")) for name, alarm in described.items()}

    def _set_state(self, alarm: MetricAlarm, state: str, reason: str) -> None:
        with mapped(self._target, Resource("CloudWatch alarm", alarm.name, "alarms")):
            self._clients.generic("cloudwatch").set_alarm_state(
                AlarmName=alarm.name, StateValue=state, StateReason=reason
            )

    def run(
        self,
        expected: tuple[MetricAlarm, ...],
        health: CompositeAlarm,
        found: Mapping[str, dict[str, Any]],
        timeout: float,
    ) -> list[Check]:
        firing = [a.name for a in expected if found.get(a.name, {}).get("StateValue") == "ALARM"]
        missing = [alarm.name for alarm in expected if alarm.name not in found]
        if firing or missing:
            reasons = [f"{', '.join(firing)} already in ALARM"] if firing else []
            reasons += [f"{', '.join(missing)} missing"] if missing else []
            return [
                Check.failed(
                    "simulate",
                    f"not run: {'; '.join(reasons)}; a drill needs every alarm present and quiet",
                    "fix the failures above, then run --simulate again",
                )
            ]
        subject = expected[0]  # any alarm would do; the first is stable across runs
        composite = found.get(health.name)
        self._set_state(subject, "ALARM", DRILL_REASON)
        try:
            checks = self._during(expected, subject, health, composite, timeout)
        finally:
            self._set_state(subject, "OK", f"{DRILL_REASON} (over)")
        after = self._states([subject.name]).get(subject.name)
        checks.append(
            Check.verdict(
                f"simulate: {subject.name} back to OK",
                after == "OK",
                f"set to OK, now {after}"
                + ("" if composite is None else "; the composite follows at its next evaluation"),
                f"aws cloudwatch set-alarm-state --alarm-name {subject.name} --state-value OK "
                "--state-reason 'drill over' (its next evaluation resets it too)",
            )
        )
        return checks

    def _during(
        self,
        expected: tuple[MetricAlarm, ...],
        subject: MetricAlarm,
        health: CompositeAlarm,
        composite: dict[str, Any] | None,
        timeout: float,
    ) -> list[Check]:
        states = self._states([a.name for a in expected])
        checks = [
            Check.verdict(
                f"simulate: {subject.name} set to ALARM",
                states.get(subject.name) == "ALARM",
                f"SetAlarmState accepted; the alarm reports {states.get(subject.name)}",
                "the endpoint ignored SetAlarmState; check cloudwatch:SetAlarmState permission",
            )
        ]
        rule = str(composite["AlarmRule"]) if composite else health.rule
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
            Check.verdict(
                "simulate: system-health rule, evaluated locally",
                fires,
                detail,
                f"the rule must name {subject.name}: 'pulumi up' restores it",
            )
        )
        checks.append(self._reaction(subject, health, composite, timeout))
        return checks

    def _reaction(
        self,
        subject: MetricAlarm,
        health: CompositeAlarm,
        composite: dict[str, Any] | None,
        timeout: float,
    ) -> Check:
        name = f"simulate: {health.name} reacts"
        if composite is None:
            if self._target.endpoint:
                return Check.unreported(
                    name, f"{MOTO_COMPOSITES}; the rule was evaluated locally instead"
                )
            return Check.failed(name, "there is no composite alarm to react", ALARM_FIX)
        started = time.monotonic()
        while True:
            state = self._states([health.name]).get(health.name)
            elapsed = time.monotonic() - started
            if state == "ALARM":
                return Check.passed(
                    name,
                    f"went to ALARM {elapsed:.0f} s after {subject.name} did; its actions "
                    f"notified {actions(composite)}",
                )
            if elapsed >= timeout:
                break
            time.sleep(min(POLL_SECONDS, max(timeout - elapsed, 0.0)))
        if self._target.endpoint:
            return Check.unreported(
                name,
                f"the composite stayed {state} for {timeout:g} s; emulators such as moto do "
                "not evaluate composite rules (the rule was evaluated locally)",
            )
        return Check.failed(
            name,
            f"stayed {state} for {timeout:g} s after {subject.name} went to ALARM",
            "check the composite's rule and that its actions are enabled; raise --timeout if "
            "CloudWatch is slow to evaluate",
        )
