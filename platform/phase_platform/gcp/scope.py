"""What every GCP builder needs: the parent component, the provider, the config, the APIs."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import pulumi
import pulumi_gcp as gcp

from ..config import PlatformConfig


@dataclass(frozen=True)
class GcpScope:
    #: Logical name of the component; children are named `{name}-...`.
    name: str
    parent: pulumi.ComponentResource
    provider: gcp.Provider
    config: PlatformConfig
    #: Enabled APIs; every other resource waits for them.
    apis: tuple[pulumi.Resource, ...] = ()

    @property
    def prefix(self) -> str:
        return self.config.prefix

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
            depends_on=[*self.apis, *depends_on],
            ignore_changes=list(ignore_changes) or None,
        )

    def data_opts(
        self, *, depends_on: Sequence[pulumi.Resource] = (), ignore_changes: Sequence[str] = ()
    ) -> pulumi.ResourceOptions:
        """Options of a resource holding data: `protect` follows deletion protection."""
        return self.opts(
            protect=self.config.deletion_protection,
            depends_on=depends_on,
            ignore_changes=ignore_changes,
        )
