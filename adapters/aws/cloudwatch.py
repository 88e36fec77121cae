"""CloudWatch reads shared by bootstrap, verify-alarms and the drill, the wording of what an
alarm describes (who it notifies, since when it fires), and the resolution of late-bound alarm
dimensions (the HTTP API's id, looked up by name)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import Any

from ..operations import Check
from .errors import Resource, mapped
from .session import AwsTarget, Clients
from .spec import ApiIdOf, MetricAlarm

#: The fix for a missing alarm.
ALARM_FIX = (
    "run 'pulumi up' for the stack (it creates every alarm the catalog names), or "
    "'phase-mirror bootstrap' on an emulator or a dev account"
)


def describe_alarms(clients: Clients, target: AwsTarget, names: list[str]) -> dict[str, Any]:
    """The named alarms that exist, metric and composite alike, by name."""
    found: dict[str, Any] = {}
    pages = clients.generic("cloudwatch").get_paginator("describe_alarms")
    with mapped(target, Resource("CloudWatch alarms", f"{target.prefix}-*", "alarms")):
        # Without AlarmTypes, AWS lists metric alarms only.
        for page in pages.paginate(AlarmNames=names, AlarmTypes=["MetricAlarm", "CompositeAlarm"]):
            for alarm in [*page.get("MetricAlarms", []), *page.get("CompositeAlarms", [])]:
                found[alarm["AlarmName"]] = alarm
    return found


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


def api_ids(
    clients: Clients, target: AwsTarget, alarms: Iterable[MetricAlarm]
) -> dict[ApiIdOf, str]:
    """The ids of the HTTP APIs the alarms watch, for those that exist (`GetApis`, by name)."""
    wanted = {value for alarm in alarms for value in alarm.late_bound}
    if not wanted:
        return {}
    found: dict[ApiIdOf, str] = {}
    names = ", ".join(sorted(v.api_name for v in wanted))
    pages = clients.generic("apigatewayv2").get_paginator("get_apis")
    with mapped(target, Resource("API Gateway HTTP API", names, "alarms")):
        for page in pages.paginate():
            for api in page.get("Items", []):
                if (key := ApiIdOf(str(api.get("Name")))) in wanted:
                    found[key] = str(api["ApiId"])
    return found


def unresolved_api(
    target: AwsTarget, name: str, alarm: MetricAlarm, ids: Mapping[ApiIdOf, str], doing: str
) -> Check | None:
    """The check for an alarm whose HTTP API does not exist (None when it does): not reported on
    an emulator (nothing deploys the API there), a failure against AWS itself."""
    missing = [value.api_name for value in alarm.late_bound if value not in ids]
    if not missing:
        return None
    apis = ", ".join(missing)
    if target.endpoint:
        return Check.unreported(
            name,
            f"{target.endpoint} has no HTTP API {apis} (only 'pulumi up' deploys it), so "
            f"there is no API id to {doing} the alarm with",
        )
    return Check.failed(
        name,
        f"the HTTP API {apis} this alarm watches does not exist in {target.where()}",
        "run 'pulumi up' for the stack (it deploys the API and the alarms on it)",
    )
