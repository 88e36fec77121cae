"""`phase-mirror verify-pitr` and `verify-alarms` on GCP: compare what Google describes with the
stack's spec (adapters/gcp/spec.py, which the Pulumi program renders too).

verify-pitr reads the Firestore database through the Firestore Admin API
(`pointInTimeRecoveryEnablement`). verify-alarms lists the project's Cloud Monitoring alert
policies (display names from the spec, the same the platform creates), checks each
exists once, is enabled, notifies a channel and watches what the catalog says (ratios over the
spec's denominator), that the "system health" policy combines every condition, and that none has
an open alert (the Monitoring v3 `projects.alerts` REST method, which the Python client library
does not wrap).

Emulators: the Firestore emulator has no Admin API (it answers UNIMPLEMENTED) and Cloud
Monitoring has no emulator at all, so on emulator endpoints (`*_endpoint=http://...`) these
facts come back NOT_REPORTED and nothing is sent to Google. There is no
`--simulate` on GCP: Cloud Monitoring has no call that sets a policy's state.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from datetime import UTC
from typing import Any

from google.api_core import exceptions as gx
from google.auth.credentials import Credentials

from ..errors import Unsupported
from ..operations import Check
from .clients import CALL_TIMEOUT, GcpClients
from .errors import mapped
from .settings import GcpSettings
from .spec import AlertPolicy, CombinedPolicy, gcp_stack
from .url import SERVICES

MONITORING_URL = "https://monitoring.googleapis.com/v3"
PULUMI = "run `pulumi up` on the gcp stack (it creates and configures this)"
NO_SIMULATE = (
    "--simulate is not available on gcp: Cloud Monitoring has no call that sets an alert "
    "policy's state (CloudWatch's SetAlarmState has no equivalent). Run verify-alarms without "
    "it; to drill an alert, write log entries its log-based metric counts "
    "(docs/runbooks/alarms.md)"
)


class GcpVerifier:
    def __init__(self, clients: GcpClients) -> None:
        self._clients = clients
        self._settings = clients.settings

    # ------------------------------------------------------------------ verify-pitr

    def verify_pitr(self) -> list[Check]:
        """One check: the Firestore database has point-in-time recovery enabled."""
        s = self._settings
        path = database_path(s)
        name = f"pitr {path}"
        with mapped("firestore"):  # resolving credentials may fail: a clear error, no traceback
            admin = self._clients.firestore_admin()
        try:
            with mapped("firestore"):
                try:
                    database = admin.get_database(
                        name=path, retry=self._clients.reads, timeout=CALL_TIMEOUT
                    )
                except gx.MethodNotImplemented:
                    if not s.emulated("firestore"):
                        raise
                    endpoint = s.endpoint("firestore")
                    return [
                        Check.unreported(
                            name,
                            "the Firestore emulator at "
                            f"{endpoint.url if endpoint else 'its endpoint'} has no Admin API "
                            "(GetDatabase is UNIMPLEMENTED), so it cannot say whether "
                            "point-in-time recovery is on; Google Cloud reports it",
                        )
                    ]
                except gx.NotFound:
                    return [Check.failed(name, "the database does not exist", PULUMI)]
        finally:
            admin.transport.close()
        return [pitr_check(name, database, s)]

    # ------------------------------------------------------------------ verify-alarms

    def verify_alarms(self, simulate: bool = False, timeout: float = 120.0) -> list[Check]:
        if simulate:
            raise Unsupported(NO_SIMULATE)
        s = self._settings
        stack = gcp_stack(s.prefix, s.database)
        expected, health = stack.policies, stack.system_health
        emulated = [f"{service}_endpoint" for service in SERVICES if s.emulated(service)]
        if emulated:
            reason = (
                "Cloud Monitoring has no emulator and this backend's endpoints are emulators "
                f"({', '.join(emulated)}), so nothing was asked of Google; on Google Cloud "
                "`pulumi up` creates this policy"
            )
            names = [policy_check_name(a) for a in expected] + [policy_check_name(health)]
            return [Check.unreported(name, reason) for name in names]
        credentials = self._credentials()
        policies = self._policies(credentials)
        firing = self._open_alerts(credentials)
        checks = [policy_check(a, policies.get(a.name, []), firing) for a in expected]
        singles = [policies[a.name][0] for a in expected if len(policies.get(a.name, [])) == 1]
        checks.append(
            system_health_check(health, policies.get(health.name, []), singles, expected, firing)
        )
        return checks

    def _credentials(self) -> Credentials:
        # No service of this backend is emulated here, so these are the application-default
        # credentials, resolved once per driver.
        with mapped("alerts"):
            return self._clients.credentials("firestore")

    def _policies(self, credentials: Credentials) -> dict[str, list[Any]]:
        """The project's alert policies by display name."""
        from google.cloud import monitoring_v3

        client = monitoring_v3.AlertPolicyServiceClient(
            credentials=credentials, transport=self._settings.transport
        )
        found: dict[str, list[Any]] = defaultdict(list)
        try:
            with mapped("alerts"):
                pager = client.list_alert_policies(
                    name=f"projects/{self._settings.project}",
                    retry=self._clients.reads,
                    timeout=CALL_TIMEOUT,
                )
                for policy in pager:
                    found[policy.display_name].append(policy)
        finally:
            client.transport.close()  # type: ignore[no-untyped-call]
        return found

    def _open_alerts(self, credentials: Credentials) -> dict[str, str]:
        """Policy resource name -> open time of its open alerts (`projects.alerts.list`)."""
        from google.auth.transport.requests import AuthorizedSession

        url = f"{MONITORING_URL}/projects/{self._settings.project}/alerts"
        params = {"filter": 'state = "OPEN"', "pageSize": "1000"}
        firing: dict[str, str] = {}
        session = AuthorizedSession(credentials)  # type: ignore[no-untyped-call]
        try:
            with mapped("alerts"):
                while True:
                    response = session.get(url, params=params, timeout=CALL_TIMEOUT)
                    if response.status_code != 200:
                        raise gx.from_http_response(response)  # type: ignore[no-untyped-call]
                    body = response.json()
                    firing.update(open_alerts(body.get("alerts", [])))
                    if not body.get("nextPageToken"):
                        return firing
                    params["pageToken"] = body["nextPageToken"]
        finally:
            session.close()  # type: ignore[no-untyped-call]


# ---------------------------------------------------------------------- pure checks


def database_path(s: GcpSettings) -> str:
    return f"projects/{s.project}/databases/{s.database}"


def pitr_check(name: str, database: Any, s: GcpSettings) -> Check:
    """The verdict on a `firestore_admin_v1.Database`."""
    from google.cloud.firestore_admin_v1.types import Database

    enablement = database.point_in_time_recovery_enablement
    if enablement != Database.PointInTimeRecoveryEnablement.POINT_IN_TIME_RECOVERY_ENABLED:
        return Check.failed(
            name,
            f"point-in-time recovery is {enablement.name}",
            f"gcloud firestore databases update --database='{s.database}' --enable-pitr "
            f"--project={s.project}, or {PULUMI}",
        )
    detail = "point-in-time recovery enabled"
    retention = database.version_retention_period
    if retention:
        detail += f"; versions kept {retention.days} days"
    earliest = database.earliest_version_time
    if earliest:
        detail += f", restorable from {earliest.astimezone(UTC):%Y-%m-%dT%H:%M:%SZ}"
    return Check.passed(name, detail)


def open_alerts(alerts: Iterable[Mapping[str, Any]]) -> dict[str, str]:
    """Policy resource name -> open time, for the alerts (REST JSON) that are open."""
    return {
        alert["policy"]["name"]: str(alert.get("openTime", "?"))
        for alert in alerts
        if alert.get("state") == "OPEN" and alert.get("policy", {}).get("name")
    }


def policy_check_name(alert: AlertPolicy | CombinedPolicy) -> str:
    return f"alert policy {alert.name!r}"


def _presence(alert: AlertPolicy | CombinedPolicy, found: list[Any]) -> Check | None:
    """A failing check if the policy is missing or ambiguous, else None."""
    name = policy_check_name(alert)
    if not found:
        return Check.failed(name, "missing", PULUMI)
    if len(found) > 1:
        return Check.failed(
            name,
            f"{len(found)} policies share this display name: "
            + ", ".join(policy.name for policy in found),
            "delete the stray copies (gcloud monitoring policies delete NAME) and run `pulumi up`",
        )
    return None


def _health_problems(policy: Any, firing: Mapping[str, str]) -> list[str]:
    problems = []
    if policy.name in firing:
        problems.append(f"an alert is open since {firing[policy.name]}")
    if policy.enabled is False:  # unset means enabled
        problems.append("the policy is disabled")
    if not policy.notification_channels:
        problems.append("it has no notification channel: nobody is notified")
    return problems


def policy_check(alert: AlertPolicy, found: list[Any], firing: Mapping[str, str]) -> Check:
    """The verdict on one single-condition policy (`monitoring_v3.AlertPolicy` objects)."""
    missing = _presence(alert, found)
    if missing is not None:
        return missing
    policy = found[0]
    problems = _health_problems(policy, firing)
    wanted = alert.watches
    watching = [
        c.condition_threshold for c in policy.conditions if wanted in c.condition_threshold.filter
    ]
    denominator = alert.condition.denominator_filter
    if not watching:
        problems.append(f"no condition watches {wanted}")
    elif denominator is not None and not any(t.denominator_filter == denominator for t in watching):
        # A ratio over anything else (or no ratio) fires at another level than the catalog's.
        problems.append(f"its ratio is not over {denominator}")
    if problems:
        fix = "see docs/runbooks/alarms.md" if policy.name in firing else PULUMI
        return Check.failed(policy_check_name(alert), "; ".join(problems), fix)
    return Check.passed(
        policy_check_name(alert),
        f"enabled, no open alert, watches {wanted}, notifies "
        f"{len(policy.notification_channels)} channel(s)",
    )


def system_health_check(
    health: CombinedPolicy,
    found: list[Any],
    singles: list[Any],
    expected: Iterable[AlertPolicy],
    firing: Mapping[str, str],
) -> Check:
    """The combined policy must hold the condition of every single-condition policy."""
    missing = _presence(health, found)
    if missing is not None:
        return missing
    policy = found[0]
    problems = _health_problems(policy, firing)
    combined = {c.condition_threshold.filter for c in policy.conditions}
    uncovered = [
        single.display_name
        for single in singles
        if not {c.condition_threshold.filter for c in single.conditions} <= combined
    ]
    if uncovered:
        problems.append(f"does not combine the conditions of {', '.join(uncovered)}")
    if str(policy.combiner.name) != health.combiner:
        problems.append(
            f"combines its conditions with {policy.combiner.name}, not {health.combiner}"
        )
    if problems:
        return Check.failed(policy_check_name(health), "; ".join(problems), PULUMI)
    return Check.passed(
        policy_check_name(health),
        f"enabled, no open alert, combines all {len(list(expected))} conditions with "
        f"{health.combiner}",
    )
