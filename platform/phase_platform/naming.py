"""Names derived from the config and the catalog, shared by both clouds and the tests.

Physical names of stores, secrets, the bucket, the key, the metrics and the alarms come from
`adapters.catalog` only (`phase-mirror verify-alarms` reads the same alarm names); this module
adds the names the catalog does not own (roles, GCP ids with length limits) and the backend URL
the service reads.
"""

from __future__ import annotations

from adapters.aws.url import aws_backend_url
from adapters.gcp.spec import bounded_id, service_account_id
from adapters.gcp.url import gcp_backend_url

from .config import PlatformConfig

GITHUB_OIDC_ISSUER = "token.actions.githubusercontent.com"
GITHUB_OIDC_URL = f"https://{GITHUB_OIDC_ISSUER}"
#: Component type tokens (`package:module:Type`), also read by the policy pack and the tests.
COMPONENT_TYPE_AWS = "phase-mirror:platform:AwsPlatform"
COMPONENT_TYPE_GCP = "phase-mirror:platform:GcpPlatform"


def github_subjects(config: PlatformConfig) -> list[str]:
    """The only OIDC `sub` claims allowed to deploy: the branch, pull requests, and jobs that
    run in the GitHub environment named like the stack's environment (such jobs carry an
    `environment:` subject instead of a `ref:` one)."""
    repo = config.github_repository
    return [
        f"repo:{repo}:ref:refs/heads/{config.github_branch}",
        f"repo:{repo}:pull_request",
        f"repo:{repo}:environment:{config.environment}",
    ]


def gcp_service_account_id(prefix: str, role: str) -> str:
    """Service account ids are 6-30 characters (the GCP spec owns the rule)."""
    return service_account_id(prefix, role)


def gcp_pool_id(prefix: str) -> str:
    """Workload identity pool ids are 4-32 characters (soft-deleted ids stay taken 30 days)."""
    return bounded_id(prefix, "github", 32)


def backend_url(config: PlatformConfig) -> str:
    """The backend setting the service reads, built by the backend's own URL spec
    (`adapters/aws/url.py`, `adapters/gcp/url.py`) that `adapters.config` parses it with."""
    if config.cloud == "aws":
        return aws_backend_url(region=config.aws_region, prefix=config.prefix)
    return gcp_backend_url(
        project=config.gcp_project,
        prefix=config.prefix,
        location=config.gcp_location,
        database=config.prefix,
    )
