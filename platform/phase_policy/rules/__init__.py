"""Every rule of the pack, by stable id.

`RULES` is the single list the policy pack entry point, the offline gate and the docs read.
Ids never change meaning: a retired rule keeps its id reserved.
"""

from __future__ import annotations

from pulumi_policy import Policy

from . import aws, aws_compute, gcp, gcp_compute, stack
from .base import Rule, RuleMeta

RULES: tuple[Rule, ...] = tuple(
    sorted(
        (*aws.RULES, *aws_compute.RULES, *gcp.RULES, *gcp_compute.RULES, *stack.RULES),
        key=lambda rule: rule.id,
    )
)
RULES_BY_ID: dict[str, Rule] = {rule.id: rule for rule in RULES}

if len(RULES_BY_ID) != len(RULES):  # pragma: no cover - guards edits to the rule modules
    raise RuntimeError("duplicate rule id in phase_policy.rules")


def policies() -> list[Policy]:
    """The `pulumi_policy` policy objects, in rule-id order, for a PolicyPack or the gate."""
    return [rule.policy for rule in RULES]


def meta(rule_id: str) -> RuleMeta:
    return RULES_BY_ID[rule_id].meta


__all__ = ["RULES", "RULES_BY_ID", "meta", "policies"]
