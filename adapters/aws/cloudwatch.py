"""CloudWatch reads shared by bootstrap, verify-alarms and the drill, and the wording of what an
alarm describes (who it notifies, since when it fires)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from .errors import Resource, mapped
from .session import AwsTarget, Clients

#: The fix for a missing alarm.
ALARM_FIX = (
    "run 'pulumi up' for the stack (it creates every alarm the catalog names), or "
    "'phase-mirror bootstrap' on an emulator or a dev account"
)


def describe_alarms(clients: Clients, target: AwsTarget, names: list[str]) -> dict[str, Any]:
    """The named alarms that exist, metric and composite alike, by name."""
    found: dict[str, Any] = {}
    # Without AlarmTypes, AWS lists metric alarms only.
    request: dict[str, Any] = {"AlarmNames": names, "AlarmTypes": ["MetricAlarm", "CompositeAlarm"]}
    with mapped(target, Resource("CloudWatch alarms", f"{target.prefix}-*", "alarms")):
        while True:
            page = clients.generic("cloudwatch").describe_alarms(**request)
            for alarm in [*page.get("MetricAlarms", []), *page.get("CompositeAlarms", [])]:
                found[alarm["AlarmName"]] = alarm
            if not page.get("NextToken"):
                return found
            request["NextToken"] = page["NextToken"]


def silence(described: Mapping[str, Any]) -> list[str]:
    """Why nobody would be notified, if so."""
    if not described.get("ActionsEnabled", False):
        return ["its actions are disabled: nobody is notified"]
    if not described.get("AlarmActions"):
        return ["it has no alarm action: nobody is notified"]
    return []


def firing(described: Mapping[str, Any]) -> str:
    since = described.get("StateUpdatedTimestamp")
    when = f" since {utc(since)}" if since else ""
    return f"in ALARM{when}: {described.get('StateReason', '')}".rstrip(": ")


def utc(moment: datetime) -> str:
    """botocore returns local-time datetimes for some services: print them in UTC."""
    return f"{moment.astimezone(UTC):%Y-%m-%dT%H:%M:%SZ}"


def actions(described: Mapping[str, Any]) -> str:
    return ", ".join(arn.rsplit(":", 1)[-1] for arn in described.get("AlarmActions", []))
