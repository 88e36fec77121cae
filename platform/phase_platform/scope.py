"""What the AWS and GCP scopes share: child naming and resource options under the component."""

from __future__ import annotations

from collections.abc import Sequence

import pulumi

from .config import PlatformConfig


class ComponentScope:
    """Mixin for the per-cloud scope dataclasses, which supply these attributes."""

    #: Logical name of the component; children are named `{name}-...`.
    name: str
    parent: pulumi.ComponentResource
    provider: pulumi.ProviderResource
    config: PlatformConfig

    @property
    def prefix(self) -> str:
        return self.config.prefix

    def implicit_dependencies(self) -> Sequence[pulumi.Resource]:
        """Resources every child waits for (none by default)."""
        return ()

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
            depends_on=[*self.implicit_dependencies(), *depends_on],
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
