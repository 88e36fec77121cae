"""The AWS compute under Pulumi's mocks: the functions, their roles and log groups, the HTTP API
and the schedule exist on both stacks with the properties docs/platform.md promises, and every
grant is read back from the IAM documents the program declares."""

from __future__ import annotations

import base64
import hashlib
import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from phase_platform.config import ConfigError, parse_config
from phase_platform.testing import ProgramRun, RegisteredResource

from adapters.aws.spec import aws_stack, scheduler_cron
from adapters.catalog import LOG_RETENTION_DAYS, SCHEDULE_INPUT, WORKLOADS, Workload

from .conftest import as_list, policy, statements

FUNCTION = "aws:lambda/function:Function"
LOG_GROUP = "aws:cloudwatch/logGroup:LogGroup"
ROLE_POLICY = "aws:iam/rolePolicy:RolePolicy"
ROLE = "aws:iam/role:Role"


def _by_name(run: ProgramRun, type_: str, prop: str = "name") -> dict[str, RegisteredResource]:
    return {r.inputs[prop]: r for r in run.of_type(type_)}


def _arn(run: ProgramRun, type_: str, name: str, prop: str = "name") -> str:
    return str(_by_name(run, type_, prop)[name].outputs["arn"])


def _key_arn(run: ProgramRun) -> str:
    return str(run.outputs["keyArn"])


def test_functions_are_built_from_the_spec_and_the_config(aws_run: ProgramRun) -> None:
    stack = aws_stack(aws_run.outputs["prefix"])
    functions = _by_name(aws_run, FUNCTION)
    assert set(functions) == {f.name for f in stack.compute.functions}
    reserved = {
        Workload.API: int(aws_run.config["phase-mirror:apiReservedConcurrency"]),
        Workload.ANONYMIZER: 1,
    }
    roles = _by_name(aws_run, ROLE)
    for spec in stack.compute.functions:
        inputs = functions[spec.name].inputs
        assert (inputs["handler"], inputs["runtime"], inputs["architectures"]) == (
            spec.handler,
            "python3.13",
            ["arm64"],
        )
        assert inputs["timeout"] == spec.workload.timeout_seconds
        assert inputs["memorySize"] == spec.workload.memory_mb
        assert inputs["tracingConfig"] == {"mode": "Active"}
        assert inputs["kmsKeyArn"] == _key_arn(aws_run)
        assert inputs["reservedConcurrentExecutions"] == reserved[spec.workload.workload]
        assert inputs["role"] == roles[spec.role].outputs["arn"]
        assert inputs["code"].path == "dist/phase-mirror-lambda.zip"
    assert functions[stack.compute.function(Workload.API).name].inputs["handler"] == (
        "service.runtime.lambda_http.handler"
    )


def test_the_environment_is_the_backend_url_and_nothing_secret(aws_run: ProgramRun) -> None:
    for function in aws_run.of_type(FUNCTION):
        variables = function.inputs["environment"]["variables"]
        assert variables == {"PHASE_MIRROR_BACKEND": aws_run.outputs["backendUrl"]}
        for name, value in variables.items():
            assert not re.search(r"SECRET|SALT|PASSWORD|TOKEN|API_KEY", name)
            assert not re.search(r"[0-9a-f]{32,}|mock-secret-value", value)
        assert function.secret_inputs == ()


def test_log_groups_are_encrypted_kept_and_exist_before_their_function(
    aws_run: ProgramRun,
) -> None:
    compute = aws_stack(aws_run.outputs["prefix"]).compute
    groups = _by_name(aws_run, LOG_GROUP)
    assert set(groups) == set(compute.log_groups)
    for group in groups.values():
        assert group.inputs["retentionInDays"] == LOG_RETENTION_DAYS
        assert group.inputs["kmsKeyId"] == _key_arn(aws_run)
    functions = _by_name(aws_run, FUNCTION)
    for spec in compute.functions:
        assert groups[spec.log_group].urn in functions[spec.name].dependencies
        assert spec.log_group == f"/aws/lambda/{spec.name}"


def _function_policy(run: ProgramRun, workload: Workload) -> dict[str, Any]:
    spec = aws_stack(run.outputs["prefix"]).compute.function(workload)
    (found,) = [
        p for p in run.of_type(ROLE_POLICY) if p.inputs["name"] == f"{spec.name}-least-privilege"
    ]
    assert found.inputs["role"] == spec.role
    return policy(found)


@pytest.mark.parametrize("workload", list(Workload))
def test_each_function_may_touch_exactly_what_its_catalog_entry_lists(
    aws_run: ProgramRun, workload: Workload
) -> None:
    prefix = aws_run.outputs["prefix"]
    spec = WORKLOADS[workload]
    grants = {s["Sid"]: s for s in statements(_function_policy(aws_run, workload))}
    tables = _by_name(aws_run, "aws:dynamodb/table:Table")
    assert sorted(grants["WorkloadTables"]["Resource"]) == sorted(
        tables[f"{prefix}-{store.value}"].outputs["arn"] for store in spec.stores
    )
    assert sorted(grants["WorkloadTables"]["Action"]) == [
        "dynamodb:DeleteItem",
        "dynamodb:GetItem",
        "dynamodb:PutItem",
        "dynamodb:Query",
        "dynamodb:Scan",
        "dynamodb:UpdateItem",
    ]
    # No listed store has an index today, so no index grant at all (never an empty one).
    assert "WorkloadIndexes" not in grants
    parameters = _by_name(aws_run, "aws:ssm/parameter:Parameter")
    assert grants["ReadSecrets"]["Resource"] == [
        parameters[f"/{prefix}/{secret.value}"].outputs["arn"] for secret in spec.secrets
    ]
    assert grants["ReadSecrets"]["Action"] == ["ssm:GetParameterHistory"]
    assert grants["EnvelopeKey"]["Resource"] == [_key_arn(aws_run)]
    assert grants["EnvelopeKey"]["Action"] == ["kms:Decrypt", "kms:GenerateDataKey"]
    log_arn = _arn(aws_run, LOG_GROUP, f"/aws/lambda/{spec.physical_name(prefix)}")
    assert grants["OwnLogGroup"]["Resource"] == [f"{log_arn}:*"]
    assert set(grants) == {"WorkloadTables", "ReadSecrets", "EnvelopeKey", "OwnLogGroup"}
    every_resource = [r for s in grants.values() for r in as_list(s["Resource"])]
    assert not any("fp-events" in r or "block-counter" in r for r in every_resource)
    assert not any("redaction-key" in r for r in every_resource)


def test_function_roles_trust_lambda_and_add_only_xray_writes(aws_run: ProgramRun) -> None:
    compute = aws_stack(aws_run.outputs["prefix"]).compute
    roles = _by_name(aws_run, ROLE)
    attachments = {
        (a.inputs["role"], a.inputs["policyArn"])
        for a in aws_run.of_type("aws:iam/rolePolicyAttachment:RolePolicyAttachment")
    }
    for spec in compute.functions:
        (trust,) = statements(policy(roles[spec.role], "assumeRolePolicy"))
        assert trust["Principal"] == {"Service": "lambda.amazonaws.com"}
        assert trust["Action"] == "sts:AssumeRole"
        attached = {arn for role, arn in attachments if role == spec.role}
        assert attached == {"arn:aws:iam::aws:policy/AWSXRayDaemonWriteAccess"}


def test_http_api_stage_route_and_invoke_permission(aws_run: ProgramRun) -> None:
    compute = aws_stack(aws_run.outputs["prefix"]).compute
    (api,) = aws_run.of_type("aws:apigatewayv2/api:Api")
    assert (api.inputs["name"], api.inputs["protocolType"]) == (compute.api.name, "HTTP")
    (stage,) = aws_run.of_type("aws:apigatewayv2/stage:Stage")
    assert stage.inputs["apiId"] == api.id
    assert (stage.inputs["name"], stage.inputs["autoDeploy"]) == ("$default", True)
    access = stage.inputs["accessLogSettings"]
    assert access["destinationArn"] == _arn(aws_run, LOG_GROUP, compute.api.access_log_group)
    assert set(json.loads(access["format"])) >= {"requestId", "status", "routeKey", "ip"}
    throttling = stage.inputs["defaultRouteSettings"]
    assert throttling["throttlingRateLimit"] == int(
        aws_run.config["phase-mirror:apiThrottleRateLimit"]
    )
    assert throttling["throttlingBurstLimit"] == int(
        aws_run.config["phase-mirror:apiThrottleBurstLimit"]
    )
    api_function = _by_name(aws_run, FUNCTION)[compute.api.function]
    (integration,) = aws_run.of_type("aws:apigatewayv2/integration:Integration")
    assert integration.inputs["integrationType"] == "AWS_PROXY"
    assert integration.inputs["payloadFormatVersion"] == "2.0"
    assert integration.inputs["integrationUri"] == api_function.outputs["invokeArn"]
    (route,) = aws_run.of_type("aws:apigatewayv2/route:Route")
    assert route.inputs["routeKey"] == "$default"
    # The shipped stacks say apiPublic: anyone may call the route (the app checks API keys).
    assert route.inputs["authorizationType"] == "NONE"
    assert aws_run.outputs["apiPublic"] is True
    assert route.inputs["target"] == f"integrations/{integration.id}"
    (permission,) = aws_run.of_type("aws:lambda/permission:Permission")
    assert permission.inputs["principal"] == "apigateway.amazonaws.com"
    assert permission.inputs["action"] == "lambda:InvokeFunction"
    assert permission.inputs["function"] == compute.api.function
    assert permission.inputs["sourceArn"] == f"{api.outputs['executionArn']}/*/*"
    assert aws_run.outputs["apiEndpoint"] == stage.outputs["invokeUrl"]
    assert aws_run.outputs["apiEndpoint"].startswith(f"https://{api.id}.execute-api.")


def test_the_schedule_runs_the_anonymizer_daily_with_retries_and_dead_letters(
    aws_run: ProgramRun,
) -> None:
    (spec,) = aws_stack(aws_run.outputs["prefix"]).compute.schedules
    (schedule,) = aws_run.of_type("aws:scheduler/schedule:Schedule")
    inputs = schedule.inputs
    assert (inputs["name"], inputs["groupName"]) == (spec.name, spec.group)
    assert inputs["scheduleExpression"] == "cron(17 3 * * ? *)"
    assert inputs["scheduleExpressionTimezone"] == "UTC"
    assert inputs["flexibleTimeWindow"] == {"mode": "OFF"}
    assert inputs["kmsKeyArn"] == _key_arn(aws_run)
    target = inputs["target"]
    assert target["arn"] == _arn(aws_run, FUNCTION, spec.function)
    assert json.loads(target["input"]) == SCHEDULE_INPUT
    assert target["retryPolicy"] == {"maximumRetryAttempts": 3, "maximumEventAgeInSeconds": 3600}
    (queue,) = aws_run.of_type("aws:sqs/queue:Queue")
    assert target["deadLetterConfig"] == {"arn": queue.outputs["arn"]}
    assert queue.inputs["kmsMasterKeyId"] == _key_arn(aws_run)
    role = _by_name(aws_run, ROLE)[spec.role]
    assert target["roleArn"] == role.outputs["arn"]
    (trust,) = statements(policy(role, "assumeRolePolicy"))
    assert trust["Principal"] == {"Service": "scheduler.amazonaws.com"}
    assert trust["Condition"] == {"StringEquals": {"aws:SourceAccount": "123456789012"}}
    (role_policy,) = [p for p in aws_run.of_type(ROLE_POLICY) if p.inputs["role"] == spec.role]
    grants = {s["Sid"]: (s["Action"], s["Resource"]) for s in statements(policy(role_policy))}
    assert grants == {
        "InvokeJob": (["lambda:InvokeFunction"], [target["arn"]]),
        "DeadLetter": (["sqs:SendMessage"], [queue.outputs["arn"]]),
        "EncryptedQueue": (["kms:Decrypt", "kms:GenerateDataKey"], [_key_arn(aws_run)]),
    }
    assert aws_run.outputs["scheduleName"] == spec.name
    assert aws_run.outputs["anonymizerFunctionName"] == spec.function


def test_the_key_policy_lets_the_compute_use_the_key(aws_run: ProgramRun) -> None:
    prefix = aws_run.outputs["prefix"]
    compute = aws_stack(prefix).compute
    (key,) = aws_run.of_type("aws:kms/key:Key")
    by_sid = {s["Sid"]: s for s in statements(policy(key))}
    roles = _by_name(aws_run, ROLE)
    assert sorted(by_sid["WorkloadFunctions"]["Principal"]["AWS"]) == sorted(
        roles[f.role].outputs["arn"] for f in compute.functions
    )
    logs = by_sid["CloudWatchLogsOfTheCompute"]
    assert logs["Principal"] == {"Service": "logs.us-east-1.amazonaws.com"}
    assert sorted(logs["Condition"]["ArnEquals"]["kms:EncryptionContext:aws:logs:arn"]) == sorted(
        _arn(aws_run, LOG_GROUP, name) for name in compute.log_groups
    )
    scheduler = by_sid["SchedulerExecutionRoles"]
    (schedule,) = aws_run.of_type("aws:scheduler/schedule:Schedule")
    assert scheduler["Condition"]["StringEquals"] == {
        "kms:EncryptionContext:aws:scheduler:schedule-arn": [schedule.outputs["arn"]]
    }
    services = by_sid["UseThroughAwsServices"]["Condition"]["StringEquals"]["kms:ViaService"]
    assert {"lambda.us-east-1.amazonaws.com", "sqs.us-east-1.amazonaws.com"} <= set(services)


def test_the_package_hash_is_lambdas_code_sha256_when_the_zip_exists(
    build: Callable[..., ProgramRun], tmp_path: Path
) -> None:
    package = tmp_path / "package.zip"
    package.write_bytes(b"not really a zip, but bytes to hash")
    expected = base64.b64encode(hashlib.sha256(package.read_bytes()).digest()).decode()
    built = build("aws", "staging", overrides={"lambdaPackage": str(package)})
    assert {f.inputs["codeSha256"] for f in built.of_type(FUNCTION)} == {expected}
    missing = build("aws", "staging", overrides={"lambdaPackage": str(tmp_path / "none.zip")})
    assert all("codeSha256" not in f.inputs for f in missing.of_type(FUNCTION))
    assert all(
        f.inputs["code"].path == str(tmp_path / "none.zip") for f in missing.of_type(FUNCTION)
    )


@pytest.mark.parametrize(
    ("changes", "named"),
    [
        ({"lambdaPackage": "dist/package.tar.gz"}, "lambdaPackage"),
        ({"apiReservedConcurrency": "0"}, "apiReservedConcurrency"),
        ({"apiThrottleRateLimit": "100", "apiThrottleBurstLimit": "50"}, "apiThrottleBurstLimit"),
    ],
)
def test_invalid_compute_settings_are_refused(changes: dict[str, str], named: str) -> None:
    raw = {
        "cloud": "aws",
        "environment": "staging",
        "githubRepository": "o/r",
        "alarmEmail": "a@example.com",
    }
    with pytest.raises(ConfigError, match=f"phase-mirror:{named} ="):
        parse_config(raw | changes)


def test_catalog_crons_become_eventbridge_crons() -> None:
    assert scheduler_cron("17 3 * * *") == "cron(17 3 * * ? *)"
    assert scheduler_cron("0 6 * * MON-FRI") == "cron(0 6 ? * MON-FRI *)"
    with pytest.raises(ValueError, match="weekdays"):
        scheduler_cron("0 6 * * 1")


def test_without_api_public_the_route_needs_iam_authorization(
    build: Callable[..., ProgramRun],
) -> None:
    run = build("aws", "staging", overrides={"apiPublic": False})
    (route,) = run.of_type("aws:apigatewayv2/route:Route")
    assert route.inputs["authorizationType"] == "AWS_IAM"
    assert run.outputs["apiPublic"] is False
