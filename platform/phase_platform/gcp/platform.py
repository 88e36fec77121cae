"""The GCP stack as one component: every resource is its child (`parent=self`)."""

from __future__ import annotations

import dataclasses
from typing import Any

import pulumi
import pulumi_gcp as gcp

from adapters.catalog import STORES

from ..config import PlatformConfig
from ..naming import COMPONENT_TYPE_GCP, backend_url
from . import compute, identity, monitoring, storage
from .scope import GcpScope


class GcpPlatform(pulumi.ComponentResource):
    #: Stack outputs: the backend URL the service reads and every resource name.
    outputs: dict[str, Any]

    def __init__(
        self, name: str, config: PlatformConfig, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__(COMPONENT_TYPE_GCP, name, None, opts)
        provider = gcp.Provider(
            f"{name}-gcp",
            project=config.gcp_project,
            region=config.gcp_location,
            default_labels={
                "project": "phase-mirror",
                "environment": config.environment,
                "managed-by": "pulumi",
            },
            opts=pulumi.ResourceOptions(parent=self),
        )
        scope = GcpScope(name=name, parent=self, provider=provider, config=config)
        scope = dataclasses.replace(scope, apis=storage.enable_apis(scope))

        key = storage.stack_key(scope)
        agents = storage.service_agents(scope)
        key_users = identity.agent_key_access(scope, key, agents)
        database = storage.database(scope, key, after=[key_users["firestore"]])
        secrets = storage.secrets(scope, key, after=[key_users["secretmanager"]])
        bucket = storage.baselines_bucket(scope, key, after=[key_users["storage"]])
        who = identity.identities(scope, database=database, key=key, secrets=secrets, bucket=bucket)
        run = compute.compute(
            scope,
            key=key,
            key_users=key_users,
            database=database,
            secrets=secrets,
            bucket=bucket,
            deploy=who.deploy,
        )
        watch = monitoring.monitoring(scope)

        self.outputs = {
            "backendUrl": backend_url(config),
            "cloud": "gcp",
            "environment": config.environment,
            "prefix": config.prefix,
            "project": config.gcp_project,
            "location": config.gcp_location,
            "circuitBreakerThreshold": config.circuit_breaker_threshold,
            "firestoreDatabase": database.name,
            "collectionNames": {
                store.value: spec.physical_name(config.prefix) for store, spec in STORES.items()
            },
            "secretIds": {secret.value: s.secret_id for secret, s in secrets.items()},
            "bucketName": bucket.name,
            "cryptoKeyId": key.id,
            "serviceAccountEmail": who.service.email,
            "deployServiceAccountEmail": who.deploy.email,
            "workloadIdentityProvider": who.provider.name,
            "notificationChannel": watch.channel.name,
            "logMetricNames": [metric.name for metric in watch.log_metrics],
            "alertPolicyNames": [policy.display_name for policy in watch.policies]
            + [watch.system_health.display_name],
            "dashboardId": watch.dashboard.id,
            "imageRepository": run.repository.registry_uri,
            "image": config.image,
            "serviceUrl": run.service.uri if run.service else None,
            # The API's base URL under the name the AWS stack uses (smoke reads either cloud's).
            "apiEndpoint": run.service.uri if run.service else None,
            # Whether anyone can reach the API (then smoke can run from anywhere).
            "apiPublic": bool(run.service)
            and config.cloud_run_ingress == "all"
            and config.api_public,
            "jobName": run.job.name if run.job else None,
            "schedulerJobName": run.scheduler.name if run.scheduler else None,
        }
        self.register_outputs(self.outputs)
