"""What a rule needs to know about the stack it runs on: the environment.

CrossGuard gives a policy the resource URN, its policy config and the stack's tags, but not the
stack's config. The environment therefore comes from, in order: the policy config property
`environment` (`--policy-pack-config`), the stack tag `phase-mirror:environment`, and finally the
stack name inside the URN (`urn:pulumi:<stack>::<project>::<type>::<name>`), where a stack named
`production`, `prod`, `acme-production` or `production-gcp` is production.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

ENVIRONMENT_TAG = "phase-mirror:environment"
PRODUCTION_NAMES = frozenset({"production", "prod"})
_TOKEN = re.compile(r"[-_.]")


def stack_from_urn(urn: str) -> str:
    """`urn:pulumi:production::phase-mirror::aws:kms/key:Key::k` -> `production` ('' if malformed)."""
    if not urn.startswith("urn:pulumi:"):
        return ""
    return urn[len("urn:pulumi:") :].split("::", 1)[0]


def is_production_name(name: str) -> bool:
    tokens = _TOKEN.split(name.lower().rsplit("/", 1)[-1])
    return any(token in PRODUCTION_NAMES for token in tokens)


def environment(
    *,
    urn: str,
    config: Mapping[str, Any] | None = None,
    stack_tags: Mapping[str, str] | None = None,
) -> str:
    """The environment name: `production` or whatever else the stack is (`staging`, `dev`...)."""
    configured = (config or {}).get("environment")
    if isinstance(configured, str) and configured:
        return "production" if is_production_name(configured) else configured
    tagged = (stack_tags or {}).get(ENVIRONMENT_TAG)
    if tagged:
        return "production" if is_production_name(tagged) else tagged
    stack = stack_from_urn(urn)
    return "production" if is_production_name(stack) else (stack or "unknown")


def is_production(
    *,
    urn: str,
    config: Mapping[str, Any] | None = None,
    stack_tags: Mapping[str, str] | None = None,
) -> bool:
    return environment(urn=urn, config=config, stack_tags=stack_tags) == "production"
