"""Phase Mirror CrossGuard policy pack entry point (`--policy-pack platform/policypack`).

The only place that builds a `PolicyPack`: constructing one starts `pulumi_policy`'s analyzer
gRPC server on 127.0.0.1 and prints its port for the Pulumi engine, then serves until killed.
Every rule comes from `phase_policy.rules`, the same objects the offline gate evaluates.
"""

from phase_policy import PACK_NAME
from phase_policy.rules import policies
from pulumi_policy import EnforcementLevel, PolicyPack

PolicyPack(
    name=PACK_NAME,
    policies=policies(),
    # Every rule sets its own level; this default only covers a rule that forgot to.
    enforcement_level=EnforcementLevel.MANDATORY,
    description="Phase Mirror platform guardrails (rule reference: docs/policy.md).",
    display_name="Phase Mirror platform guardrails",
    provider="aws,gcp",
    tags=["phase-mirror", "security", "data-protection"],
    repository="https://github.com/PhaseMirror/Phase-Mirror",
)
