"""Drive `pulumi_policy`'s own analyzer offline over a resource graph.

`pulumi preview --policy-pack` starts the pack, which serves `pulumi_policy`'s analyzer over gRPC;
the engine then calls `Analyze` once per resource and `AnalyzeStack` once with every resource.
Here the very same servicer class is instantiated without a server and called with the very same
protobuf requests, so enforcement levels, unknown-value handling ("can't run policy during
preview"), not-applicable reasons and diagnostics come from `pulumi_policy` itself, not from a
re-implementation. The servicer class is private to `pulumi_policy`, hence the version pin.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import pulumi_policy
from google.protobuf import struct_pb2
from pulumi.runtime import proto
from pulumi_policy import Policy, ResourceValidationPolicy
from pulumi_policy.policy import _PolicyAnalyzerServicer
from pulumi_policy.version import VERSION as PULUMI_POLICY_INSTALLED

from . import PACK_NAME, PACK_VERSION, PULUMI_POLICY_VERSION
from .graph import StackGraph, StackResource

_LEVELS = {
    proto.ADVISORY: "advisory",
    proto.MANDATORY: "mandatory",
    proto.DISABLED: "disabled",
    proto.REMEDIATE: "remediate",
}
_SEVERITIES = {
    proto.POLICY_SEVERITY_UNSPECIFIED: "",
    proto.POLICY_SEVERITY_LOW: "low",
    proto.POLICY_SEVERITY_MEDIUM: "medium",
    proto.POLICY_SEVERITY_HIGH: "high",
    proto.POLICY_SEVERITY_CRITICAL: "critical",
}
#: Prefix of the diagnostic `pulumi_policy` emits when a policy read an unknown value.
CANNOT_RUN_PREFIX = "can't run policy"


class AnalyzerVersionError(RuntimeError):
    """The installed pulumi-policy is not the version the offline driver was written against."""


@dataclass(frozen=True)
class Diagnostic:
    policy: str
    #: The resource the diagnostic is about; the stack URN for stack-wide findings.
    urn: str
    message: str
    enforcement: str
    severity: str
    #: True for "can't run policy during preview" (the policy needed an unknown value).
    unknown_at_preview: bool = False


@dataclass(frozen=True)
class NotApplicable:
    policy: str
    urn: str
    reason: str


@dataclass(frozen=True)
class Evaluation:
    graph: StackGraph
    diagnostics: tuple[Diagnostic, ...]
    not_applicable: tuple[NotApplicable, ...]


def check_version() -> None:
    if PULUMI_POLICY_INSTALLED != PULUMI_POLICY_VERSION:
        raise AnalyzerVersionError(
            f"pulumi-policy {PULUMI_POLICY_INSTALLED} is installed but the offline gate drives the "
            f"analyzer of {PULUMI_POLICY_VERSION} (install pulumi-policy=={PULUMI_POLICY_VERSION}, "
            "as pinned in pyproject.toml)"
        )


def _struct(inputs: object) -> struct_pb2.Struct:
    struct = struct_pb2.Struct()
    if isinstance(inputs, dict):
        struct.update(inputs)
    return struct


def _options(resource: StackResource) -> proto.AnalyzerResourceOptions:
    return proto.AnalyzerResourceOptions(protect=resource.protect, parent=resource.parent or "")


def _resource_request(resource: StackResource) -> proto.AnalyzeRequest:
    return proto.AnalyzeRequest(
        type=resource.type,
        properties=_struct(resource.inputs),
        urn=resource.urn,
        name=resource.name,
        options=_options(resource),
    )


def _stack_resource(resource: StackResource) -> proto.AnalyzerResource:
    return proto.AnalyzerResource(
        type=resource.type,
        properties=_struct(resource.inputs),
        urn=resource.urn,
        name=resource.name,
        options=_options(resource),
        parent=resource.parent or "",
        dependencies=list(resource.dependencies),
        propertyDependencies={
            key: proto.AnalyzerPropertyDependencies(urns=list(urns))
            for key, urns in resource.property_dependencies.items()
        },
    )


def _diagnostic(raw: proto.AnalyzeDiagnostic, default_urn: str) -> Diagnostic:
    message = raw.message
    unknown = message.startswith(CANNOT_RUN_PREFIX)
    # `pulumi_policy` prefixes the policy description to every violation message; keep the detail.
    if not unknown and raw.description and message.startswith(raw.description):
        message = message[len(raw.description) :].lstrip("\n") or raw.description
    return Diagnostic(
        policy=raw.policyName,
        urn=raw.urn or default_urn,
        message=message,
        enforcement=_LEVELS.get(raw.enforcementLevel, "advisory"),
        severity=_SEVERITIES.get(raw.severity, ""),
        unknown_at_preview=unknown,
    )


def new_servicer(policies: Sequence[Policy]) -> _PolicyAnalyzerServicer:
    """The analyzer a PolicyPack would serve, without the server."""
    check_version()
    return _PolicyAnalyzerServicer(
        PACK_NAME, PACK_VERSION, list(policies), pulumi_policy.EnforcementLevel.ADVISORY
    )


def _configured(policies: Sequence[Policy], graph: StackGraph) -> _PolicyAnalyzerServicer:
    servicer = new_servicer(policies)
    servicer.ConfigureStack(
        proto.AnalyzerStackConfigureRequest(
            stack=graph.stack, project=graph.project, dry_run=True, tags=dict(graph.tags)
        ),
        None,
    )
    return servicer


def evaluate(
    graph: StackGraph,
    policies: Sequence[Policy],
    *,
    resource_types: Mapping[str, frozenset[str]] | None = None,
) -> Evaluation:
    """Every resource through `Analyze`, then the whole graph through `AnalyzeStack`.

    `pulumi_policy`'s `Analyze` deserializes a resource's properties once per policy it holds.
    With `resource_types` (policy name -> the types its validation looks at; a policy not named
    there sees every resource), each resource goes to an analyzer holding only the resource
    policies for its type: the same policies run on it, the others would return at once."""
    known = resource_types or {}
    resource_policies = [p for p in policies if isinstance(p, ResourceValidationPolicy)]
    servicers: dict[str, _PolicyAnalyzerServicer | None] = {}

    def servicer_for(kind: str) -> _PolicyAnalyzerServicer | None:
        """None: no policy looks at this type (an analyzer needs at least one)."""
        if kind not in servicers:
            chosen = [p for p in resource_policies if kind in known.get(p.name, (kind,))]
            servicers[kind] = _configured(chosen, graph) if chosen else None
        return servicers[kind]

    diagnostics: list[Diagnostic] = []
    not_applicable: list[NotApplicable] = []
    for resource in graph.resources:
        servicer = servicer_for(resource.type if known else "")
        if servicer is None:
            continue
        response = servicer.Analyze(_resource_request(resource), None)  # type: ignore[no-untyped-call]
        diagnostics += [_diagnostic(d, resource.urn) for d in response.diagnostics]
        not_applicable += [
            NotApplicable(n.policy_name, resource.urn, n.reason) for n in response.not_applicable
        ]
    stack_policies = [p for p in policies if not isinstance(p, ResourceValidationPolicy)]
    if stack_policies:
        response = _configured(stack_policies, graph).AnalyzeStack(  # type: ignore[no-untyped-call]
            proto.AnalyzeStackRequest(resources=[_stack_resource(r) for r in graph.resources]),
            None,
        )
        diagnostics += [_diagnostic(d, graph.stack_urn) for d in response.diagnostics]
        not_applicable += [
            NotApplicable(n.policy_name, graph.stack_urn, n.reason) for n in response.not_applicable
        ]
    return Evaluation(graph, tuple(diagnostics), tuple(not_applicable))


def policy_levels(policies: Sequence[Policy]) -> dict[str, str]:
    """Policy name -> enforcement level as the analyzer announces it (`GetAnalyzerInfo`)."""
    info = new_servicer(policies).GetAnalyzerInfo(None, None)  # type: ignore[no-untyped-call]
    return {p.name: _LEVELS.get(p.enforcementLevel, "advisory") for p in info.policies}


__all__ = [
    "AnalyzerVersionError",
    "Diagnostic",
    "Evaluation",
    "NotApplicable",
    "evaluate",
    "policy_levels",
]
