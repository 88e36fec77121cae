"""Stack configuration: one schema, documented in Pulumi.yaml, validated before any resource."""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest
import yaml
from phase_platform.config import (
    PROJECT,
    SCHEMA,
    ConfigError,
    PlatformConfig,
    default_text,
    parse_config,
    project_config_schema,
)
from phase_platform.testing import REPO_ROOT, STACKS, ProgramRun, load_stack_config


def valid(**changes: str) -> dict[str, str | None]:
    raw: dict[str, str | None] = {
        "cloud": "aws",
        "environment": "staging",
        "githubRepository": "PhaseMirror/Phase-Mirror",
        "alarmEmail": "ops@example.com",
        "gcpProject": "phase-mirror-staging",
    }
    raw.update(changes)
    return raw


def test_pulumi_yaml_schema_is_rendered_from_the_code() -> None:
    project = yaml.safe_load((REPO_ROOT / "Pulumi.yaml").read_text())
    assert project["name"] == PROJECT
    assert project["config"] == project_config_schema()
    for entry in project["config"].values():
        assert entry["type"] in ("string", "integer", "boolean") and entry["description"]


@pytest.mark.parametrize("stack", STACKS)
def test_stack_files_set_every_required_key_and_only_known_keys(stack: str) -> None:
    _, config, secret_keys = load_stack_config(stack)
    known = {f"{PROJECT}:{s.key}" for s in SCHEMA}
    assert set(config) - known == {"pulumi:disable-default-providers"}
    assert json.loads(config["pulumi:disable-default-providers"]) == ["aws", "gcp"]
    required = [s.key for s in SCHEMA if s.default is None]
    assert all(f"{PROJECT}:{key}" in config for key in required)
    assert secret_keys == []  # nothing secret is needed, nothing is stored in clear text
    parsed = parse_config({k.split(":", 1)[1]: v for k, v in config.items() if k in known})
    assert parsed.environment == stack and parsed.prefix == f"phase-mirror-{stack}"


def test_defaults_and_derived_values() -> None:
    config = parse_config(valid())
    assert config.prefix == "phase-mirror-staging"
    assert config.aws_region == "us-east-1" and config.gcp_location == "us-central1"
    assert config.github_branch == "main" and config.circuit_breaker_threshold == 10
    assert not config.deletion_protection and config.key_deletion_window_days == 7
    production = parse_config(valid(environment="production", deletionProtection="true"))
    assert production.key_deletion_window_days == 30
    assert parse_config(valid(prefix="pm-qa")).prefix == "pm-qa"
    assert all(default_text(s) is None or isinstance(default_text(s), str) for s in SCHEMA)


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({"cloud": "azure"}, "phase-mirror:cloud = 'azure': allowed values: aws, gcp"),
        ({"cloud": None}, "phase-mirror:cloud = (not set): allowed values: aws, gcp"),
        (
            {"environment": "prod"},
            "phase-mirror:environment = 'prod': allowed values: dev, staging, production",
        ),
        (
            {"environment": "production"},
            "phase-mirror:deletionProtection = false: allowed values: true when environment is production",
        ),
        (
            {"environment": "production", "deletionProtection": "false"},
            "allowed values: true when environment is production",
        ),
        (
            {"deletionProtection": "yes"},
            "phase-mirror:deletionProtection = 'yes': allowed values: true, false",
        ),
        (
            {"prefix": "Phase_Mirror"},
            "phase-mirror:prefix = 'Phase_Mirror': allowed values: empty, or 3-42",
        ),
        (
            {"githubRepository": "PhaseMirror"},
            "phase-mirror:githubRepository = 'PhaseMirror': allowed values: owner/name",
        ),
        (
            {"githubBranch": "release/*"},
            "phase-mirror:githubBranch = 'release/*': allowed values: a branch name without wildcards",
        ),
        (
            {"alarmEmail": None},
            "phase-mirror:alarmEmail = (not set): allowed values: an e-mail address",
        ),
        (
            {"awsRegion": "mars-1"},
            "phase-mirror:awsRegion = 'mars-1': allowed values: an AWS region",
        ),
        (
            {"awsServicePrincipal": "*"},
            "phase-mirror:awsServicePrincipal = '*': allowed values: lambda.amazonaws.com",
        ),
        (
            {"awsGithubOidcProviderArn": "arn:aws:iam::1:oidc-provider/x"},
            "phase-mirror:awsGithubOidcProviderArn",
        ),
        (
            {"cloud": "gcp", "gcpProject": None},
            "phase-mirror:gcpProject = (not set): allowed values: a GCP project id",
        ),
        ({"gcpLocation": "us"}, "phase-mirror:gcpLocation = 'us': allowed values: a GCP region"),
        (
            {"circuitBreakerThreshold": "0"},
            "phase-mirror:circuitBreakerThreshold = '0': allowed values: an integer >= 1",
        ),
        ({"circuitBreakerThreshold": "ten"}, "phase-mirror:circuitBreakerThreshold = 'ten'"),
        (
            {"backupDailyRetentionDays": "100", "backupWeeklyRetentionDays": "90"},
            "phase-mirror:backupWeeklyRetentionDays = 90: allowed values: an integer from 1 to 36500, >= backupDailyRetentionDays (daily is 100)",
        ),
    ],
)
def test_invalid_values_name_the_key_and_the_allowed_values(
    changes: dict[str, str | None], expected: str
) -> None:
    with pytest.raises(ConfigError) as error:
        parse_config(valid(**changes))  # type: ignore[arg-type]
    assert expected in str(error.value)
    assert "pulumi config set" in str(error.value)


def test_every_problem_is_reported_at_once() -> None:
    with pytest.raises(ConfigError) as error:
        parse_config({"cloud": "azure", "environment": "qa"})
    message = str(error.value)
    for key in ("cloud", "environment", "githubRepository", "alarmEmail"):
        assert f"phase-mirror:{key}" in message


def test_config_error_is_a_run_error_so_the_cli_prints_no_traceback() -> None:
    import pulumi

    assert issubclass(ConfigError, pulumi.RunError)


def test_the_program_fails_fast_before_registering_anything(
    build: Callable[..., ProgramRun],
) -> None:
    with pytest.raises(ConfigError, match="deletionProtection = false"):
        build("aws", "production", overrides={"deletionProtection": False})
    with pytest.raises(ConfigError, match="cloud = 'azure'"):
        build("aws", "staging", overrides={"phase-mirror:cloud": "azure"})


def test_parsed_config_is_immutable() -> None:
    config = parse_config(valid())
    assert isinstance(config, PlatformConfig)
    with pytest.raises(AttributeError):
        config.prefix = "x"  # type: ignore[misc]
