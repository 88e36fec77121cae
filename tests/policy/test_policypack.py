"""The policy pack as the Pulumi engine runs it: `platform/policypack/__main__.py` started as a
process serves `pulumi_policy`'s analyzer over gRPC on 127.0.0.1; the engine's own calls
(GetAnalyzerInfo, Analyze, AnalyzeStack) get exactly what the offline gate computes."""

from __future__ import annotations

import copy
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import grpc
import pytest
import yaml
from google.protobuf import empty_pb2
from phase_policy import PACK_NAME, PACK_VERSION, PULUMI_POLICY_VERSION
from phase_policy.analyzer import _resource_request, _stack_resource, evaluate
from phase_policy.graph import graph_from_entries
from phase_policy.rules import RULES, policies
from pulumi.runtime import proto
from pulumi.runtime.proto import analyzer_pb2_grpc

from tests.policy.builders import aws_stack, setting

ROOT = Path(__file__).resolve().parents[2]
PACK_DIR = ROOT / "platform" / "policypack"


@pytest.fixture(scope="module")
def analyzer() -> Iterator[analyzer_pb2_grpc.AnalyzerStub]:
    process = subprocess.Popen(
        [sys.executable, str(PACK_DIR / "__main__.py")],
        cwd=PACK_DIR,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        line = process.stdout.readline().strip()
        assert line.isdigit(), f"expected the port on stdout, got {line!r}: {process.stderr}"
        channel = grpc.insecure_channel(f"127.0.0.1:{line}")
        grpc.channel_ready_future(channel).result(timeout=30)
        yield analyzer_pb2_grpc.AnalyzerStub(channel)
        channel.close()
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


def test_pack_manifest_matches_the_package() -> None:
    manifest = yaml.safe_load((PACK_DIR / "PulumiPolicy.yaml").read_text())
    assert manifest["version"] == PACK_VERSION
    assert manifest["runtime"]["name"] == "python"
    venv = (PACK_DIR / manifest["runtime"]["options"]["virtualenv"]).resolve()
    assert venv == ROOT / ".venv"
    pyproject = (ROOT / "pyproject.toml").read_text()
    assert f'"pulumi-policy=={PULUMI_POLICY_VERSION}"' in pyproject


def test_served_analyzer_announces_every_rule(analyzer: analyzer_pb2_grpc.AnalyzerStub) -> None:
    info = analyzer.GetAnalyzerInfo(empty_pb2.Empty())
    assert info.name == PACK_NAME
    announced = {p.name: p for p in info.policies}
    assert set(announced) == {rule.id for rule in RULES}
    for rule in RULES:
        policy = announced[rule.id]
        assert policy.description == rule.meta.description
        assert policy.remediation_steps == rule.meta.remediation
        level = proto.MANDATORY if rule.meta.enforcement.value == "mandatory" else proto.ADVISORY
        assert policy.enforcementLevel == level


def test_served_analyzer_agrees_with_the_offline_gate(
    analyzer: analyzer_pb2_grpc.AnalyzerStub,
) -> None:
    entries = aws_stack(production=True)
    setting("table-fp-events", "pointInTimeRecovery.enabled", False)(entries)
    setting("key", "deletionWindowInDays", 7)(entries)
    graph = graph_from_entries(copy.deepcopy(entries), project="phase-mirror", stack="production")
    offline = evaluate(graph, policies())

    served: list[tuple[str, str, str]] = []
    for resource in graph.resources:
        response = analyzer.Analyze(_resource_request(resource))
        served += [(d.policyName, resource.urn, d.message) for d in response.diagnostics]
    stack = analyzer.AnalyzeStack(
        proto.AnalyzeStackRequest(resources=[_stack_resource(r) for r in graph.resources])
    )
    served += [(d.policyName, d.urn or graph.stack_urn, d.message) for d in stack.diagnostics]

    def key(item: tuple[str, str, str]) -> tuple[str, str]:
        return item[0], item[1]

    assert sorted(map(key, served)) == sorted((d.policy, d.urn) for d in offline.diagnostics)
    assert {"PM-AWS-001", "PM-AWS-006", "PM-STACK-002"} <= {p for p, _, _ in served}
    for _, _, message in served:  # the analyzer prefixes the rule description
        assert any(message.startswith(rule.meta.description) for rule in RULES)
