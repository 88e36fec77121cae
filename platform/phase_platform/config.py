"""The stack configuration: one schema, validated before any resource is declared.

`SCHEMA` is the single definition of every config key: `Pulumi.yaml`'s project-level `config:`
block is rendered from it (a test compares them), the program reads it, and the mock runner
applies its defaults the way the Pulumi CLI applies the project file's. Invalid values fail
fast with one `ConfigError` that names each bad key, its value and what is allowed, raised as a
`pulumi.RunError` so the CLI prints the message without a traceback.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Literal

import pulumi

from adapters.catalog import validate_prefix

PROJECT = "phase-mirror"

ValueType = Literal["string", "integer", "boolean"]

CLOUDS = ("aws", "gcp")
ENVIRONMENTS = ("dev", "staging", "production")
#: Who may assume the AWS service runtime role (the compute the service runs on).
AWS_SERVICE_PRINCIPALS = ("lambda.amazonaws.com", "ecs-tasks.amazonaws.com", "ec2.amazonaws.com")

_AWS_REGION = re.compile(r"^[a-z]{2}(-gov)?-[a-z]+-\d$")
_GCP_REGION = re.compile(r"^[a-z]+-[a-z]+\d+$")
_GCP_PROJECT = re.compile(r"^[a-z][a-z0-9-]{4,28}[a-z0-9]$")
_GITHUB_REPO = re.compile(r"^[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+$")
_GITHUB_BRANCH = re.compile(r"^[A-Za-z0-9._/-]+$")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[A-Za-z]{2,}$")
#: A container image pinned by digest: `registry/path[:tag]@sha256:<64 hex>`.
_IMAGE_DIGEST = re.compile(
    r"^[a-z0-9][a-z0-9.-]*(:\d+)?(/[a-z0-9][a-z0-9._-]*)+(:[\w][\w.-]{0,127})?@sha256:[0-9a-f]{64}$"
)
#: cloudRunIngress values -> Cloud Run v2 ingress settings.
CLOUD_RUN_INGRESS = {
    "internal-and-cloud-load-balancing": "INGRESS_TRAFFIC_INTERNAL_LOAD_BALANCER",
    "internal": "INGRESS_TRAFFIC_INTERNAL_ONLY",
    "all": "INGRESS_TRAFFIC_ALL",
}
_OIDC_ARN = re.compile(
    r"^arn:aws[a-z-]*:iam::\d{12}:oidc-provider/token\.actions\.githubusercontent\.com$"
)


class ConfigError(pulumi.RunError):
    """Invalid stack configuration; the message lists every problem and how to fix it."""


@dataclass(frozen=True)
class Setting:
    key: str
    type: ValueType
    description: str
    #: None: required (no default; the stack file must set it).
    default: str | int | bool | None
    #: Human description of the allowed values, shown in errors.
    allowed: str


SCHEMA: tuple[Setting, ...] = (
    Setting("cloud", "string", "Which cloud this stack provisions.", None, "aws, gcp"),
    Setting(
        "environment",
        "string",
        "Deployment environment; production forces deletion protection and 30-day key deletion windows.",
        None,
        ", ".join(ENVIRONMENTS),
    ),
    Setting(
        "prefix",
        "string",
        "Prefix of every physical resource name; empty means phase-mirror-<environment>.",
        "",
        "empty, or 3-42 lowercase letters, digits and '-' starting with a letter",
    ),
    Setting(
        "awsRegion",
        "string",
        "AWS region of every AWS resource.",
        "us-east-1",
        "an AWS region such as us-east-1",
    ),
    Setting(
        "awsServicePrincipal",
        "string",
        "AWS service allowed to assume the service runtime role.",
        "lambda.amazonaws.com",
        ", ".join(AWS_SERVICE_PRINCIPALS),
    ),
    Setting(
        "awsGithubOidcProviderArn",
        "string",
        "Existing GitHub OIDC provider to reuse (one per account); empty creates it.",
        "",
        "empty, or arn:aws:iam::<account>:oidc-provider/token.actions.githubusercontent.com",
    ),
    Setting(
        "lambdaPackage",
        "string",
        "AWS Lambda zip of both functions (built by ./dev package), relative to the project directory.",
        "dist/phase-mirror-lambda.zip",
        "a path ending in .zip",
    ),
    Setting(
        "apiReservedConcurrency",
        "integer",
        "Concurrent executions reserved for (and capping) the AWS API function.",
        10,
        "an integer from 1 to 1000",
    ),
    Setting(
        "anonymizerReservedConcurrency",
        "integer",
        "Concurrent executions reserved for the AWS anonymizer function (1: runs never overlap).",
        1,
        "an integer from 1 to 10",
    ),
    Setting(
        "apiThrottleRateLimit",
        "integer",
        "Steady requests per second the AWS HTTP API accepts (default route throttling).",
        50,
        "an integer from 1 to 10000",
    ),
    Setting(
        "apiThrottleBurstLimit",
        "integer",
        "Requests the AWS HTTP API accepts in a burst above the rate limit (>= the rate limit).",
        100,
        "an integer from 1 to 5000, >= apiThrottleRateLimit",
    ),
    Setting(
        "gcpProject",
        "string",
        "GCP project id (required when cloud is gcp).",
        "",
        "a GCP project id: 6-30 lowercase letters, digits and '-'",
    ),
    Setting(
        "gcpLocation",
        "string",
        "GCP region of the Firestore database, key ring, secrets' replicas and bucket.",
        "us-central1",
        "a GCP region such as us-central1",
    ),
    Setting(
        "image",
        "string",
        "GCP compute image (Cloud Run service and job), pinned by digest; empty creates no compute yet.",
        "",
        "empty, or REGISTRY/PATH@sha256:<64 hex> (a tag alone is refused: it can move)",
    ),
    Setting(
        "cloudRunMinInstances",
        "integer",
        "Cloud Run instances kept warm for the API (0 scales to zero).",
        0,
        "an integer from 0 to 100",
    ),
    Setting(
        "cloudRunMaxInstances",
        "integer",
        "Most Cloud Run instances of the API (caps cost and the load on Firestore).",
        10,
        "an integer from 1 to 1000, >= cloudRunMinInstances",
    ),
    Setting(
        "cloudRunIngress",
        "string",
        "Who may reach the Cloud Run API: internal-and-cloud-load-balancing (default), internal, or all.",
        "internal-and-cloud-load-balancing",
        ", ".join(CLOUD_RUN_INGRESS),
    ),
    Setting(
        "apiPublic",
        "boolean",
        "Let anyone on the Internet call the API (the API still requires API keys): AWS routes need no IAM authorization, GCP grants allUsers run.invoker. false: AWS routes require AWS_IAM (SigV4), GCP an authorized invoker.",
        False,
        "true, false",
    ),
    Setting(
        "githubRepository",
        "string",
        "The only GitHub repository (owner/name) whose workflows may assume the deploy identity.",
        None,
        "owner/name",
    ),
    Setting(
        "githubBranch",
        "string",
        "Branch whose workflows may assume the deploy identity (pull requests and the environment of the same name may too).",
        "main",
        "a branch name without wildcards",
    ),
    Setting(
        "alarmEmail",
        "string",
        "E-mail address that receives alarms (AWS SNS subscription / GCP notification channel).",
        None,
        "an e-mail address",
    ),
    Setting(
        "circuitBreakerThreshold",
        "integer",
        "Blocks per rule per repository per UTC hour before the circuit breaker degrades the rule to warn; exported to the service.",
        10,
        "an integer >= 1",
    ),
    Setting(
        "deletionProtection",
        "boolean",
        "Deletion protection on data resources (tables, database, key, bucket, secrets); must be true in production.",
        False,
        "true, false (true in production)",
    ),
    Setting(
        "backupDailyRetentionDays",
        "integer",
        "Days AWS Backup keeps daily recovery points of durable tables.",
        35,
        "an integer from 1 to 36500",
    ),
    Setting(
        "backupWeeklyRetentionDays",
        "integer",
        "Days AWS Backup keeps weekly recovery points (>= daily).",
        90,
        "an integer from 1 to 36500, >= backupDailyRetentionDays",
    ),
    Setting(
        "backupMonthlyRetentionDays",
        "integer",
        "Days AWS Backup keeps monthly recovery points (>= weekly).",
        365,
        "an integer from 1 to 36500, >= backupWeeklyRetentionDays",
    ),
)

SETTINGS_BY_KEY = {setting.key: setting for setting in SCHEMA}


@dataclass(frozen=True)
class PlatformConfig:
    cloud: str
    environment: str
    prefix: str
    aws_region: str
    aws_service_principal: str
    aws_github_oidc_provider_arn: str
    lambda_package: str
    api_reserved_concurrency: int
    anonymizer_reserved_concurrency: int
    api_throttle_rate_limit: int
    api_throttle_burst_limit: int
    gcp_project: str
    gcp_location: str
    image: str
    cloud_run_min_instances: int
    cloud_run_max_instances: int
    cloud_run_ingress: str
    api_public: bool
    github_repository: str
    github_branch: str
    alarm_email: str
    circuit_breaker_threshold: int
    deletion_protection: bool
    backup_daily_retention_days: int
    backup_weekly_retention_days: int
    backup_monthly_retention_days: int

    @property
    def is_production(self) -> bool:
        return self.environment == "production"

    @property
    def key_deletion_window_days(self) -> int:
        """KMS deletion window / Cloud KMS destroy delay: long where data is irreplaceable."""
        return 30 if self.is_production else 7


def default_text(setting: Setting) -> str | None:
    """A default as the CLI passes config values to a program: as text."""
    if setting.default is None:
        return None
    if isinstance(setting.default, bool):
        return "true" if setting.default else "false"
    return str(setting.default)


def parse_config(raw: Mapping[str, str | None]) -> PlatformConfig:
    """Validate raw config text (keys without the project namespace) into a PlatformConfig.

    Every problem is collected so one run shows them all; missing keys fall back to defaults.
    """
    problems: list[str] = []

    def text(key: str) -> str:
        value = raw.get(key)
        if value is None:
            value = default_text(SETTINGS_BY_KEY[key])
        return "" if value is None else str(value).strip()

    def bad(key: str, value: object, extra: str = "") -> None:
        setting = SETTINGS_BY_KEY[key]
        shown = "(not set)" if value == "" else repr(value)
        problems.append(
            f"  {PROJECT}:{key} = {shown}: allowed values: {setting.allowed}{extra} "
            f"(pulumi config set {key} <value>)"
        )

    def choice(key: str, options: tuple[str, ...]) -> str:
        value = text(key)
        if value not in options:
            bad(key, value)
        return value

    def matching(key: str, pattern: re.Pattern[str], *, optional: bool = False) -> str:
        value = text(key)
        if (value or not optional) and not pattern.match(value):
            bad(key, value)
        return value

    def integer(key: str, low: int, high: int) -> int:
        value = text(key)
        try:
            number = int(value)
        except ValueError:
            bad(key, value)
            return low
        if not low <= number <= high:
            bad(key, value)
        return number

    def boolean(key: str) -> bool:
        value = text(key).lower()
        if value not in ("true", "false"):
            bad(key, value)
        return value == "true"

    cloud = choice("cloud", CLOUDS)
    environment = choice("environment", ENVIRONMENTS)
    prefix = text("prefix") or (f"phase-mirror-{environment}" if environment else "")
    try:
        validate_prefix(prefix)
    except ValueError:
        bad("prefix", prefix)
    if cloud == "gcp" and len(prefix) < 4:
        bad("prefix", prefix, " (at least 4 characters on gcp: it names the Firestore database)")
    gcp_project = matching("gcpProject", _GCP_PROJECT, optional=cloud != "gcp")
    deletion_protection = boolean("deletionProtection")
    if environment == "production" and not deletion_protection:
        problems.append(
            f"  {PROJECT}:deletionProtection = false: allowed values: true when environment is "
            "production (pulumi config set deletionProtection true)"
        )
    image = matching("image", _IMAGE_DIGEST, optional=True)
    min_instances = integer("cloudRunMinInstances", 0, 100)
    max_instances = integer("cloudRunMaxInstances", 1, 1000)
    if max_instances < min_instances:
        bad("cloudRunMaxInstances", max_instances, f" (cloudRunMinInstances is {min_instances})")
    lambda_package = text("lambdaPackage")
    if not lambda_package.endswith(".zip"):
        bad("lambdaPackage", lambda_package)
    rate = integer("apiThrottleRateLimit", 1, 10000)
    burst = integer("apiThrottleBurstLimit", 1, 5000)
    if burst < rate:
        bad("apiThrottleBurstLimit", burst, f" (apiThrottleRateLimit is {rate})")
    daily = integer("backupDailyRetentionDays", 1, 36500)
    weekly = integer("backupWeeklyRetentionDays", 1, 36500)
    monthly = integer("backupMonthlyRetentionDays", 1, 36500)
    if weekly < daily:
        bad("backupWeeklyRetentionDays", weekly, f" (daily is {daily})")
    if monthly < weekly:
        bad("backupMonthlyRetentionDays", monthly, f" (weekly is {weekly})")
    config = PlatformConfig(
        cloud=cloud,
        environment=environment,
        prefix=prefix,
        aws_region=matching("awsRegion", _AWS_REGION),
        aws_service_principal=choice("awsServicePrincipal", AWS_SERVICE_PRINCIPALS),
        aws_github_oidc_provider_arn=matching("awsGithubOidcProviderArn", _OIDC_ARN, optional=True),
        lambda_package=lambda_package,
        api_reserved_concurrency=integer("apiReservedConcurrency", 1, 1000),
        anonymizer_reserved_concurrency=integer("anonymizerReservedConcurrency", 1, 10),
        api_throttle_rate_limit=rate,
        api_throttle_burst_limit=burst,
        gcp_project=gcp_project,
        gcp_location=matching("gcpLocation", _GCP_REGION),
        image=image,
        cloud_run_min_instances=min_instances,
        cloud_run_max_instances=max_instances,
        cloud_run_ingress=choice("cloudRunIngress", tuple(CLOUD_RUN_INGRESS)),
        api_public=boolean("apiPublic"),
        github_repository=matching("githubRepository", _GITHUB_REPO),
        github_branch=matching("githubBranch", _GITHUB_BRANCH),
        alarm_email=matching("alarmEmail", _EMAIL),
        circuit_breaker_threshold=integer("circuitBreakerThreshold", 1, 1_000_000),
        deletion_protection=deletion_protection,
        backup_daily_retention_days=daily,
        backup_weekly_retention_days=weekly,
        backup_monthly_retention_days=monthly,
    )
    if problems:
        raise ConfigError("invalid stack configuration:\n" + "\n".join(problems))
    return config


def load_config(get: Callable[[str], str | None] | None = None) -> PlatformConfig:
    """Read and validate the stack's config (`pulumi.Config` of this project by default)."""
    if get is None:
        get = pulumi.Config(PROJECT).get
    return parse_config({setting.key: get(setting.key) for setting in SCHEMA})


def project_config_schema() -> dict[str, dict[str, object]]:
    """The `config:` block of Pulumi.yaml, rendered from SCHEMA."""
    block: dict[str, dict[str, object]] = {}
    for setting in SCHEMA:
        entry: dict[str, object] = {"type": setting.type, "description": setting.description}
        if setting.default is not None:
            entry["default"] = setting.default
        block[setting.key] = entry
    return block
