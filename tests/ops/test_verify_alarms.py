"""`phase-mirror verify-alarms [--simulate]`: every alarm / alert policy exists and is quiet.

aws runs end to end on the moto server: `bootstrap` creates the alarm topic and the catalog's
metric alarms there; moto 5 has no composite alarms (PutCompositeAlarm is a server error), so
the composite is pinned as "not reported by this endpoint" and the drill evaluates its rule
locally. The composite verdict on AWS-shaped data and the rule evaluator are tested directly.
gcp has no Cloud Monitoring emulator: the tests pin the emulator answer, the error paths, and
the verdicts on real `monitoring_v3.AlertPolicy` messages. The alarm names come from one place,
the catalog, which the Pulumi program also reads (checked here on its mocked outputs).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from google.cloud import monitoring_v3
from phase_platform.testing import run_stack

from adapters.aws.alarm_rules import RuleSyntaxError, evaluate_rule
from adapters.aws.cloudwatch import unresolved_api
from adapters.aws.driver import AwsDriver
from adapters.aws.session import AwsTarget
from adapters.aws.spec import (
    ApiIdOf,
    aws_alarms,
    aws_stack,
    aws_system_health_alarm,
    aws_system_health_rule,
)
from adapters.aws.verify import AwsVerifier
from adapters.catalog import METRICS, WORKLOADS, AlarmKind, durable_stores
from adapters.clock import SystemClock
from adapters.config import parse_backend_url
from adapters.gcp.spec import gcp_alert_policies, gcp_system_health_policy, log_metric_name
from adapters.gcp.verify import open_alerts, policy_check, system_health_check
from adapters.operations import NOT_REPORTED, CheckStatus
from service.cli.common import EXIT_CONFIG, EXIT_FAIL, EXIT_OK, EXIT_USAGE
from service.cli.main import main
from tests.support.aws_backend import aws_url, fresh_prefix
from tests.support.emulators import Emulator
from tests.support.gcp_backend import GcpEmulators


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def by_status(report: dict[str, Any], status: str) -> list[dict[str, Any]]:
    return [c for c in report["checks"] if c["status"] == status]


# ---------------------------------------------------------------------------- one source of names


def test_alarm_names_derive_from_durable_stores_and_metrics() -> None:
    alarms = aws_alarms("pm-stack")
    # Throttles per durable table and operation, one per service metric, then the compute's:
    # the API's 5xx and p99 latency, errors / throttles / p99 duration per function, and
    # failures per scheduled job.
    compute = 2 + 3 * len(WORKLOADS) + sum(1 for w in WORKLOADS.values() if w.schedule)
    assert len(alarms) == 2 * len(durable_stores()) + len(METRICS) + compute == 21
    assert len({a.name for a in alarms}) == len(alarms)
    assert {
        "pm-stack-fp-events-read-throttles",
        "pm-stack-circuit-breaker-triggers",
        "pm-stack-api-5xx",
        "pm-stack-api-latency-p99",
        "pm-stack-api-errors",
        "pm-stack-anonymizer-duration-p99",
        "pm-stack-anonymizer-failures",
    } <= {a.name for a in alarms}
    assert aws_system_health_alarm("pm-stack").name == "pm-stack-system-health"
    assert {a.name for a in gcp_alert_policies("pm-stack")} == {
        "pm-stack circuit-breaker-triggers",
        "pm-stack secret-store-failures",
        "pm-stack firestore-throttles",
        "pm-stack api-5xx",
        "pm-stack api-latency-p99",
        "pm-stack api-throttles",
        "pm-stack api-duration-p99",
        "pm-stack anonymizer-failures",
    }
    assert gcp_system_health_policy("pm-stack").name == "pm-stack system-health"


@pytest.mark.parametrize("cloud", ["aws", "gcp"])
def test_the_pulumi_program_creates_exactly_the_catalog_alarms(cloud: str) -> None:
    stack = run_stack(cloud, "production")
    prefix = stack.outputs["prefix"]
    if cloud == "aws":
        assert stack.outputs["alarmNames"] == [a.name for a in aws_alarms(prefix)]
        assert stack.outputs["systemHealthAlarmName"] == aws_system_health_alarm(prefix).name
        (composite,) = stack.of_type("aws:cloudwatch/compositeAlarm:CompositeAlarm")
        assert composite.inputs["alarmRule"] == aws_system_health_rule(prefix)
    else:
        expected = [*gcp_alert_policies(prefix), gcp_system_health_policy(prefix)]
        assert stack.outputs["alertPolicyNames"] == [a.name for a in expected]
        policies = stack.of_type("gcp:monitoring/alertPolicy:AlertPolicy")
        assert {p.inputs["displayName"] for p in policies} == {a.name for a in expected}


def test_local_backend_has_nothing_to_verify(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = run(capsys, "--backend", f"local://{tmp_path}", "verify-alarms", "--simulate")
    assert code == EXIT_OK and "nothing to verify" in out and "no alarms" in out


def test_help(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as done:
        main(["verify-alarms", "--help"])
    out = capsys.readouterr().out
    assert done.value.code == 0
    for text in ("--simulate", "--timeout", "--json", "--stack", "composite", "alarms.md"):
        assert text in out


def test_a_bad_timeout_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as done:
        main(["verify-alarms", "--simulate", "--timeout", "soon"])
    assert done.value.code == EXIT_USAGE
    assert "'soon' is not a number of seconds" in capsys.readouterr().err


# ---------------------------------------------------------------------------- composite rules

STATES = {"a": "OK", "b": "ALARM", "c": "INSUFFICIENT_DATA"}


@pytest.mark.parametrize(
    ("rule", "fires"),
    [
        ('ALARM("a") OR ALARM("b")', True),
        ('ALARM("a") AND ALARM("b")', False),
        ("ALARM(b) AND NOT ALARM(a)", True),
        ('(ALARM("a") OR OK("a")) AND INSUFFICIENT_DATA("c")', True),
        ('ALARM("a") OR ALARM("b") AND FALSE', False),  # AND binds tighter than OR
        ('NOT (ALARM("a") OR ALARM("b"))', False),
        ('ALARM("arn:aws:cloudwatch:us-east-1:123456789012:alarm:b")', True),
        ('ALARM("unknown")', False),  # an alarm the states do not know is INSUFFICIENT_DATA
        ("TRUE", True),
    ],
)
def test_evaluate_rule(rule: str, fires: bool) -> None:
    assert evaluate_rule(rule, STATES) is fires


@pytest.mark.parametrize(
    "rule",
    ["", 'ALARM("a") OR', '(ALARM("a")', 'ALARM("a") ALARM("b")', 'AT_LEAST(1, ALARM, ("a"))'],
)
def test_unreadable_rules_are_reported(rule: str) -> None:
    with pytest.raises(RuleSyntaxError):
        evaluate_rule(rule, STATES)


def test_the_catalog_rule_fires_for_each_alarm_alone() -> None:
    names = [a.name for a in aws_alarms("pm-stack")]
    rule = aws_system_health_rule("pm-stack")
    assert not evaluate_rule(rule, dict.fromkeys(names, "OK"))
    for name in names:
        assert evaluate_rule(rule, dict.fromkeys(names, "OK") | {name: "ALARM"})


def _ops(url: str) -> AwsVerifier:
    driver = AwsDriver(parse_backend_url(url), SystemClock())  # no request is made
    return AwsVerifier(driver.clients, driver.target)


def _composite(prefix: str, **changes: Any) -> dict[str, Any]:
    """A composite alarm as DescribeAlarms returns it on AWS."""
    return {
        "AlarmName": f"{prefix}-system-health",
        "AlarmRule": aws_system_health_rule(prefix),
        "StateValue": "OK",
        "ActionsEnabled": True,
        "AlarmActions": [f"arn:aws:sns:us-east-1:123456789012:{prefix}-alarms"],
        **changes,
    }


def test_composite_verdicts_on_aws_shaped_data() -> None:
    prefix = "pm-real"
    ops = _ops(f"aws://?region=us-east-1&prefix={prefix}")  # AWS itself: no endpoint
    expected = aws_alarms(prefix)
    health = aws_system_health_alarm(prefix)
    good = ops.composite_check(health, _composite(prefix), expected)
    assert good.ok and f"any of the {len(expected)} alarms" in good.detail
    assert "pm-real-alarms" in good.detail
    narrowed = " OR ".join(f'ALARM("{a.name}")' for a in expected[1:])
    deaf = ops.composite_check(health, _composite(prefix, AlarmRule=narrowed), expected)
    assert not deaf.ok and f"does not fire when only {expected[0].name}" in deaf.detail
    anded = ops.composite_check(
        health, _composite(prefix, AlarmRule=narrowed.replace(" OR ", " AND ")), expected
    )
    assert not anded.ok and "does not fire" in anded.detail
    firing = ops.composite_check(health, _composite(prefix, StateValue="ALARM"), expected)
    assert not firing.ok and firing.detail.startswith("in ALARM")
    silent = ops.composite_check(health, _composite(prefix, ActionsEnabled=False), expected)
    assert not silent.ok and "nobody is notified" in silent.detail
    # On AWS a missing composite is a failure, never "not reported".
    missing = ops.composite_check(health, None, expected)
    assert not missing.ok and "missing in region us-east-1" in missing.detail
    assert "pulumi up" in missing.fix


# ---------------------------------------------------------------------------- aws end to end (moto)


@pytest.fixture
def stack(moto_server: Emulator, capsys: pytest.CaptureFixture[str]) -> str:
    """A stack bootstrapped by the CLI on moto (tables, key, secrets, bucket, alarms)."""
    url = aws_url(moto_server.endpoint, fresh_prefix())
    code, out, _ = run(capsys, "--backend", url, "bootstrap", "--json")
    assert code == EXIT_OK, out
    return url


def _driver(url: str) -> AwsDriver:
    return AwsDriver(parse_backend_url(url), SystemClock())


@pytest.mark.aws
def test_bootstrap_creates_the_alarms_and_says_why_not_the_composite(
    moto_server: Emulator, capsys: pytest.CaptureFixture[str]
) -> None:
    url = aws_url(moto_server.endpoint, fresh_prefix())
    code, out, _ = run(capsys, "--backend", url, "bootstrap", "--json")
    steps = {c["name"]: c for c in json.loads(out)["checks"]}
    prefix = parse_backend_url(url).prefix
    assert code == EXIT_OK
    assert steps[f"topic {prefix}-alarms"]["detail"].startswith("created")
    for alarm in aws_alarms(prefix):
        if alarm.late_bound:
            # Nothing deploys the HTTP API on moto: no id for the API's alarms to watch.
            step = steps[f"alarm {alarm.name}"]
            assert step["ok"] and step["detail"].startswith(NOT_REPORTED)
            assert f"no HTTP API {prefix}-api" in step["detail"]
            continue
        assert steps[f"alarm {alarm.name}"] == {
            "name": f"alarm {alarm.name}",
            "ok": True,
            "detail": "created",
            "fix": "",
        }
    composite = steps[f"composite alarm {prefix}-system-health"]
    assert composite["ok"] and composite["detail"].startswith("skipped")
    assert "PutCompositeAlarm" in composite["detail"]
    driver = _driver(url)
    try:
        described = driver.clients.generic("cloudwatch").describe_alarms(
            AlarmNamePrefix=f"{prefix}-"
        )["MetricAlarms"]
    finally:
        driver.close()
    topic = f"arn:aws:sns:us-east-1:123456789012:{prefix}-alarms"
    assert {a["AlarmName"] for a in described} == {
        a.name for a in aws_alarms(prefix) if not a.late_bound
    }
    assert all(a["AlarmActions"] == [topic] and a["OKActions"] == [topic] for a in described)


@pytest.mark.aws
def test_verify_alarms_on_a_bootstrapped_stack(
    stack: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run(capsys, "--backend", stack, "verify-alarms", "--json")
    report = json.loads(out)
    assert code == EXIT_OK, err
    prefix = parse_backend_url(stack).prefix
    alarms = aws_alarms(prefix)
    assert len(by_status(report, "ok")) == len([a for a in alarms if not a.late_bound]) == 19
    *api_alarms, composite = by_status(report, "not-reported")
    assert (
        composite["detail"].startswith(NOT_REPORTED) and "PutCompositeAlarm" in composite["detail"]
    )
    assert {c["name"] for c in api_alarms} == {f"alarm {a.name}" for a in alarms if a.late_bound}
    assert all(f"no HTTP API {prefix}-api" in c["detail"] for c in api_alarms)
    assert report["ok"] is True and report["verified"] is False
    code, out, _ = run(capsys, "--backend", stack, "verify-alarms")
    assert code == EXIT_OK
    # 21 alarms: the 2 on the HTTP API cannot be resolved on moto (no API deployed there).
    assert "19 verified, 0 failed, 3 not reported by this endpoint (an emulator)" in out


@pytest.mark.aws
def test_simulate_drills_one_alarm_and_restores_it(
    stack: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run(capsys, "--backend", stack, "verify-alarms", "--simulate", "--json")
    report = json.loads(out)
    assert code == EXIT_OK, err
    drill = {c["name"]: c for c in report["checks"] if c["name"].startswith("simulate")}
    prefix = parse_backend_url(stack).prefix
    subject = aws_alarms(prefix)[0].name
    assert drill[f"simulate: {subject} set to ALARM"]["status"] == "ok"
    local = drill["simulate: system-health rule, evaluated locally"]
    assert local["status"] == "ok" and "the catalog's rule" in local["detail"]
    reacts = drill[f"simulate: {prefix}-system-health reacts"]
    assert (
        reacts["status"] == "not-reported"
        and "no composite rule is ever evaluated" in reacts["detail"]
    )
    assert drill[f"simulate: {subject} back to OK"]["status"] == "ok"
    driver = _driver(stack)
    try:
        (alarm,) = driver.clients.generic("cloudwatch").describe_alarms(AlarmNames=[subject])[
            "MetricAlarms"
        ]
    finally:
        driver.close()
    assert alarm["StateValue"] == "OK" and "drill" in alarm["StateReason"]


@pytest.mark.aws
def test_broken_alarms_fail_with_what_and_how_to_fix(
    stack: str, capsys: pytest.CaptureFixture[str]
) -> None:
    prefix = parse_backend_url(stack).prefix
    firing, silenced, drifted, deleted = (a.name for a in aws_alarms(prefix)[-4:])
    driver = _driver(stack)
    try:
        cloudwatch = driver.clients.generic("cloudwatch")
        cloudwatch.set_alarm_state(
            AlarmName=firing, StateValue="ALARM", StateReason="Threshold Crossed: 12 > 10"
        )
        cloudwatch.disable_alarm_actions(AlarmNames=[silenced])
        (described,) = cloudwatch.describe_alarms(AlarmNames=[drifted])["MetricAlarms"]
        cloudwatch.put_metric_alarm(
            AlarmName=drifted,
            Metrics=described["Metrics"],
            EvaluationPeriods=1,
            Threshold=99,
            ComparisonOperator="GreaterThanThreshold",
            AlarmActions=described["AlarmActions"],
        )
        cloudwatch.delete_alarms(AlarmNames=[deleted])
    finally:
        driver.close()
    code, out, _ = run(capsys, "--backend", stack, "verify-alarms", "--simulate", "--json")
    report = json.loads(out)
    assert code == EXIT_FAIL and report["ok"] is False
    failed = {c["name"]: c for c in by_status(report, "failed")}
    assert set(failed) == {f"alarm {n}" for n in (firing, silenced, drifted, deleted)} | {
        "simulate"
    }
    assert failed[f"alarm {firing}"]["detail"].startswith("in ALARM since ")
    assert "Threshold Crossed: 12 > 10" in failed[f"alarm {firing}"]["detail"]
    assert "docs/runbooks/alarms.md" in failed[f"alarm {firing}"]["fix"]
    assert "nobody is notified" in failed[f"alarm {silenced}"]["detail"]
    assert f"enable-alarm-actions --alarm-names {silenced}" in failed[f"alarm {silenced}"]["fix"]
    assert "threshold 99.0, the catalog says" in failed[f"alarm {drifted}"]["detail"]
    assert failed[f"alarm {deleted}"]["detail"].startswith("missing in region us-east-1")
    # No drill while an alarm already fires: it could not show anything.
    assert f"not run: {firing} already in ALARM" in failed["simulate"]["detail"]
    code, out, _ = run(capsys, "--backend", stack, "verify-alarms")
    assert "[FAIL]" in out and "fix:" in out and "4 failed" in out


@pytest.mark.aws
def test_a_stack_without_alarms(moto_server: Emulator, capsys: pytest.CaptureFixture[str]) -> None:
    url = aws_url(moto_server.endpoint, fresh_prefix())
    code, out, _ = run(capsys, "--backend", url, "verify-alarms", "--json")
    report = json.loads(out)
    assert code == EXIT_FAIL
    alarms = aws_alarms(parse_backend_url(url).prefix)
    assert len(by_status(report, "failed")) == len([a for a in alarms if not a.late_bound])
    assert all("pulumi up" in c["fix"] for c in by_status(report, "failed"))


def test_a_missing_http_api_is_a_failure_on_aws_and_unreported_on_an_emulator() -> None:
    stack = aws_stack("pm-stack")
    (alarm, *_) = (a for a in stack.alarms if a.late_bound)
    target = AwsTarget("pm-stack", "us-east-1", None, None, "alias/pm-stack", "b", "test", "aws://")
    on_aws = unresolved_api(target, "alarm x", alarm, {}, "compare")
    assert on_aws is not None and on_aws.status is CheckStatus.FAILED
    assert "pm-stack-api" in on_aws.detail and "pulumi up" in on_aws.fix
    emulator = AwsTarget(
        "pm-stack", "us-east-1", "http://127.0.0.1:1", None, "alias/pm-stack", "b", "test", "aws://"
    )
    unreported = unresolved_api(emulator, "alarm x", alarm, {}, "compare")
    assert unreported is not None and unreported.status is CheckStatus.NOT_REPORTED
    resolved = {ApiIdOf(stack.compute.api.name): "a1b2c3d4e5"}
    assert unresolved_api(target, "alarm x", alarm, resolved, "compare") is None
    assert alarm.bound(resolved).concrete_dimensions()["ApiId"] == "a1b2c3d4e5"


# ---------------------------------------------------------------------------- gcp


@pytest.mark.gcp
def test_gcp_emulator_lists_every_policy_as_not_reported(
    gcp_emulators: GcpEmulators, capsys: pytest.CaptureFixture[str]
) -> None:
    url = gcp_emulators.url("pmalarms")
    code, out, _ = run(capsys, "--backend", url, "verify-alarms", "--json")
    report = json.loads(out)
    assert code == EXIT_OK and report["ok"] is True and report["verified"] is False
    expected = [*gcp_alert_policies("pmalarms"), gcp_system_health_policy("pmalarms")]
    assert [c["name"] for c in report["checks"]] == [f"alert policy {a.name!r}" for a in expected]
    for check in report["checks"]:
        assert check["status"] == "not-reported"
        assert "Cloud Monitoring has no emulator" in check["detail"]
        assert "firestore_endpoint" in check["detail"]


@pytest.mark.gcp
def test_gcp_simulate_is_refused_with_the_reason(
    gcp_emulators: GcpEmulators, capsys: pytest.CaptureFixture[str]
) -> None:
    url = gcp_emulators.url("pmalarms")
    code, out, err = run(capsys, "--backend", url, "verify-alarms", "--simulate")
    assert code == EXIT_USAGE and out == ""
    assert "no call that sets an alert policy's state" in err and "Traceback" not in err


def test_gcp_without_credentials_is_exit_78_and_sends_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("GOOGLE_APPLICATION_CREDENTIALS", str(tmp_path / "absent.json"))
    code, out, err = run(capsys, "--backend", "gcp://my-project-1?prefix=pmx", "verify-alarms")
    assert code == EXIT_CONFIG
    assert out == "" and "no Google credentials" in err and "Traceback" not in err


def _policy(name: str, condition_filter: str, **changes: Any) -> monitoring_v3.AlertPolicy:
    fields: dict[str, Any] = {
        "name": f"projects/my-project-1/alertPolicies/{name.replace(' ', '-')}",
        "display_name": name,
        "combiner": monitoring_v3.AlertPolicy.ConditionCombinerType.OR,
        "conditions": [{"display_name": "c", "condition_threshold": {"filter": condition_filter}}],
        "notification_channels": ["projects/my-project-1/notificationChannels/1"],
        **changes,
    }
    return monitoring_v3.AlertPolicy(**fields)


def _stack_policies() -> tuple[list[monitoring_v3.AlertPolicy], monitoring_v3.AlertPolicy]:
    """Policies shaped like the ones `pulumi up` creates for prefix/database pmx."""
    singles = []
    for alert in gcp_alert_policies("pmx"):
        denominator = alert.condition.denominator_filter
        if alert.kind is AlarmKind.METRIC and alert.metric is not None:
            metric = log_metric_name(alert.metric, "pmx")
            flt = f'metric.type="logging.googleapis.com/user/{metric}"'
        elif alert.kind is AlarmKind.THROTTLE:
            flt = 'metric.type="firestore.googleapis.com/api/request_count" AND resource.labels.database_id="pmx"'
        else:  # the compute's: Cloud Run metrics of the service or the job
            flt = alert.condition.filter
        threshold = {"filter": flt, "denominator_filter": denominator or ""}
        singles.append(_policy(alert.name, flt, conditions=[{"condition_threshold": threshold}]))
    conditions = [c for single in singles for c in single.conditions]
    health = _policy(gcp_system_health_policy("pmx").name, "", conditions=conditions)
    return singles, health


def test_gcp_verdicts_on_the_policies_the_platform_creates() -> None:
    singles, health = _stack_policies()
    expected = gcp_alert_policies("pmx")
    for alert, policy in zip(expected, singles, strict=True):
        check = policy_check(alert, [policy], {})
        assert check.ok and "enabled, no open alert" in check.detail, check
    combined = system_health_check(gcp_system_health_policy("pmx"), [health], singles, expected, {})
    assert combined.ok and f"combines all {len(expected)} conditions with OR" in combined.detail


def test_gcp_verdicts_on_broken_policies() -> None:
    singles, health = _stack_policies()
    alert, policy = gcp_alert_policies("pmx")[0], singles[0]
    missing = policy_check(alert, [], {})
    assert not missing.ok and missing.detail == "missing" and "pulumi up" in missing.fix
    twice = policy_check(alert, [policy, policy], {})
    assert not twice.ok and "2 policies share this display name" in twice.detail
    firing = policy_check(alert, [policy], {policy.name: "2026-05-01T10:00:00Z"})
    assert not firing.ok and "an alert is open since 2026-05-01T10:00:00Z" in firing.detail
    assert "docs/runbooks/alarms.md" in firing.fix
    disabled = policy_check(alert, [_policy(alert.name, "x", enabled=False)], {})
    assert not disabled.ok and "the policy is disabled" in disabled.detail
    assert "no condition watches" in disabled.detail
    mute = _policy(policy.display_name, singles[0].conditions[0].condition_threshold.filter)
    mute.notification_channels.clear()
    silent = policy_check(alert, [mute], {})
    assert not silent.ok and "nobody is notified" in silent.detail
    (throttle,) = [a for a in gcp_alert_policies("pmx") if a.kind is AlarmKind.THROTTLE]
    elsewhere = _policy(throttle.name, 'resource.labels.database_id="(default)"')
    wrong = policy_check(throttle, [elsewhere], {})
    assert not wrong.ok and 'no condition watches database_id="pmx"' in wrong.detail
    (ratio,) = [a for a in gcp_alert_policies("pmx") if a.condition.denominator_filter]
    not_a_ratio = policy_check(ratio, [_policy(ratio.name, ratio.condition.filter)], {})
    assert not not_a_ratio.ok
    assert f"its ratio is not over {ratio.condition.denominator_filter}" in not_a_ratio.detail
    partial = _policy(health.display_name, "", conditions=list(health.conditions)[:2])
    uncovered = system_health_check(
        gcp_system_health_policy("pmx"), [partial], singles, gcp_alert_policies("pmx"), {}
    )
    assert (
        not uncovered.ok
        and f"does not combine the conditions of {singles[2].display_name}" in uncovered.detail
    )


def test_open_alerts_from_the_rest_json() -> None:
    alerts = [
        {
            "state": "OPEN",
            "openTime": "2026-05-01T10:00:00Z",
            "policy": {"name": "projects/p/alertPolicies/1"},
        },
        {
            "state": "CLOSED",
            "openTime": "2026-04-01T10:00:00Z",
            "policy": {"name": "projects/p/alertPolicies/2"},
        },
        {"state": "OPEN", "policy": {}},
    ]
    assert open_alerts(alerts) == {"projects/p/alertPolicies/1": "2026-05-01T10:00:00Z"}
