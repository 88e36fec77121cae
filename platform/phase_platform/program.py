"""The Pulumi program: read and validate the stack config, build the cloud's component,
export its outputs. `__main__.py` at the repository root calls `main()`."""

from __future__ import annotations

from typing import Any

import pulumi

from .config import PlatformConfig, load_config

COMPONENT_NAME = "phase-mirror"


def build(config: PlatformConfig) -> dict[str, Any]:
    """Build the configured cloud's component and return its outputs; the other cloud's SDK
    is never imported."""
    if config.cloud == "aws":
        from .aws.platform import AwsPlatform

        return AwsPlatform(COMPONENT_NAME, config).outputs
    from .gcp.platform import GcpPlatform

    return GcpPlatform(COMPONENT_NAME, config).outputs


def main() -> None:
    for name, value in build(load_config()).items():
        pulumi.export(name, value)
