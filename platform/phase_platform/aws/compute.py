"""AWS compute: the service on Lambda behind an API Gateway HTTP API, and the daily anonymizer
run by EventBridge Scheduler. Every name and shape comes from the spec's `Compute` records
(adapters/aws/spec.py, built from the catalog's workloads).

- One function per workload, from the one zip `./dev package` builds (`lambdaPackage`): its
  log group (retention, stack key) exists before it, its environment (the backend URL, no
  secret: secrets are read at run time) is encrypted with the stack key, X-Ray tracing is
  active, concurrency is reserved from config.
- A least-privilege role per function: only the tables, indexes and parameters its catalog
  entry lists, the stack key, its own log group, X-Ray writes (AWS's managed policy: those
  actions have no resource-level permission). The shared service role of identity.py stays for
  other principals (a container, an operator's tools); the functions do not use it.
- The HTTP API: one `$default` route to the API function (the app routes and answers 404
  itself) on the auto-deployed `$default` stage with JSON access logs and default throttling.
  The route is public by design: the API authenticates every non-health request with its own
  API keys (service/api), so API Gateway adds no authorizer.
- The schedule: the catalog's cron in UTC, no flexible window, the catalog's `SCHEDULE_INPUT`,
  a retry policy and an encrypted dead-letter queue, with a role trusted by the scheduler of
  this account only that may invoke exactly the anonymizer.

`code_sha256` (Lambda's own hash format: base64 SHA-256 of the zip) is set when the package
exists where the program runs, so a rebuilt, different zip is a change and the same zip (the
build is reproducible) is not; when it is missing (a preview or the mocks without a build) it is
left unset and `pulumi up` fails reading the archive, naming the path: build first.
"""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import pulumi
import pulumi_aws as aws

from adapters.aws.spec import ApiIdOf, Function, HttpApi, Schedule, aws_stack
from adapters.catalog import Secret, Store, Workload

from ..naming import backend_url
from . import documents
from .scope import AwsScope, policy_json

LAMBDA_PRINCIPAL = "lambda.amazonaws.com"
API_GATEWAY_PRINCIPAL = "apigateway.amazonaws.com"
SCHEDULER_PRINCIPAL = "scheduler.amazonaws.com"
#: AWS's managed policy for X-Ray segment and telemetry writes.
XRAY_WRITE_POLICY = "AWSXRayDaemonWriteAccess"
#: Tag declaring what the config exposes to the Internet (phase_policy/compute.py reads it).
PUBLIC_TAG = "phase-mirror-public"
#: The environment variable the service reads its backend from (adapters/config.py).
BACKEND_ENV = "PHASE_MIRROR_BACKEND"
#: API Gateway's access log line: one JSON object per request ($context variables).
ACCESS_LOG_FORMAT = json.dumps(
    {
        "requestId": "$context.requestId",
        "ip": "$context.identity.sourceIp",
        "requestTime": "$context.requestTime",
        "httpMethod": "$context.httpMethod",
        "path": "$context.path",
        "routeKey": "$context.routeKey",
        "status": "$context.status",
        "protocol": "$context.protocol",
        "responseLength": "$context.responseLength",
        "responseLatency": "$context.responseLatency",
        "integrationLatency": "$context.integrationLatency",
        "integrationStatus": "$context.integrationStatus",
        "integrationError": "$context.integrationErrorMessage",
    },
    separators=(",", ":"),
)


@dataclass(frozen=True)
class ComputeRoles:
    """The roles alone (trust policies only): the key policy names them before any permission
    policy can name the key."""

    functions: dict[Workload, aws.iam.Role]
    schedules: dict[Workload, aws.iam.Role]


@dataclass(frozen=True)
class Compute:
    functions: dict[Workload, aws.lambda_.Function]
    api: aws.apigatewayv2.Api
    stage: aws.apigatewayv2.Stage
    schedules: dict[Workload, aws.scheduler.Schedule]
    #: The created API's id for the alarms' late-bound `ApiId` dimension.
    late_bound: dict[ApiIdOf, pulumi.Output[str]]


def roles(scope: AwsScope) -> ComputeRoles:
    spec = aws_stack(scope.prefix).compute
    functions = {
        function.workload.workload: aws.iam.Role(
            scope.child("function-role", function.workload.name),
            name=function.role,
            description=f"Phase Mirror {function.workload.name} function ({scope.config.environment})",
            # Lambda assumes execution roles without a source-account context: no condition.
            assume_role_policy=json.dumps(
                documents.service_trust_policy(service_principal=LAMBDA_PRINCIPAL, account_id=None)
            ),
            opts=scope.opts(),
        )
        for function in spec.functions
    }
    schedules = {
        schedule.workload.workload: aws.iam.Role(
            scope.child("schedule-role", schedule.workload.name),
            name=schedule.role,
            description=f"EventBridge Scheduler running {schedule.function}",
            assume_role_policy=json.dumps(
                documents.service_trust_policy(
                    service_principal=SCHEDULER_PRINCIPAL, account_id=scope.account_id
                )
            ),
            opts=scope.opts(),
        )
        for schedule in spec.schedules
    }
    return ComputeRoles(functions, schedules)


def key_grants(scope: AwsScope, compute_roles: ComputeRoles) -> dict[str, pulumi.Input[object]]:
    """The key policy's compute inputs: who may use the key, for which log groups and
    schedules (names known before anything is created)."""
    spec = aws_stack(scope.prefix).compute
    return {
        "function_role_arns": [role.arn for role in compute_roles.functions.values()],
        "log_group_names": list(spec.log_groups),
        "scheduler_role_arns": [role.arn for role in compute_roles.schedules.values()],
        "schedule_arns": [
            f"arn:{scope.partition}:scheduler:{scope.region}:{scope.account_id}:"
            f"schedule/{schedule.arn_path}"
            for schedule in spec.schedules
        ],
    }


def package_hash(path: Path) -> str | None:
    """Lambda's CodeSha256 of the zip (base64 SHA-256), or None when it is not built here."""
    if not path.is_file():
        return None
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return base64.b64encode(digest.digest()).decode("ascii")


def compute(
    scope: AwsScope,
    compute_roles: ComputeRoles,
    *,
    key: aws.kms.Key,
    tables: Mapping[Store, aws.dynamodb.Table],
    parameters: Mapping[Secret, aws.ssm.Parameter],
) -> Compute:
    spec = aws_stack(scope.prefix).compute
    package = Path(scope.config.lambda_package)
    code_sha256 = package_hash(package)
    reserved = {
        Workload.API: scope.config.api_reserved_concurrency,
        Workload.ANONYMIZER: scope.config.anonymizer_reserved_concurrency,
    }
    functions = {
        function.workload.workload: _function(
            scope,
            function,
            compute_roles.functions[function.workload.workload],
            key=key,
            tables=tables,
            parameters=parameters,
            package=package,
            code_sha256=code_sha256,
            reserved=reserved[function.workload.workload],
        )
        for function in spec.functions
    }
    api, stage = _http_api(scope, spec.api, functions[spec.api.workload.workload], key=key)
    groups = {
        name: aws.scheduler.ScheduleGroup(
            scope.child("schedule-group"), name=name, opts=scope.opts()
        )
        for name in {schedule.group for schedule in spec.schedules}
    }
    schedules = {
        schedule.workload.workload: _schedule(
            scope,
            schedule,
            compute_roles.schedules[schedule.workload.workload],
            functions[schedule.workload.workload],
            groups[schedule.group],
            key=key,
        )
        for schedule in spec.schedules
    }
    return Compute(functions, api, stage, schedules, {ApiIdOf(spec.api.name): api.id})


def _log_group(
    scope: AwsScope, logical: str, name: str, retention_days: int, key: aws.kms.Key
) -> aws.cloudwatch.LogGroup:
    return aws.cloudwatch.LogGroup(
        scope.child("logs", logical),
        name=name,
        retention_in_days=retention_days,
        kms_key_id=key.arn,
        opts=scope.opts(),
    )


def _function(
    scope: AwsScope,
    function: Function,
    role: aws.iam.Role,
    *,
    key: aws.kms.Key,
    tables: Mapping[Store, aws.dynamodb.Table],
    parameters: Mapping[Secret, aws.ssm.Parameter],
    package: Path,
    code_sha256: str | None,
    reserved: int,
) -> aws.lambda_.Function:
    workload = function.workload
    logs = _log_group(scope, workload.name, function.log_group, function.log_retention_days, key)
    table_arns = [tables[table.store.store].arn for table in function.tables]
    index_arns = [
        pulumi.Output.concat(tables[table.store.store].arn, "/index/", index.name)
        for table in function.tables
        for index in table.indexes
    ]
    permissions = aws.iam.RolePolicy(
        scope.child("function-role", workload.name, "policy"),
        name=f"{function.name}-least-privilege",
        role=role.id,
        policy=policy_json(
            documents.function_policy,
            table_arns=table_arns,
            index_arns=index_arns,
            parameter_arns=[parameters[p.secret].arn for p in function.parameters],
            key_arns=[key.arn] if workload.uses_key else [],
            log_group_arn=logs.arn,
        ),
        opts=scope.opts(),
    )
    tracing = aws.iam.RolePolicyAttachment(
        scope.child("function-role", workload.name, "xray"),
        role=role.name,
        policy_arn=f"arn:{scope.partition}:iam::aws:policy/{XRAY_WRITE_POLICY}",
        opts=scope.opts(),
    )
    return aws.lambda_.Function(
        scope.child("function", workload.name),
        name=function.name,
        description=workload.description,
        role=role.arn,
        runtime=function.runtime,
        architectures=[function.architecture],
        handler=function.handler,
        timeout=function.timeout_seconds,
        memory_size=function.memory_mb,
        code=pulumi.FileArchive(str(package)),
        code_sha256=code_sha256,
        package_type="Zip",
        # The backend URL only: secrets are read from SSM at run time, never from here.
        environment={"variables": {BACKEND_ENV: backend_url(scope.config)}},
        kms_key_arn=key.arn,
        tracing_config={"mode": "Active"},
        reserved_concurrent_executions=reserved,
        # The log group exists (encrypted, with retention) before Lambda could create its own;
        # the role can read what the function needs before its first invocation.
        opts=scope.opts(depends_on=[logs, permissions, tracing]),
    )


def _http_api(
    scope: AwsScope, spec: HttpApi, function: aws.lambda_.Function, *, key: aws.kms.Key
) -> tuple[aws.apigatewayv2.Api, aws.apigatewayv2.Stage]:
    api = aws.apigatewayv2.Api(
        scope.child("http-api"),
        name=spec.name,
        description=spec.workload.description,
        protocol_type=spec.protocol,
        # Declares the exposure the config chose, where the policy pack can see it (PM-AWS-034
        # refuses a route without an authorizer on an API that does not declare it).
        tags={PUBLIC_TAG: "routes"} if scope.config.api_public else None,
        opts=scope.opts(),
    )
    integration = aws.apigatewayv2.Integration(
        scope.child("http-api", "integration"),
        api_id=api.id,
        integration_type="AWS_PROXY",
        integration_method="POST",
        integration_uri=function.invoke_arn,
        payload_format_version=spec.payload_format_version,
        opts=scope.opts(),
    )
    aws.apigatewayv2.Route(
        scope.child("http-api", "route"),
        api_id=api.id,
        route_key=spec.route_key,
        # Public only when configured (the app still checks its API keys); otherwise a caller
        # needs AWS credentials allowed to execute-api:Invoke this API (SigV4).
        authorization_type="NONE" if scope.config.api_public else "AWS_IAM",
        target=pulumi.Output.concat("integrations/", integration.id),
        opts=scope.opts(),
    )
    access_logs = _log_group(
        scope, "http-api-access", spec.access_log_group, spec.log_retention_days, key
    )
    stage = aws.apigatewayv2.Stage(
        scope.child("http-api", "stage"),
        api_id=api.id,
        name=spec.stage,
        auto_deploy=True,
        access_log_settings={"destination_arn": access_logs.arn, "format": ACCESS_LOG_FORMAT},
        default_route_settings={
            "throttling_rate_limit": scope.config.api_throttle_rate_limit,
            "throttling_burst_limit": scope.config.api_throttle_burst_limit,
        },
        opts=scope.opts(),
    )
    aws.lambda_.Permission(
        scope.child("http-api", "invoke"),
        action="lambda:InvokeFunction",
        function=function.name,
        principal=API_GATEWAY_PRINCIPAL,
        # Any stage and route of this one API, and nothing else.
        source_arn=pulumi.Output.concat(api.execution_arn, "/*/*"),
        opts=scope.opts(),
    )
    return api, stage


def _schedule(
    scope: AwsScope,
    spec: Schedule,
    role: aws.iam.Role,
    function: aws.lambda_.Function,
    group: aws.scheduler.ScheduleGroup,
    *,
    key: aws.kms.Key,
) -> aws.scheduler.Schedule:
    name = spec.workload.name
    queue = aws.sqs.Queue(
        scope.child("dead-letters", name),
        name=spec.dead_letter_queue,
        kms_master_key_id=key.arn,
        message_retention_seconds=spec.dead_letter_retention_seconds,
        opts=scope.opts(),
    )
    permissions = aws.iam.RolePolicy(
        scope.child("schedule-role", name, "policy"),
        name=f"{spec.name}-invoke",
        role=role.id,
        policy=policy_json(
            documents.scheduler_policy,
            function_arn=function.arn,
            queue_arn=queue.arn,
            key_arn=key.arn,
        ),
        opts=scope.opts(),
    )
    return aws.scheduler.Schedule(
        scope.child("schedule", name),
        name=spec.name,
        group_name=group.name,
        description=spec.workload.description,
        schedule_expression=spec.expression,
        schedule_expression_timezone=spec.timezone,
        flexible_time_window={"mode": "OFF"},
        kms_key_arn=key.arn,
        state="ENABLED",
        target={
            "arn": function.arn,
            "role_arn": role.arn,
            "input": json.dumps(spec.input, sort_keys=True),
            "retry_policy": {
                "maximum_retry_attempts": spec.retry_attempts,
                "maximum_event_age_in_seconds": spec.max_event_age_seconds,
            },
            "dead_letter_config": {"arn": queue.arn},
        },
        opts=scope.opts(depends_on=[permissions]),
    )
