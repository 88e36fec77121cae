"""A rule: stable id, metadata, and the `pulumi_policy` policy object that enforces it.

Each rule module declares its checks with `resource_rule(...)` / `stack_rule(...)`. The builders
wrap a small check function into a real `ResourceValidationPolicy` / `StackValidationPolicy`
(named by the rule id, so Pulumi's own output, waivers, SARIF and JUnit all use one id), and keep
the metadata (severity, remediation, Checkov/Trivy equivalents) next to it for the reports.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from pulumi_policy import (
    EnforcementLevel,
    Policy,
    PolicyResource,
    ReportViolation,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    Severity,
    StackValidationArgs,
    StackValidationPolicy,
)

from ..context import is_production

Cloud = Literal["aws", "gcp", "any"]
Scope = Literal["resource", "stack"]

DOCS_URL = "https://github.com/PhaseMirror/Phase-Mirror/blob/main/docs/policy.md"

MANDATORY = EnforcementLevel.MANDATORY
ADVISORY = EnforcementLevel.ADVISORY


@dataclass(frozen=True)
class RuleMeta:
    id: str
    #: Short kebab-case name, shown as Pulumi's display name and SARIF `name`.
    title: str
    description: str
    severity: Severity
    enforcement: EnforcementLevel
    remediation: str
    cloud: Cloud
    scope: Scope
    resource_types: tuple[str, ...]
    checkov: tuple[str, ...] = ()
    trivy: tuple[str, ...] = ()
    production_only: bool = False
    #: Pulumi AWSGuard policy names that check the same thing.
    awsguard: tuple[str, ...] = ()
    #: The rule of the other cloud (or the any-cloud stack rule) that checks the same promise.
    twin: str | None = None
    #: Why a cloud-specific rule has no twin (required when `twin` is None).
    one_cloud_reason: str | None = None

    @property
    def url(self) -> str:
        return f"{DOCS_URL}#{self.id.lower()}"

    @property
    def equivalents(self) -> tuple[str, ...]:
        return (*self.checkov, *self.trivy, *self.awsguard)


@dataclass(frozen=True)
class Rule:
    meta: RuleMeta
    policy: Policy = field(compare=False)

    @property
    def id(self) -> str:
        return self.meta.id


ResourceCheck = Callable[[ResourceValidationArgs, ReportViolation], None]
StackCheck = Callable[[StackValidationArgs, ReportViolation], None]


def _tags(meta: RuleMeta) -> list[str]:
    tags = [meta.cloud, meta.scope, *meta.equivalents]
    if meta.production_only:
        tags.append("production")
    return tags


def _policy_fields(meta: RuleMeta) -> dict[str, Any]:
    """The CrossGuard policy's metadata, taken from the rule's (one mapping for both kinds)."""
    return {
        "name": meta.id,
        "description": meta.description,
        "enforcement_level": meta.enforcement,
        "display_name": meta.title,
        "severity": meta.severity,
        "tags": _tags(meta),
        "remediation_steps": meta.remediation,
        "url": meta.url,
    }


def resource_rule(
    *,
    id: str,
    title: str,
    description: str,
    severity: Severity,
    remediation: str,
    cloud: Cloud,
    types: Sequence[str],
    enforcement: EnforcementLevel = MANDATORY,
    checkov: Sequence[str] = (),
    trivy: Sequence[str] = (),
    awsguard: Sequence[str] = (),
    production_only: bool = False,
    twin: str | None = None,
    one_cloud_reason: str | None = None,
) -> Callable[[ResourceCheck], Rule]:
    """Turn `check(args, report)` into a rule applying to resources of `types` only."""
    meta = RuleMeta(
        id=id,
        title=title,
        description=description,
        severity=severity,
        enforcement=enforcement,
        remediation=remediation,
        cloud=cloud,
        scope="resource",
        resource_types=tuple(types),
        checkov=tuple(checkov),
        trivy=tuple(trivy),
        production_only=production_only,
        awsguard=tuple(awsguard),
        twin=twin,
        one_cloud_reason=one_cloud_reason,
    )
    wanted = frozenset(types)

    def build(check: ResourceCheck) -> Rule:
        def validate(args: ResourceValidationArgs, report: ReportViolation) -> None:
            if args.resource_type not in wanted:
                return
            if production_only and not resource_is_production(args):
                args.not_applicable("applies to production stacks only")
            check(args, report)

        return Rule(meta, ResourceValidationPolicy(validate=validate, **_policy_fields(meta)))

    return build


def stack_rule(
    *,
    id: str,
    title: str,
    description: str,
    severity: Severity,
    remediation: str,
    cloud: Cloud = "any",
    types: Sequence[str] = (),
    enforcement: EnforcementLevel = MANDATORY,
    checkov: Sequence[str] = (),
    trivy: Sequence[str] = (),
    awsguard: Sequence[str] = (),
    production_only: bool = False,
    twin: str | None = None,
    one_cloud_reason: str | None = None,
) -> Callable[[StackCheck], Rule]:
    """Turn `check(args, report)` into a stack rule; `report(message, urn)` names the resource."""
    meta = RuleMeta(
        id=id,
        title=title,
        description=description,
        severity=severity,
        enforcement=enforcement,
        remediation=remediation,
        cloud=cloud,
        scope="stack",
        resource_types=tuple(types),
        checkov=tuple(checkov),
        trivy=tuple(trivy),
        production_only=production_only,
        awsguard=tuple(awsguard),
        twin=twin,
        one_cloud_reason=one_cloud_reason,
    )

    def build(check: StackCheck) -> Rule:
        def validate(args: StackValidationArgs, report: ReportViolation) -> None:
            if production_only and not _stack_is_production(args):
                args.not_applicable("applies to production stacks only")
            check(args, report)

        return Rule(meta, StackValidationPolicy(validate=validate, **_policy_fields(meta)))

    return build


def resource_is_production(args: ResourceValidationArgs) -> bool:
    """Whether the resource under check belongs to a production stack."""
    return is_production(urn=args.urn, config=args.get_config(), stack_tags=args.stack_tags)


def _stack_is_production(args: StackValidationArgs) -> bool:
    urn = next((r.urn for r in args.resources if r.urn), "")
    return is_production(urn=urn, config=args.get_config(), stack_tags=args.stack_tags)


def of_type(resources: Sequence[PolicyResource], *types: str) -> list[PolicyResource]:
    wanted = frozenset(types)
    return [r for r in resources if r.resource_type in wanted]
