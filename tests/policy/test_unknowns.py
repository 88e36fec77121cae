"""Unknown-at-preview values: presence checks pass on unknown ARNs/ids, value checks report
"can't run during preview" through pulumi_policy, and no rule ever crashes on any input."""

from __future__ import annotations

from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from phase_policy.analyzer import evaluate as analyze
from phase_policy.graph import graph_from_entries
from phase_policy.props import UNKNOWN, UNKNOWN_SENTINELS, present, read, value
from phase_policy.rules import RULES, policies

from tests.policy.builders import aws_stack, evaluate, gcp_stack, unknown_everywhere

COMPUTED = ("kmsKeyArn", "kmsMasterKeyId", "keyId", "kmsKeyName", "defaultKmsKeyName", "bucket")


def test_unknown_arns_and_ids_pass_presence_checks() -> None:
    for cloud, entries in (
        ("aws", aws_stack(production=True)),
        ("gcp", gcp_stack(production=True)),
    ):
        result = evaluate(unknown_everywhere(entries, COMPUTED), cloud=cloud, stack="production")
        assert [f for f in result.findings if f.blocking] == []


def test_unknown_documents_are_reported_as_undecidable_not_passed() -> None:
    entries = unknown_everywhere(aws_stack(), ("policy", "assumeRolePolicy"))
    result = evaluate(entries)
    undecided = {(f.rule_id, f.resource_name) for f in result.findings if f.unknown_at_preview}
    assert ("PM-AWS-012", "data-access") in undecided
    assert ("PM-AWS-013", "deploy-role") in undecided
    assert all(f.level == "note" and not f.blocking for f in result.findings)


def test_unknown_value_needed_for_a_verdict_is_undecidable() -> None:
    entries = unknown_everywhere(gcp_stack(), ("rotationPeriod",))
    result = evaluate(entries, cloud="gcp")
    [finding] = [f for f in result.findings if f.rule_id == "PM-GCP-003"]
    assert finding.unknown_at_preview and "can't be known during preview" in finding.message


def test_props_helpers_never_raise_on_proxies_or_plain_values() -> None:
    from pulumi_policy.proxy import unknown_checking_proxy

    sentinel = next(iter(UNKNOWN_SENTINELS))
    props = unknown_checking_proxy({"a": {"b": sentinel, "c": [1, sentinel]}, "d": None})
    assert read(props, "a", "b") is UNKNOWN
    assert read(props, "a", "c", 1) is UNKNOWN
    assert read(props, "a", "c", 5) is not UNKNOWN and not present(props, "a", "c", 5)
    assert present(props, "a", "b") and not present(props, "d") and not present(props, "x", "y")
    assert value(props, "a", "c", 0) == 1 and value(props, "nope", default=3) == 3
    assert read("text", "a") is not UNKNOWN and read({"a": "s"}, "a", 0) is not UNKNOWN


_TYPES = sorted({t for rule in RULES for t in rule.meta.resource_types})
_SENTINELS = sorted(UNKNOWN_SENTINELS)
_KEYS = st.sampled_from(
    [
        "name",
        "policy",
        "ttl",
        "enabled",
        "attributeName",
        "serverSideEncryption",
        "kmsKeyArn",
        "pointInTimeRecovery",
        "rules",
        "applyServerSideEncryptionByDefault",
        "sseAlgorithm",
        "kmsMasterKeyId",
        "replication",
        "auto",
        "userManaged",
        "replicas",
        "rotationPeriod",
        "attributeCondition",
        "oidc",
        "issuerUri",
        "role",
        "member",
        "members",
        "type",
        "keyId",
        "versioning",
        "encryption",
        "cmekConfig",
        "inlinePolicies",
        "assumeRolePolicy",
        "tags",
        "bucket",
        "versioningConfiguration",
        "status",
        "deletionWindowInDays",
        "purpose",
    ]
)
_LEAVES = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-10, 10**9),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=30),
    st.sampled_from(_SENTINELS),
    st.sampled_from(['{"Statement": [{"Effect": "Allow", "Action": "*"}]}', "7776000s", "*"]),
)
_VALUES = st.recursive(
    _LEAVES,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(_KEYS, inner, max_size=4),
    max_leaves=12,
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    resources=st.lists(
        st.tuples(st.sampled_from(_TYPES), st.dictionaries(_KEYS, _VALUES, max_size=6)),
        min_size=1,
        max_size=4,
    ),
    stack=st.sampled_from(["staging", "production"]),
)
def test_no_rule_crashes_on_any_input(
    resources: list[tuple[str, dict[str, Any]]], stack: str
) -> None:
    entries = [
        {"type": type_, "name": f"r{index}", "inputs": inputs}
        for index, (type_, inputs) in enumerate(resources)
    ]
    graph = graph_from_entries(entries, project="phase-mirror", stack=stack)
    evaluation = analyze(graph, policies())  # raises if any policy raises
    for diagnostic in evaluation.diagnostics:
        assert diagnostic.message and diagnostic.policy in {r.id for r in RULES}
