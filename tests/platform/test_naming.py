"""Derived names: within each cloud's limits, unique per prefix, and the backend URL."""

from __future__ import annotations

import re

import pytest
from phase_platform.config import parse_config
from phase_platform.naming import backend_url, gcp_pool_id, gcp_service_account_id

from adapters.catalog import kebab
from adapters.config import parse_backend_url

PREFIXES = ["pm-qa", "phase-mirror-staging", "phase-mirror-production", "a" * 42, "ab-" * 13 + "c"]
SERVICE_ACCOUNT = re.compile(r"^[a-z][a-z0-9-]{4,28}[a-z0-9]$")
POOL = re.compile(r"^[a-z0-9-]{4,32}$")


@pytest.mark.parametrize("prefix", PREFIXES)
def test_gcp_ids_fit_their_limits(prefix: str) -> None:
    for role in ("service", "deploy"):
        assert SERVICE_ACCOUNT.match(gcp_service_account_id(prefix, role))
    assert POOL.match(gcp_pool_id(prefix)) and not gcp_pool_id(prefix).startswith("gcp-")


def test_cut_ids_stay_unique() -> None:
    one, two = "phase-mirror-production-eu", "phase-mirror-production-us"
    assert gcp_service_account_id(one, "service") != gcp_service_account_id(two, "service")
    assert gcp_service_account_id("pm-qa", "service") == "pm-qa-service"  # short: readable


def test_kebab() -> None:
    assert kebab("CircuitBreakerTriggers") == "circuit-breaker-triggers"
    assert kebab("SecretStoreFailures") == "secret-store-failures"


def test_backend_urls_parse() -> None:
    base = {"environment": "staging", "githubRepository": "o/r", "alarmEmail": "a@b.io"}
    aws = backend_url(parse_config({**base, "cloud": "aws", "awsRegion": "eu-west-1"}))
    assert aws == "aws://?region=eu-west-1&prefix=phase-mirror-staging"
    gcp = parse_backend_url(
        backend_url(parse_config({**base, "cloud": "gcp", "gcpProject": "my-project"}))
    )
    assert gcp.location == "my-project" and gcp.params == {
        "prefix": "phase-mirror-staging",
        "location": "us-central1",
        "database": "phase-mirror-staging",
    }
