"""AWS identities: the GitHub OIDC provider, the deploy role GitHub Actions of one repository
may assume, the service runtime role, and their least-privilege policies built from ARNs."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from adapters.catalog import STORES, Secret, Store

from ..naming import GITHUB_OIDC_URL, github_subjects
from . import documents
from .scope import AwsScope, policy_json

#: GitHub's OIDC certificate thumbprints (AWS also trusts GitHub through its own CA library).
GITHUB_THUMBPRINTS = [
    "6938fd4d98bab03faadb97b34396831e3780aea1",
    "1c58a3a8518e8759bf075b76b750d4f2df264fcd",
]
SESSION_SECONDS = 3600


@dataclass(frozen=True)
class Roles:
    oidc_provider_arn: pulumi.Input[str]
    oidc_provider: aws.iam.OpenIdConnectProvider | None
    deploy: aws.iam.Role
    service: aws.iam.Role


def roles(scope: AwsScope) -> Roles:
    """The roles alone (trust policies only): the key policy names them before any
    permission policy can name the key."""
    config = scope.config
    provider: aws.iam.OpenIdConnectProvider | None = None
    if config.aws_github_oidc_provider_arn:
        provider_arn: pulumi.Input[str] = config.aws_github_oidc_provider_arn
    else:
        provider = aws.iam.OpenIdConnectProvider(
            scope.child("github-oidc"),
            url=GITHUB_OIDC_URL,
            client_id_lists=["sts.amazonaws.com"],
            thumbprint_lists=GITHUB_THUMBPRINTS,
            opts=scope.opts(),
        )
        provider_arn = provider.arn
    deploy = aws.iam.Role(
        scope.child("deploy-role"),
        name=f"{scope.prefix}-github-deploy",
        description=f"GitHub Actions of {config.github_repository} ({config.environment})",
        assume_role_policy=policy_json(
            documents.github_trust_policy,
            oidc_provider_arn=provider_arn,
            subjects=github_subjects(config),
        ),
        max_session_duration=SESSION_SECONDS,
        opts=scope.opts(),
    )
    service = aws.iam.Role(
        scope.child("service-role"),
        name=f"{scope.prefix}-service",
        description=f"Phase Mirror service runtime ({config.environment})",
        assume_role_policy=policy_json(
            documents.service_trust_policy,
            service_principal=config.aws_service_principal,
            account_id=scope.account_id,
        ),
        max_session_duration=SESSION_SECONDS,
        opts=scope.opts(),
    )
    return Roles(provider_arn, provider, deploy, service)


def grant_data_access(
    scope: AwsScope,
    roles: Roles,
    *,
    tables: Mapping[Store, aws.dynamodb.Table],
    key: aws.kms.Key,
    parameters: Mapping[Secret, aws.ssm.Parameter],
    bucket: aws.s3.Bucket,
) -> None:
    """Both roles may use the data plane; only the deploy role (runbooks, CI) rotates secrets."""
    table_arns = [tables[store].arn for store in STORES]
    index_arns = [
        pulumi.Output.concat(tables[store].arn, "/index/", index.name)
        for store, spec in STORES.items()
        for index in spec.indexes
    ]
    parameter_arns = [parameter.arn for parameter in parameters.values()]
    data = aws.iam.Policy(
        scope.child("data-access"),
        name=f"{scope.prefix}-data-access",
        description="Catalog tables, the stack key, reading secrets, the baselines bucket",
        policy=policy_json(
            documents.data_access_policy,
            table_arns=table_arns,
            index_arns=index_arns,
            key_arn=key.arn,
            parameter_arns=parameter_arns,
            bucket_arn=bucket.arn,
        ),
        opts=scope.opts(),
    )
    rotation = aws.iam.Policy(
        scope.child("secret-rotation"),
        name=f"{scope.prefix}-secret-rotation",
        description="New versions and version labels of the redaction key and salt",
        policy=policy_json(
            documents.secret_rotation_policy, key_arn=key.arn, parameter_arns=parameter_arns
        ),
        opts=scope.opts(),
    )
    for role_name, role in (("service", roles.service), ("deploy", roles.deploy)):
        aws.iam.RolePolicyAttachment(
            scope.child(role_name, "data-access"),
            role=role.name,
            policy_arn=data.arn,
            opts=scope.opts(),
        )
    aws.iam.RolePolicyAttachment(
        scope.child("deploy", "secret-rotation"),
        role=roles.deploy.name,
        policy_arn=rotation.arn,
        opts=scope.opts(),
    )
