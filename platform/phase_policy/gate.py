"""The offline preview gate: evaluate the pack over each (cloud, stack) graph, apply waivers,
compare the clouds' postures, and decide.

Graph loading is a callable per target so a program failure on one target is reported as a gate
error (exit 2) without hiding the others' findings.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import date

from google.protobuf import json_format, struct_pb2
from pulumi_policy import PolicyResource, PolicyResourceOptions
from pulumi_policy.deserialize import deserialize_properties
from pulumi_policy.policy import PolicyCustomTimeouts
from pulumi_policy.proxy import unknown_checking_proxy

from .analyzer import evaluate
from .findings import Finding, GateResult, TargetResult
from .graph import GraphError, StackGraph
from .posture import clouds_of, posture_of
from .rules import RULES
from .rules.base import Rule
from .waivers import Waiver, waiver_problems


@dataclass(frozen=True)
class TargetSpec:
    cloud: str
    stack: str
    load: Callable[[], StackGraph]


def policy_resources(graph: StackGraph) -> list[PolicyResource]:
    """The graph as `pulumi_policy` hands it to stack policies (same deserialization)."""
    made: dict[str, PolicyResource] = {}
    for r in graph.resources:
        struct = struct_pb2.Struct()
        struct.update(dict(r.inputs))
        props = unknown_checking_proxy(deserialize_properties(json_format.MessageToDict(struct)))
        opts = PolicyResourceOptions(
            r.protect, [], None, [], PolicyCustomTimeouts(0, 0, 0), [], r.parent
        )
        made[r.urn] = PolicyResource(r.type, props, r.urn, r.name, opts, None, None, [], {})
    for r in graph.resources:
        resource = made[r.urn]
        resource.parent = made.get(r.parent or "")
        resource.dependencies = [made[d] for d in r.dependencies if d in made]
        resource.property_dependencies = {
            k: [made[d] for d in v if d in made] for k, v in r.property_dependencies.items()
        }
    return list(made.values())


def _apply_waivers(
    finding: Finding, waivers: Sequence[Waiver], used: set[int], today: date
) -> Finding:
    for waiver in waivers:
        if waiver.expired(today):
            continue
        if waiver.matches(finding.rule_id, finding.cloud, finding.stack, finding.urn):
            used.add(waiver.index)
            return replace(finding, waiver=waiver)
    return finding


def evaluate_graph(
    cloud: str,
    graph: StackGraph,
    *,
    rules: Sequence[Rule] = RULES,
    waivers: Sequence[Waiver] = (),
    used: set[int] | None = None,
    today: date | None = None,
) -> TargetResult:
    evaluation = evaluate(graph, [rule.policy for rule in rules])
    used = set() if used is None else used
    today = today or date.today()
    findings = tuple(
        _apply_waivers(
            Finding(
                rule_id=d.policy,
                cloud=cloud,
                stack=graph.stack,
                urn=d.urn,
                message=d.message,
                enforcement=d.enforcement,
                severity=d.severity,
                unknown_at_preview=d.unknown_at_preview,
            ),
            waivers,
            used,
            today,
        )
        for d in evaluation.diagnostics
    )
    return TargetResult(
        cloud=cloud,
        stack=graph.stack,
        source=graph.source,
        resources=len(graph.resources),
        findings=findings,
        not_applicable=evaluation.not_applicable,
    )


def run_gate(
    targets: Sequence[TargetSpec],
    *,
    waivers: Sequence[Waiver] = (),
    today: date | None = None,
    rules: Sequence[Rule] = RULES,
) -> GateResult:
    today = today or date.today()
    used: set[int] = set()
    results: list[TargetResult] = []
    errors: list[str] = []
    postures: dict[str, list[dict[str, str]]] = defaultdict(list)
    evaluated: list[tuple[str, str]] = []
    for target in targets:
        try:
            graph = target.load()
        except GraphError as error:
            errors.append(f"{target.cloud}/{target.stack}: {error}")
            continue
        try:
            results.append(
                evaluate_graph(
                    target.cloud, graph, rules=rules, waivers=waivers, used=used, today=today
                )
            )
        except Exception as error:  # a rule must never crash; if one does, the gate cannot vouch
            errors.append(
                f"{target.cloud}/{target.stack}: the policy pack crashed: {type(error).__name__}: {error}"
            )
            continue
        evaluated.append((target.cloud, target.stack))
        resources = policy_resources(graph)
        for cloud in clouds_of(resources):
            scoped = [r for r in resources if r.resource_type.startswith(f"{cloud}:")]
            postures[target.stack].append(posture_of(cloud, scoped).row())
    problems = waiver_problems(waivers, used, today=today, targets=evaluated) if not errors else []
    return GateResult(
        targets=tuple(results),
        waivers=tuple(waivers),
        waiver_problems=tuple(problems),
        errors=tuple(errors),
        parity={stack: rows for stack, rows in postures.items() if len(rows) > 1},
        rule_ids=tuple(rule.id for rule in rules),
    )
