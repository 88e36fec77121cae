"""What every AWS builder needs: the parent component, the provider, the config, the account."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_aws as aws

from ..config import PlatformConfig
from ..scope import ComponentScope


@dataclass(frozen=True)
class AwsScope(ComponentScope):
    #: Logical name of the component; children are named `{name}-...`.
    name: str
    parent: pulumi.ComponentResource
    provider: aws.Provider
    config: PlatformConfig
    account_id: str
    partition: str

    @property
    def region(self) -> str:
        return self.config.aws_region


def policy_json(build: Callable[..., dict[str, Any]], **inputs: Any) -> pulumi.Output[str]:
    """A policy document rendered once every ARN it names is known."""
    return pulumi.Output.all(**inputs).apply(lambda values: json.dumps(build(**values)))
