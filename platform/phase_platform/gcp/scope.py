"""What every GCP builder needs: the parent component, the provider, the config, the APIs."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import pulumi
import pulumi_gcp as gcp

from ..config import PlatformConfig
from ..scope import ComponentScope


@dataclass(frozen=True)
class GcpScope(ComponentScope):
    #: Logical name of the component; children are named `{name}-...`.
    name: str
    parent: pulumi.ComponentResource
    provider: gcp.Provider
    config: PlatformConfig
    #: Enabled APIs; every other resource waits for them.
    apis: tuple[pulumi.Resource, ...] = ()

    @property
    def project(self) -> str:
        return self.config.gcp_project

    @property
    def location(self) -> str:
        return self.config.gcp_location

    @property
    def deletion_policy(self) -> str:
        """Provider-side guard: PREVENT makes a destroy or replacement fail in production."""
        return "PREVENT" if self.config.deletion_protection else "DELETE"

    def implicit_dependencies(self) -> Sequence[pulumi.Resource]:
        return self.apis
