"""The AWS stack as one component: every resource is its child (`parent=self`)."""

from __future__ import annotations

from typing import Any

import pulumi
import pulumi_aws as aws

from adapters.catalog import Workload

from ..config import PlatformConfig
from ..naming import COMPONENT_TYPE_AWS, backend_url
from . import backup, compute, identity, monitoring, storage
from .scope import AwsScope


class AwsPlatform(pulumi.ComponentResource):
    #: Stack outputs: the backend URL the service reads and every resource name.
    outputs: dict[str, Any]

    def __init__(
        self, name: str, config: PlatformConfig, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__(COMPONENT_TYPE_AWS, name, None, opts)
        provider = aws.Provider(
            f"{name}-aws",
            region=config.aws_region,
            default_tags={
                "tags": {
                    "Project": "phase-mirror",
                    "Environment": config.environment,
                    "Prefix": config.prefix,
                    "ManagedBy": "pulumi",
                }
            },
            opts=pulumi.ResourceOptions(parent=self),
        )
        invoke = pulumi.InvokeOptions(parent=self, provider=provider)
        scope = AwsScope(
            name=name,
            parent=self,
            provider=provider,
            config=config,
            account_id=aws.get_caller_identity(opts=invoke).account_id,
            partition=aws.get_partition(opts=invoke).partition,
        )
        roles = identity.roles(scope)
        compute_roles = compute.roles(scope)
        key = storage.stack_key(
            scope,
            service_role=roles.service,
            deploy_role=roles.deploy,
            compute_grants=compute.key_grants(scope, compute_roles),
        )
        tables = storage.tables(scope, key.key)
        parameters = storage.secret_parameters(scope, key.key)
        baselines = storage.baselines_bucket(scope, key.key)
        identity.grant_data_access(
            scope,
            roles,
            tables=tables,
            key=key.key,
            parameters=parameters,
            bucket=baselines.bucket,
        )
        runs = compute.compute(
            scope, compute_roles, key=key.key, tables=tables, parameters=parameters
        )
        watch = monitoring.monitoring(scope, key=key.key, late=runs.late_bound)
        kept = backup.backups(scope, key=key.key, tables=tables)

        self.outputs = {
            "backendUrl": backend_url(config),
            "cloud": "aws",
            "environment": config.environment,
            "prefix": config.prefix,
            "region": config.aws_region,
            "circuitBreakerThreshold": config.circuit_breaker_threshold,
            "tableNames": {store.value: table.name for store, table in tables.items()},
            "secretParameterNames": {
                secret.value: parameter.name for secret, parameter in parameters.items()
            },
            "bucketName": baselines.bucket.bucket,
            "keyAlias": key.alias.name,
            "keyArn": key.key.arn,
            "alarmTopicArn": watch.topic.arn,
            "alarmNames": [alarm.name for alarm in watch.alarms],
            "systemHealthAlarmName": watch.system_health.alarm_name,
            "dashboardName": watch.dashboard.dashboard_name,
            "deployRoleArn": roles.deploy.arn,
            "serviceRoleArn": roles.service.arn,
            "githubOidcProviderArn": roles.oidc_provider_arn,
            "backupVaultName": kept.vault.name,
            "backupPlanName": kept.plan.name,
            # The stage's invoke URL (`phase-mirror smoke --endpoint`).
            "apiEndpoint": runs.stage.invoke_url,
            # Whether anyone can call the API (then smoke can run from anywhere).
            "apiPublic": config.api_public,
            "apiFunctionName": runs.functions[Workload.API].name,
            "anonymizerFunctionName": runs.functions[Workload.ANONYMIZER].name,
            "scheduleName": runs.schedules[Workload.ANONYMIZER].name,
        }
        self.register_outputs(self.outputs)
