"""The gate on the real Pulumi program (run under Pulumi's mocks by phase_platform.testing):
both clouds' real stacks pass, a first-preview view with unknown ids/ARNs neither crashes nor
blocks, and every deliberately broken variant of the program is caught with its rule id."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from phase_policy.findings import TargetResult
from phase_policy.gate import TargetSpec, evaluate_graph, run_gate
from phase_policy.graph import StackGraph
from phase_policy.program import program_graph
from phase_policy.rules import RULES_BY_ID
from phase_policy.waivers import load_waivers

from tests.policy.breakers import BROKEN, Broken, run_broken

TARGETS = [(cloud, stack) for cloud in ("aws", "gcp") for stack in ("staging", "production")]
WAIVER_FILE = Path(__file__).resolve().parents[2] / "platform" / "policypack" / "waivers.yaml"
WAIVERS = load_waivers(WAIVER_FILE, known_rules=RULES_BY_ID, today=date.today())
#: What the repository's waiver file may excuse on the real stacks: nothing.
WAIVED_DEBT: set[tuple[str, str, str]] = set()


def evaluate(cloud: str, graph: StackGraph) -> TargetResult:
    """The gate as CI runs it: with the repository's waiver file."""
    return evaluate_graph(cloud, graph, waivers=WAIVERS)


@pytest.fixture(scope="module")
def real_graphs() -> dict[tuple[str, str], StackGraph]:
    return {(cloud, stack): program_graph(cloud, stack) for cloud, stack in TARGETS}


@pytest.mark.parametrize(("cloud", "stack"), TARGETS)
def test_real_stack_passes_with_no_finding(
    real_graphs: dict[tuple[str, str], StackGraph], cloud: str, stack: str
) -> None:
    result = evaluate(cloud, real_graphs[(cloud, stack)])
    unwaived = [
        (f.rule_id, f.resource_name, f.message) for f in result.findings if not f.suppressed
    ]
    assert unwaived == []
    waived = {(cloud, f.rule_id, f.resource_name) for f in result.findings if f.suppressed}
    assert waived == WAIVED_DEBT
    assert result.resources > 40


def test_production_rules_apply_only_in_production(
    real_graphs: dict[tuple[str, str], StackGraph],
) -> None:
    staging = evaluate("aws", real_graphs[("aws", "staging")])
    production = evaluate("aws", real_graphs[("aws", "production")])
    production_only = {
        r
        for r, rule in RULES_BY_ID.items()
        if rule.meta.production_only and rule.meta.cloud in ("aws", "any")
    }
    skipped = {n.policy for n in staging.not_applicable if "production" in n.reason}
    assert production_only <= skipped
    assert not {n.policy for n in production.not_applicable if "production" in n.reason}


def test_gate_over_every_cloud_and_stack_passes_and_compares_postures() -> None:
    specs = [
        TargetSpec(cloud, stack, lambda c=cloud, s=stack: program_graph(c, s))
        for cloud, stack in TARGETS
    ]
    result = run_gate(specs, waivers=WAIVERS)
    assert result.exit_code == 0, result.errors
    assert set(result.parity) == {"staging", "production"}
    for rows in result.parity.values():
        assert [row["cloud"] for row in rows] == ["aws", "gcp"]
        assert len({tuple(v for k, v in row.items() if k != "cloud") for row in rows}) == 1


@pytest.mark.parametrize(("cloud", "stack"), TARGETS)
def test_first_preview_unknowns_never_crash_or_block(cloud: str, stack: str) -> None:
    graph = program_graph(cloud, stack, simulate_unknowns=True)
    unknown_inputs = sum(
        "04da6b54-80e4-46f7-96ec-b56ff0331ba9" in str(r.inputs) for r in graph.resources
    )
    assert unknown_inputs > 5  # the simulation really made ids and ARNs unknown
    result = evaluate(cloud, graph)
    assert not [f for f in result.findings if f.blocking]
    # What cannot be judged before the update is reported as such, never as a pass or a crash.
    assert all(
        f.unknown_at_preview and f.level == "note" for f in result.findings if not f.suppressed
    )


@pytest.mark.parametrize("broken", BROKEN, ids=[b.label for b in BROKEN])
def test_broken_program_is_caught(broken: Broken, tmp_path: Path) -> None:
    graph = run_broken(broken, tmp_path / broken.label)
    # A rule the repository waives for known debt is judged without the waiver file here.
    waived = {waiver.rule for waiver in WAIVERS}
    result = evaluate_graph(broken.cloud, graph, waivers=() if broken.rule in waived else WAIVERS)
    found = {f.rule_id for f in result.findings}
    assert broken.rule in found, [(f.rule_id, f.message) for f in result.findings]
    if RULES_BY_ID[broken.rule].meta.enforcement.value == "mandatory":
        assert any(f.rule_id == broken.rule and f.blocking for f in result.findings)
    else:
        assert not any(f.blocking for f in result.findings)


def test_broken_variants_cover_every_rule() -> None:
    assert {b.rule for b in BROKEN} == set(RULES_BY_ID)


@pytest.mark.parametrize("cloud", ["aws", "gcp"])
def test_private_configuration_passes_and_declares_nothing_public(cloud: str) -> None:
    """apiPublic false and the default ingress: no exposure label/tag, and the gate still
    passes (AWS routes then require AWS_IAM, Cloud Run has no public invoker)."""
    from phase_platform.testing import run_stack
    from phase_policy.compute import PUBLIC_TAG
    from phase_policy.program import graph_from_records

    run = run_stack(
        cloud,
        "staging",
        overrides={"apiPublic": False, "cloudRunIngress": "internal-and-cloud-load-balancing"},
    )
    graph = graph_from_records(run.resources, stack="staging", outputs=run.outputs)
    result = evaluate(cloud, graph)
    assert [f.rule_id for f in result.findings if not f.suppressed] == []
    assert not any(PUBLIC_TAG in str(r.inputs) for r in graph.resources)


@pytest.mark.parametrize("cloud", ["aws", "gcp"])
def test_public_configuration_is_declared_on_the_exposed_resource(
    real_graphs: dict[tuple[str, str], StackGraph], cloud: str
) -> None:
    """The shipped stacks serve the API publicly (apiPublic, cloudRunIngress all): the program
    declares it on the API (AWS tag) or the service (GCP label) the exposure rules read."""
    from phase_policy.compute import declared_facets

    wanted = {
        "aws": ("aws:apigatewayv2/api:Api", {"routes"}),
        "gcp": ("gcp:cloudrunv2/service:Service", {"ingress", "invoker"}),
    }
    type_, facets = wanted[cloud]
    [resource] = [r for r in real_graphs[(cloud, "staging")].resources if r.type == type_]
    assert declared_facets(resource.inputs) == facets
