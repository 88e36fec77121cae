"""Phase Mirror policy as code: the CrossGuard rules, the offline preview gate, waivers, the
stateful-deletion gate and the SARIF / JUnit writers.

Rules live in importable modules (`phase_policy.rules`) and are plain `pulumi_policy` policy
objects; only `platform/policypack/__main__.py` builds a `PolicyPack`, because constructing one
starts the analyzer's gRPC server. The offline gate (`phase_policy.gate`) evaluates the same
policy objects through `pulumi_policy`'s own analyzer code over Pulumi's mocked resource graph.
"""

from __future__ import annotations

PACK_NAME = "phase-mirror"
PACK_VERSION = "0.1.0"
#: The pulumi-policy release whose analyzer the offline gate drives (pinned in pyproject).
PULUMI_POLICY_VERSION = "1.21.0"
