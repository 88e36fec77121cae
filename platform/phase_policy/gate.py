"""The offline preview gate: evaluate the pack over each (cloud, stack) graph, apply waivers
(the file's and the resources' own tags/labels), the baseline, compare the clouds' postures,
and decide.

Graph loading is a callable per target so a program failure on one target is reported as a gate
error (exit 2) without hiding the others' findings.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import date

from google.protobuf import json_format, struct_pb2
from pulumi_policy import PolicyResource, PolicyResourceOptions
from pulumi_policy.deserialize import deserialize_properties
from pulumi_policy.policy import PolicyCustomTimeouts
from pulumi_policy.proxy import unknown_checking_proxy

from .analyzer import Diagnostic, evaluate
from .findings import BaselineEntry, Finding, GateResult, TargetResult, split_path
from .graph import GraphError, StackGraph
from .inline_waivers import inline_waivers
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


def _findings(cloud: str, stack: str, diagnostics: Iterable[Diagnostic]) -> list[Finding]:
    """Diagnostics as findings with their property path; when one rule reports several findings
    with the same path on one resource, the 2nd, 3rd... (by message) get `#2`, `#3`..."""
    made = []
    for d in diagnostics:
        message, path = split_path(d.message)
        made.append(
            Finding(
                rule_id=d.policy,
                cloud=cloud,
                stack=stack,
                urn=d.urn,
                message=message,
                enforcement=d.enforcement,
                severity=d.severity,
                unknown_at_preview=d.unknown_at_preview,
                path=path,
            )
        )
    keys = Counter((f.rule_id, f.urn, f.path) for f in made)
    seen: Counter[tuple[str, str, str]] = Counter()
    order = sorted(range(len(made)), key=lambda i: made[i].message)
    for i in order:
        finding = made[i]
        key = (finding.rule_id, finding.urn, finding.path)
        if keys[key] > 1:
            seen[key] += 1
            if seen[key] > 1:
                made[i] = replace(finding, path=f"{finding.path}#{seen[key]}")
    return made


def evaluate_graph(
    cloud: str,
    graph: StackGraph,
    *,
    rules: Sequence[Rule] = RULES,
    waivers: Sequence[Waiver] = (),
    used: set[int] | None = None,
    today: date | None = None,
) -> TargetResult:
    evaluation = evaluate(
        graph,
        [rule.policy for rule in rules],
        resource_types={
            rule.id: frozenset(rule.meta.resource_types)
            for rule in rules
            if rule.meta.scope == "resource" and rule.meta.resource_types
        },
    )
    used = set() if used is None else used
    today = today or date.today()
    findings = tuple(
        _apply_waivers(finding, waivers, used, today)
        for finding in _findings(cloud, graph.stack, evaluation.diagnostics)
    )
    return TargetResult(
        cloud=cloud,
        stack=graph.stack,
        source=graph.source,
        resources=len(graph.resources),
        findings=findings,
        not_applicable=evaluation.not_applicable,
    )


def apply_baseline(
    results: Sequence[TargetResult], entries: Sequence[BaselineEntry]
) -> tuple[list[TargetResult], tuple[BaselineEntry, ...]]:
    """Mark the findings the baseline records (waived ones stay waived); the entries of the
    evaluated targets that no finding matches are stale."""
    known = {entry.fingerprint for entry in entries}
    marked = [
        replace(
            target,
            findings=tuple(
                replace(f, baselined=True) if f.fingerprint in known and not f.suppressed else f
                for f in target.findings
            ),
        )
        for target in results
    ]
    present = {f.fingerprint for target in results for f in target.findings}
    evaluated = {(t.cloud, t.stack) for t in results}
    stale = tuple(
        e for e in entries if (e.cloud, e.stack) in evaluated and e.fingerprint not in present
    )
    return marked, stale


def run_gate(
    targets: Sequence[TargetSpec],
    *,
    waivers: Sequence[Waiver] = (),
    today: date | None = None,
    rules: Sequence[Rule] = RULES,
    baseline: Sequence[BaselineEntry] | None = None,
    baseline_source: str = "",
) -> GateResult:
    """Evaluate every target. `baseline` (from `--baseline`): findings it records are reported as
    baselined and never block; its entries nothing matched any more are listed as stale."""
    today = today or date.today()
    used: set[int] = set()
    every_waiver = list(waivers)
    rule_ids = [rule.id for rule in rules]
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
        inline, malformed = inline_waivers(
            graph, target.cloud, known_rules=rule_ids, today=today, start=len(every_waiver)
        )
        every_waiver += inline
        errors += malformed
        try:
            results.append(
                evaluate_graph(
                    target.cloud,
                    graph,
                    rules=rules,
                    waivers=[*waivers, *inline],
                    used=used,
                    today=today,
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
    problems = (
        waiver_problems(every_waiver, used, today=today, targets=evaluated) if not errors else []
    )
    stale: tuple[BaselineEntry, ...] = ()
    if baseline is not None:
        results, stale = apply_baseline(results, baseline)
    return GateResult(
        targets=tuple(results),
        waivers=tuple(every_waiver),
        waiver_problems=tuple(problems),
        errors=tuple(errors),
        parity={stack: rows for stack, rows in postures.items() if len(rows) > 1},
        rule_ids=tuple(rule_ids),
        baseline=(baseline_source or "baseline") if baseline is not None else "",
        stale=stale,
    )
