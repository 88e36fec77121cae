"""GCP compute: the container image's Artifact Registry repository, one runtime service account
per workload (and one for Cloud Scheduler), the Cloud Run service serving the API, the Cloud Run
job running the anonymizer, and the Cloud Scheduler job starting it daily.

Names and shapes come from `adapters.gcp.spec` (`gcp_stack(prefix).compute`); the image's own
contract (its port and health path) from `deploy/container.py`. The image is the stack config's
`image`, pinned by digest. Without one, only the repository and the identities exist: that is
the first `pulumi up` of a stack, after which the image can be pushed (docs/platform.md).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import pulumi
import pulumi_gcp as gcp

from adapters.catalog import Secret
from adapters.config import ENV_BACKEND
from adapters.gcp.spec import CONTAINER_PORT, HEALTH_PATH, RunWorkload, gcp_stack

from ..config import CLOUD_RUN_INGRESS, PlatformConfig
from ..naming import backend_url
from .identity import data_access
from .scope import GcpScope

INVOKER_ROLE = "roles/run.invoker"
#: Pushing images (the deploy identity, on the stack's repository only).
REGISTRY_WRITER_ROLE = "roles/artifactregistry.writer"
#: Deploying a service or job that runs as an account (the deploy identity, on that account).
ACT_AS_ROLE = "roles/iam.serviceAccountUser"
PUBLIC = "allUsers"
#: Label declaring what the config exposes to the Internet (phase_policy/compute.py reads it).
PUBLIC_LABEL = "phase-mirror-public"
OAUTH_SCOPE = "https://www.googleapis.com/auth/cloud-platform"
CPU = "1"


@dataclass(frozen=True)
class Compute:
    repository: gcp.artifactregistry.Repository
    accounts: dict[str, gcp.serviceaccount.Account]
    #: None while the stack has no `image`.
    service: gcp.cloudrunv2.Service | None
    job: gcp.cloudrunv2.Job | None
    scheduler: gcp.cloudscheduler.Job | None


def compute(
    scope: GcpScope,
    *,
    key: gcp.kms.CryptoKey,
    key_users: Mapping[str, gcp.kms.CryptoKeyIAMMember],
    database: gcp.firestore.Database,
    secrets: Mapping[Secret, gcp.secretmanager.Secret],
    bucket: gcp.storage.Bucket,
    deploy: gcp.serviceaccount.Account,
) -> Compute:
    spec = gcp_stack(scope.prefix).compute
    repository = gcp.artifactregistry.Repository(
        scope.child("image-repository"),
        project=scope.project,
        location=scope.location,
        repository_id=spec.repository,
        format="DOCKER",
        description=f"Phase Mirror images of {scope.prefix}",
        kms_key_name=key.id,
        # A pushed tag never moves; the stack deploys by digest anyway.
        docker_config={"immutable_tags": True},
        labels={"stack": scope.prefix},
        opts=scope.opts(depends_on=[key_users["artifactregistry"]]),
    )
    gcp.artifactregistry.RepositoryIamMember(
        scope.child("image-repository", "deploy-writer"),
        project=scope.project,
        location=scope.location,
        repository=repository.name,
        role=REGISTRY_WRITER_ROLE,
        member=deploy.member,
        opts=scope.opts(),
    )
    accounts = {
        account.role: gcp.serviceaccount.Account(
            scope.child("sa", account.role),
            project=scope.project,
            account_id=account.account_id,
            display_name=f"Phase Mirror {account.role} ({scope.config.environment})",
            description=account.description[:256],
            opts=scope.opts(),
        )
        for account in spec.accounts
    }
    for role, account in accounts.items():
        gcp.serviceaccount.IAMMember(
            scope.child("sa", role, "deploy-act-as"),
            service_account_id=account.name,
            role=ACT_AS_ROLE,
            member=deploy.member,
            opts=scope.opts(),
        )
    for workload in (spec.service, spec.job.workload):
        data_access(
            scope,
            f"run-{workload.spec.name}",
            accounts[workload.spec.name].member,
            database=database,
            key=key if workload.spec.uses_key else None,
            secrets={slot.secret: secrets[slot.secret] for slot in workload.secrets},
            bucket=bucket if workload.spec.uses_bucket else None,
        )
    config = scope.config
    if not config.image:
        pulumi.log.info(
            "image is empty: no Cloud Run service, job or schedule yet. Push the image to the "
            "repository (output imageRepository) and set `image` to it by digest."
        )
        return Compute(repository, accounts, None, None, None)
    # Cloud Run encrypts the image and the instances' data with the key as its service agent.
    cmek = [key_users["run"]]
    api = spec.service
    service = gcp.cloudrunv2.Service(
        scope.child("run", api.spec.name),
        project=scope.project,
        location=scope.location,
        name=api.name,
        description=api.spec.description,
        ingress=CLOUD_RUN_INGRESS[config.cloud_run_ingress],
        deletion_protection=config.deletion_protection,
        # What the config exposes, declared where the policy pack sees it (PM-GCP-020/021).
        labels={"stack": scope.prefix, "workload": api.spec.name, **_exposure(config)},
        template={
            "service_account": accounts[api.spec.name].email,
            "timeout": f"{api.timeout_seconds}s",
            "encryption_key": key.id,
            "scaling": {
                "min_instance_count": config.cloud_run_min_instances,
                "max_instance_count": config.cloud_run_max_instances,
            },
            "containers": [
                {
                    "image": config.image,
                    "ports": {"container_port": CONTAINER_PORT},
                    "envs": [{"name": n, "value": v} for n, v in _settings(scope, api)],
                    "resources": {"limits": {"cpu": CPU, "memory": api.memory}},
                    # Traffic reaches a new revision only once /healthz answers.
                    "startup_probe": {
                        "http_get": {"path": HEALTH_PATH, "port": CONTAINER_PORT},
                        "period_seconds": 2,
                        "timeout_seconds": 2,
                        "failure_threshold": 30,
                    },
                }
            ],
        },
        opts=scope.opts(depends_on=cmek),
    )
    if config.api_public:
        # The API authenticates its callers with API keys; IAM then lets anyone reach it.
        gcp.cloudrunv2.ServiceIamMember(
            scope.child("run", api.spec.name, "public-invoker"),
            project=scope.project,
            location=scope.location,
            name=service.name,
            role=INVOKER_ROLE,
            member=PUBLIC,
            opts=scope.opts(),
        )
    anonymizer = spec.job.workload
    job_template: gcp.cloudrunv2.JobTemplateArgsDict = {
        "task_count": 1,
        "parallelism": 1,
        "template": {
            "service_account": accounts[anonymizer.spec.name].email,
            "timeout": f"{anonymizer.timeout_seconds}s",
            "max_retries": spec.job.max_retries,
            "encryption_key": key.id,
            "containers": [
                {
                    "image": config.image,
                    # Both set: the image's CMD (the server) must not leak in as arguments.
                    "commands": [spec.job.command[0]],
                    "args": list(spec.job.command[1:]),
                    "envs": [{"name": n, "value": v} for n, v in _settings(scope, anonymizer)],
                    "resources": {"limits": {"cpu": CPU, "memory": anonymizer.memory}},
                }
            ],
        },
    }
    job = gcp.cloudrunv2.Job(
        scope.child("run", anonymizer.spec.name),
        project=scope.project,
        location=scope.location,
        name=anonymizer.name,
        deletion_protection=config.deletion_protection,
        labels={"stack": scope.prefix, "workload": anonymizer.spec.name},
        template=job_template,
        opts=scope.opts(depends_on=cmek),
    )
    schedule = spec.scheduler
    invoker = gcp.cloudrunv2.JobIamMember(
        scope.child("run", anonymizer.spec.name, "scheduler-invoker"),
        project=scope.project,
        location=scope.location,
        name=job.name,
        role=INVOKER_ROLE,
        member=accounts[schedule.account.role].member,
        opts=scope.opts(),
    )
    scheduler = gcp.cloudscheduler.Job(
        scope.child("schedule", anonymizer.spec.name),
        project=scope.project,
        region=scope.location,
        name=schedule.name,
        description=f"Runs {anonymizer.name} daily: {anonymizer.spec.description}",
        schedule=schedule.schedule,
        time_zone=schedule.time_zone,
        attempt_deadline=f"{schedule.attempt_deadline_seconds}s",
        retry_config={
            "retry_count": schedule.retry_count,
            "min_backoff_duration": "60s",
            "max_backoff_duration": "600s",
            "max_doublings": 3,
        },
        http_target={
            "uri": schedule.run_uri(scope.project, scope.location),
            "http_method": "POST",
            "oauth_token": {
                "service_account_email": accounts[schedule.account.role].email,
                "scope": OAUTH_SCOPE,
            },
        },
        opts=scope.opts(depends_on=[invoker]),
    )
    return Compute(repository, accounts, service, job, scheduler)


def _exposure(config: PlatformConfig) -> dict[str, str]:
    """The `phase-mirror-public` label: `ingress` (cloudRunIngress all) and/or `invoker`
    (apiPublic), joined by `_`; no label when the service is private."""
    facets = [
        facet
        for facet, on in (
            ("ingress", config.cloud_run_ingress == "all"),
            ("invoker", config.api_public),
        )
        if on
    ]
    return {PUBLIC_LABEL: "_".join(facets)} if facets else {}


def _settings(scope: GcpScope, workload: RunWorkload) -> list[tuple[str, str]]:
    """The container's environment: settings only, the backend URL the stack outputs and the
    workload's own. No secret is injected: the service reads them from Secret Manager at run
    time (current and previous versions, which an environment value could not follow)."""
    return [(ENV_BACKEND, backend_url(scope.config)), *workload.settings]
