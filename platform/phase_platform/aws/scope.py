"""What every AWS builder needs: the parent component, the provider, the config, the account."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_aws as aws

from ..config import PlatformConfig


@dataclass(frozen=True)
class AwsScope:
    #: Logical name of the component; children are named `{name}-...`.
    name: str
    parent: pulumi.ComponentResource
    provider: aws.Provider
    config: PlatformConfig
    account_id: str
    partition: str

    @property
    def prefix(self) -> str:
        return self.config.prefix

    @property
    def region(self) -> str:
        return self.config.aws_region

    def child(self, *parts: str) -> str:
        return "-".join((self.name, *parts))

    def opts(
        self,
        *,
        protect: bool = False,
        depends_on: Sequence[pulumi.Resource] = (),
        ignore_changes: Sequence[str] = (),
    ) -> pulumi.ResourceOptions:
        return pulumi.ResourceOptions(
            parent=self.parent,
            provider=self.provider,
            protect=protect,
            depends_on=list(depends_on),
            ignore_changes=list(ignore_changes) or None,
        )

    def data_opts(self, **kwargs: Any) -> pulumi.ResourceOptions:
        """Options of a resource holding data: `protect` follows deletion protection."""
        return self.opts(protect=self.config.deletion_protection, **kwargs)


def policy_json(build: Callable[..., dict[str, Any]], **inputs: Any) -> pulumi.Output[str]:
    """A policy document rendered once every ARN it names is known."""
    return pulumi.Output.all(**inputs).apply(lambda values: json.dumps(build(**values)))
