"""AWS compute rules: Lambda, the API Gateway HTTP API, CloudWatch log groups, EventBridge
Scheduler, ECR."""

from __future__ import annotations

from datetime import date

from pulumi_policy import ReportViolation, ResourceValidationArgs, Severity, StackValidationArgs

from ..compute import declared_facets, env_pairs, secret_problem, shared_identities
from ..links import owner
from ..props import MISSING, UNKNOWN, present, read, value
from .aws import is_aws_managed_key
from .base import of_type, resource_rule, stack_rule

FUNCTION = "aws:lambda/function:Function"
PERMISSION = "aws:lambda/permission:Permission"
API = "aws:apigatewayv2/api:Api"
STAGE = "aws:apigatewayv2/stage:Stage"
ROUTE = "aws:apigatewayv2/route:Route"
LOG_GROUP = "aws:cloudwatch/logGroup:LogGroup"
SCHEDULE = "aws:scheduler/schedule:Schedule"
ECR_REPOSITORY = "aws:ecr/repository:Repository"
AUTHORIZED = ("AWS_IAM", "JWT", "CUSTOM")

#: Lambda's deprecation dates (AWS "Lambda runtimes" table: after this day a runtime gets no
#: security patches; creating and then updating functions is blocked a few weeks later).
#: Recorded 2026-12-06; a runtime absent from the table counts as supported.
RUNTIME_DEPRECATION: dict[str, date] = {
    **dict.fromkeys(
        (
            "nodejs",
            "nodejs4.3",
            "nodejs4.3-edge",
            "nodejs6.10",
            "nodejs8.10",
            "nodejs10.x",
            "dotnetcore1.0",
            "dotnetcore2.0",
            "dotnetcore2.1",
            "python2.7",
            "python3.6",
            "ruby2.5",
        ),
        date(2022, 7, 18),
    ),
    "nodejs12.x": date(2023, 3, 31),
    "dotnetcore3.1": date(2023, 4, 3),
    "dotnet5.0": date(2022, 5, 10),
    "python3.7": date(2023, 12, 4),
    "nodejs14.x": date(2023, 12, 4),
    "ruby2.7": date(2023, 12, 7),
    "java8": date(2024, 1, 8),
    "go1.x": date(2024, 1, 8),
    "provided": date(2024, 1, 8),
    "dotnet7": date(2024, 5, 14),
    "nodejs16.x": date(2024, 6, 12),
    "python3.8": date(2024, 10, 14),
    "dotnet6": date(2024, 12, 20),
    "nodejs18.x": date(2025, 9, 1),
    "python3.9": date(2025, 12, 15),
    "ruby3.2": date(2026, 3, 31),
    "nodejs20.x": date(2026, 4, 30),
    # Amazon Linux 2 reaches its end of support: every AL2-based runtime goes with it.
    "python3.10": date(2026, 6, 30),
    "python3.11": date(2026, 6, 30),
    "java8.al2": date(2026, 6, 30),
    "java11": date(2026, 6, 30),
    "java17": date(2026, 6, 30),
    "provided.al2": date(2026, 6, 30),
    "dotnet8": date(2026, 11, 10),
}
#: Runtimes AWS supports (for the message's suggestion).
SUGGESTED_RUNTIME = "python3.13"


def _customer_key(key: object) -> bool:
    """Set and not AWS-managed (PM-AWS-003's notion); unknown at preview counts as set."""
    return key is UNKNOWN or (isinstance(key, str) and bool(key) and not is_aws_managed_key(key))


# ----------------------------------------------------------------------------- Lambda


@resource_rule(
    id="PM-AWS-026",
    title="lambda-tracing",
    description="Lambda functions trace with X-Ray: `tracing_config.mode` is Active.",
    severity=Severity.LOW,
    remediation="Set `tracing_config={'mode': 'Active'}` and let the function's role write X-Ray segments (AWS's managed AWSXRayDaemonWriteAccess: X-Ray actions have no resource-level permission).",
    cloud="aws",
    types=[FUNCTION],
    checkov=["CKV_AWS_50"],
    trivy=["AVD-AWS-0066"],
    one_cloud_reason="Cloud Run sends a trace of every request to Cloud Trace by itself; there is no per-service switch a stack could leave off.",
)
def lambda_tracing(args: ResourceValidationArgs, report: ReportViolation) -> None:
    mode = value(args.props, "tracingConfig", "mode")
    if mode != "Active":
        report(f"X-Ray tracing is {mode or 'not configured'} (PassThrough traces nothing)", None)


@resource_rule(
    id="PM-AWS-027",
    title="lambda-reserved-concurrency",
    description="Lambda functions reserve (and so cap) their concurrency: `reserved_concurrent_executions` is at least 1.",
    severity=Severity.MEDIUM,
    remediation="Set `reserved_concurrent_executions` from the stack config (`apiReservedConcurrency`, `anonymizerReservedConcurrency`): one function can then neither starve the others nor scale the load on the tables without bound.",
    cloud="aws",
    types=[FUNCTION],
    checkov=["CKV_AWS_115"],
    twin="PM-GCP-025",
)
def lambda_reserved_concurrency(args: ResourceValidationArgs, report: ReportViolation) -> None:
    reserved = value(args.props, "reservedConcurrentExecutions")
    if reserved is None or (isinstance(reserved, int | float) and reserved < 0):
        report("no reserved concurrency: the function may take the account's whole pool", None)
    elif reserved == 0:
        report("reserved concurrency is 0: every invocation is throttled", None)


@resource_rule(
    id="PM-AWS-028",
    title="lambda-env-cmk",
    description="Lambda functions with environment variables encrypt them with a customer-managed KMS key (`kms_key_arn`).",
    severity=Severity.MEDIUM,
    remediation="Set `kms_key_arn=key.arn` (the stack key) on every function with an `environment`, and let the function's role decrypt with it.",
    cloud="aws",
    types=[FUNCTION],
    checkov=["CKV_AWS_173"],
    twin="PM-GCP-023",
)
def lambda_env_cmk(args: ResourceValidationArgs, report: ReportViolation) -> None:
    if not present(args.props, "environment", "variables"):
        args.not_applicable("the function has no environment variables")
    key = read(args.props, "kmsKeyArn")
    if not _customer_key(key):
        which = "AWS's managed key" if key is not MISSING else "the Lambda service key"
        report(f"environment variables are encrypted with {which}", None)


@resource_rule(
    id="PM-AWS-029",
    title="lambda-env-no-secrets",
    description="No Lambda environment variable holds a secret: no credential-shaped value (access key, private key, token, password in a URL) and no literal value under a secret-looking name (…SECRET, …PASSWORD, …TOKEN, …API_KEY, …SALT); names ending _ARN/_NAME/_ID/_PATH and ARN or path values are references and pass.",
    severity=Severity.HIGH,
    remediation="Keep secrets in SSM SecureString parameters (or Secrets Manager) and read them at run time; pass only their names or ARNs in the environment, as the platform does with the backend URL.",
    cloud="aws",
    types=[FUNCTION],
    checkov=["CKV_AWS_45"],
    twin="PM-GCP-026",
)
def lambda_env_no_secrets(args: ResourceValidationArgs, report: ReportViolation) -> None:
    for name, literal in env_pairs(read(args.props, "environment", "variables")):
        problem = secret_problem(name, literal)
        if problem:
            report(
                f"{problem} in the environment (readable by anyone who can read the function)", None
            )


@resource_rule(
    id="PM-AWS-030",
    title="lambda-runtime-supported",
    description="Lambda functions use a runtime AWS has not deprecated (the pack's table of AWS's deprecation dates, compared with today's date); container-image functions have no managed runtime and pass.",
    severity=Severity.HIGH,
    remediation=f"Move the function to a supported runtime (e.g. `{SUGGESTED_RUNTIME}`), rebuilding the package for it; after the deprecation date AWS stops patching the runtime and soon blocks creating, then updating, such functions.",
    cloud="aws",
    types=[FUNCTION],
    checkov=["CKV_AWS_363"],
    one_cloud_reason="Cloud Run runs the project's own image (pinned by digest, PM-GCP-024); Google manages no language runtime there that could be deprecated under it.",
)
def lambda_runtime_supported(args: ResourceValidationArgs, report: ReportViolation) -> None:
    if value(args.props, "packageType") == "Image":
        args.not_applicable("a container image function has no managed runtime")
    runtime = value(args.props, "runtime")
    deprecated = RUNTIME_DEPRECATION.get(runtime) if isinstance(runtime, str) else None
    if deprecated is not None and deprecated <= date.today():
        report(f"runtime {runtime} is deprecated since {deprecated.isoformat()}", None)


@resource_rule(
    id="PM-AWS-031",
    title="lambda-permission-scoped",
    description="Lambda invoke permissions name a principal other than `*`, and one granted to an AWS service principal is bound to the calling resource by `source_arn`; function URLs require IAM auth.",
    severity=Severity.HIGH,
    remediation="Grant `lambda:InvokeFunction` to the service principal with `source_arn` = the one resource that calls (e.g. the HTTP API's `execution_arn` + '/*/*'), never to '*'; set `function_url_auth_type='AWS_IAM'`.",
    cloud="aws",
    types=[PERMISSION],
    checkov=["CKV_AWS_364", "CKV_AWS_301"],
    trivy=["AVD-AWS-0067"],
    twin="PM-GCP-021",
)
def lambda_permission_scoped(args: ResourceValidationArgs, report: ReportViolation) -> None:
    principal = value(args.props, "principal")
    if principal == "*":
        report("anyone may invoke the function (principal '*')", None)
    elif (
        isinstance(principal, str)
        and principal.endswith(".amazonaws.com")
        and not present(args.props, "sourceArn")
    ):
        report(
            f"{principal} may invoke the function on behalf of any resource (no source_arn)", None
        )
    if value(args.props, "functionUrlAuthType") == "NONE":
        report("the function URL takes unauthenticated calls (auth type NONE)", None)


@stack_rule(
    id="PM-AWS-042",
    title="lambda-dedicated-roles",
    description="No two Lambda functions share an execution role: each workload has its own identity and rights.",
    severity=Severity.MEDIUM,
    remediation="Create one role per function with exactly its catalog workload's permissions (phase_platform's `{prefix}-<workload>-function` roles), never a shared service role.",
    cloud="aws",
    types=[FUNCTION],
    twin="PM-GCP-029",
)
def lambda_dedicated_roles(args: StackValidationArgs, report: ReportViolation) -> None:
    for function, role, first in shared_identities(
        of_type(args.resources, FUNCTION), lambda f: read(f.props, "role")
    ):
        report(f"{function.name} runs as {role}, like {first}", function.urn)


# ---------------------------------------------------------------------- HTTP API


@resource_rule(
    id="PM-AWS-032",
    title="http-api-access-logs",
    description="API Gateway v2 stages write access logs: `access_log_settings` with a destination log group and a format.",
    severity=Severity.MEDIUM,
    remediation="Set `access_log_settings={'destination_arn': log_group.arn, 'format': <JSON of $context variables>}` on the stage, to a log group with retention and the stack key.",
    cloud="aws",
    types=[STAGE],
    checkov=["CKV_AWS_95", "CKV_AWS_76"],
    trivy=["AVD-AWS-0001"],
    one_cloud_reason="Cloud Run writes a request log entry for every request to Cloud Logging by itself; no resource of the stack can turn it off.",
)
def http_api_access_logs(args: ResourceValidationArgs, report: ReportViolation) -> None:
    if not present(args.props, "accessLogSettings", "destinationArn"):
        report("the stage writes no access log", None)
    elif not present(args.props, "accessLogSettings", "format"):
        report("the stage's access log has no format", None)


@resource_rule(
    id="PM-AWS-033",
    title="http-api-throttling",
    description="API Gateway v2 stages throttle their default route: `default_route_settings` sets a rate and a burst limit above 0.",
    severity=Severity.MEDIUM,
    remediation="Set `default_route_settings={'throttling_rate_limit': ..., 'throttling_burst_limit': ...}` from the stack config (`apiThrottleRateLimit`, `apiThrottleBurstLimit`).",
    cloud="aws",
    types=[STAGE],
    twin="PM-GCP-025",
)
def http_api_throttling(args: ResourceValidationArgs, report: ReportViolation) -> None:
    for prop in ("throttlingRateLimit", "throttlingBurstLimit"):
        limit = value(args.props, "defaultRouteSettings", prop)
        if not isinstance(limit, int | float) or limit <= 0:
            report(f"no {prop} on the default route: only the account-wide limit applies", None)


@stack_rule(
    id="PM-AWS-034",
    title="http-api-route-auth",
    description="API Gateway v2 routes have an authorizer (AWS_IAM, JWT or CUSTOM), or belong to an API that declares its routes public (tag `phase-mirror-public` including `routes`).",
    severity=Severity.HIGH,
    remediation="Set `authorization_type` (AWS_IAM, JWT with an authorizer, CUSTOM) on the route; for an API that authenticates in the application (as this one does with API keys), tag the API `phase-mirror-public=routes` so the exposure is declared and reviewed.",
    cloud="aws",
    types=[API, ROUTE],
    checkov=["CKV_AWS_309"],
    twin="PM-GCP-021",
)
def http_api_route_auth(args: StackValidationArgs, report: ReportViolation) -> None:
    apis = of_type(args.resources, API)
    for route in of_type(args.resources, ROUTE):
        kind = read(route.props, "authorizationType")
        if kind is UNKNOWN or kind in AUTHORIZED:
            continue
        api = owner(route, apis, prop="apiId", identity_props=("id",))
        if api is not None and "routes" in declared_facets(api.props):
            continue
        key = read(route.props, "routeKey")
        where = f"route {key}" if isinstance(key, str) else f"route {route.name}"
        report(f"{where} has no authorizer and its API does not declare it public", route.urn)


# ---------------------------------------------------------------------- log groups


@resource_rule(
    id="PM-AWS-035",
    title="log-group-retention",
    description="CloudWatch log groups expire their logs: `retention_in_days` is set (not 0, which keeps logs forever).",
    severity=Severity.LOW,
    remediation="Set `retention_in_days` (the catalog's LOG_RETENTION_DAYS, 90) on every log group, and create the group before the function or stage that writes to it.",
    cloud="aws",
    types=[LOG_GROUP],
    checkov=["CKV_AWS_66", "CKV_AWS_338"],
    one_cloud_reason="Cloud Run logs go to the project's Cloud Logging buckets, which always have a retention (30 days for _Default); the stack creates no log bucket to check.",
)
def log_group_retention(args: ResourceValidationArgs, report: ReportViolation) -> None:
    days = value(args.props, "retentionInDays")
    if not isinstance(days, int | float) or days <= 0:
        report("the log group never expires its logs", None)


@resource_rule(
    id="PM-AWS-036",
    title="log-group-cmk",
    description="CloudWatch log groups are encrypted with a customer-managed KMS key (`kms_key_id`).",
    severity=Severity.MEDIUM,
    remediation="Set `kms_key_id=key.arn` and let `logs.<region>.amazonaws.com` use the key for exactly these log groups (an `kms:EncryptionContext:aws:logs:arn` condition in the key policy).",
    cloud="aws",
    types=[LOG_GROUP],
    checkov=["CKV_AWS_158"],
    trivy=["AVD-AWS-0017"],
    one_cloud_reason="Cloud Logging's customer-managed encryption is an organisation/project setting of the Log Router, not a property of a resource this stack declares.",
)
def log_group_cmk(args: ResourceValidationArgs, report: ReportViolation) -> None:
    if not _customer_key(read(args.props, "kmsKeyId")):
        report("the log group is encrypted with CloudWatch's own key", None)


# ---------------------------------------------------------------------- Scheduler


@resource_rule(
    id="PM-AWS-037",
    title="scheduler-cmk",
    description="EventBridge Scheduler schedules encrypt their target input with a customer-managed KMS key (`kms_key_arn`).",
    severity=Severity.MEDIUM,
    remediation="Set `kms_key_arn=key.arn` on the schedule and let scheduler.amazonaws.com use the key for this schedule's ARN (encryption context aws:scheduler:schedule-arn).",
    cloud="aws",
    types=[SCHEDULE],
    checkov=["CKV_AWS_297"],
    one_cloud_reason="Cloud Scheduler's customer-managed encryption is a per-location project setting (its CMEK config), not a property of a job; the stack's job carries no payload, only a URI and an identity.",
)
def scheduler_cmk(args: ResourceValidationArgs, report: ReportViolation) -> None:
    if not _customer_key(read(args.props, "kmsKeyArn")):
        report("the schedule is encrypted with an AWS-owned key", None)


@resource_rule(
    id="PM-AWS-038",
    title="scheduler-dlq",
    description="EventBridge Scheduler schedules send what they could not deliver to a dead-letter queue (`target.dead_letter_config.arn`) after a retry policy.",
    severity=Severity.MEDIUM,
    remediation="Add an encrypted SQS queue and set `target={'dead_letter_config': {'arn': queue.arn}, 'retry_policy': {...}, ...}`; alarm on InvocationsSentToDeadLetterCount.",
    cloud="aws",
    types=[SCHEDULE],
    checkov=["CKV_AWS_116"],
    one_cloud_reason="Cloud Scheduler has no dead-letter destination: a failed run call is retried per the job's retry_config and logged, and the job's failed executions are alerted (anonymizer-failures).",
)
def scheduler_dlq(args: ResourceValidationArgs, report: ReportViolation) -> None:
    if not present(args.props, "target", "deadLetterConfig", "arn"):
        report("undeliverable invocations are dropped (no dead-letter queue)", None)


# ---------------------------------------------------------------------- ECR


@resource_rule(
    id="PM-AWS-039",
    title="ecr-scan-on-push",
    description="ECR repositories scan images on push (`image_scanning_configuration.scan_on_push`).",
    severity=Severity.MEDIUM,
    remediation="Set `image_scanning_configuration={'scan_on_push': True}` (or enable enhanced scanning for the registry).",
    cloud="aws",
    types=[ECR_REPOSITORY],
    checkov=["CKV_AWS_163"],
    trivy=["AVD-AWS-0030"],
    one_cloud_reason="Artifact Registry scans pushed images when the project enables the Container Scanning API; it is a project service, not a repository property.",
)
def ecr_scan_on_push(args: ResourceValidationArgs, report: ReportViolation) -> None:
    if value(args.props, "imageScanningConfiguration", "scanOnPush") is not True:
        report("pushed images are not scanned for vulnerabilities", None)


@resource_rule(
    id="PM-AWS-040",
    title="ecr-immutable-tags",
    description="ECR repositories make image tags immutable (`image_tag_mutability` IMMUTABLE).",
    severity=Severity.MEDIUM,
    remediation="Set `image_tag_mutability='IMMUTABLE'` and deploy by digest.",
    cloud="aws",
    types=[ECR_REPOSITORY],
    checkov=["CKV_AWS_51"],
    trivy=["AVD-AWS-0031"],
    twin="PM-GCP-028",
)
def ecr_immutable_tags(args: ResourceValidationArgs, report: ReportViolation) -> None:
    mutability = value(args.props, "imageTagMutability", default="MUTABLE")
    if mutability != "IMMUTABLE":
        report(f"image tags are {mutability}: a pushed tag can be moved to other content", None)


@resource_rule(
    id="PM-AWS-041",
    title="ecr-cmk",
    description="ECR repositories encrypt images with a customer-managed KMS key (`encryption_configurations` KMS with a key).",
    severity=Severity.MEDIUM,
    remediation="Set `encryption_configurations=[{'encryption_type': 'KMS', 'kms_key': key.arn}]` (it can only be set when the repository is created).",
    cloud="aws",
    types=[ECR_REPOSITORY],
    checkov=["CKV_AWS_136"],
    trivy=["AVD-AWS-0033"],
    twin="PM-GCP-027",
)
def ecr_cmk(args: ResourceValidationArgs, report: ReportViolation) -> None:
    kind = value(args.props, "encryptionConfigurations", 0, "encryptionType", default="AES256")
    key = read(args.props, "encryptionConfigurations", 0, "kmsKey")
    if kind != "KMS" or not _customer_key(key):
        report(f"images are encrypted with {kind} and no customer-managed key", None)


RULES = (
    lambda_tracing,
    lambda_reserved_concurrency,
    lambda_env_cmk,
    lambda_env_no_secrets,
    lambda_runtime_supported,
    lambda_permission_scoped,
    http_api_access_logs,
    http_api_throttling,
    http_api_route_auth,
    log_group_retention,
    log_group_cmk,
    scheduler_cmk,
    scheduler_dlq,
    ecr_scan_on_push,
    ecr_immutable_tags,
    ecr_cmk,
    lambda_dedicated_roles,
)
