"""Every cloud-specific rule has a twin on the other cloud, or a documented reason why not.

A promise the pack makes on one cloud (PITR, a deletion window, no public grant, alerts that
notify) must be kept on the other, unless the other cloud has nothing to check; the reason is
then part of the rule's metadata and of docs/policy.md."""

from __future__ import annotations

from pathlib import Path

import pytest
from phase_policy.rules import RULES, RULES_BY_ID
from phase_policy.rules.base import Rule

DOC = (Path(__file__).resolve().parents[2] / "docs" / "policy.md").read_text()
OTHER = {"aws": "gcp", "gcp": "aws"}
ONE_CLOUD = [r for r in RULES if r.meta.cloud in OTHER]


@pytest.mark.parametrize("rule", ONE_CLOUD, ids=[r.id for r in ONE_CLOUD])
def test_cloud_rule_has_a_twin_or_a_reason(rule: Rule) -> None:
    meta = rule.meta
    assert (meta.twin is None) != (meta.one_cloud_reason is None), (
        f"{rule.id} needs exactly one of `twin` (a rule of the other cloud) or "
        "`one_cloud_reason` (why the other cloud has nothing to check)"
    )
    if meta.twin is not None:
        twin = RULES_BY_ID.get(meta.twin)
        assert twin is not None, f"{rule.id}: twin {meta.twin} is not a rule"
        assert twin.meta.cloud in (OTHER[meta.cloud], "any"), (
            f"{rule.id}: twin {meta.twin} applies to {twin.meta.cloud}, not to {OTHER[meta.cloud]}"
        )
    else:
        assert meta.one_cloud_reason and len(meta.one_cloud_reason) > 30


def test_stack_rules_apply_to_every_cloud() -> None:
    assert all(
        r.meta.cloud == "any"
        for r in RULES
        if r.meta.scope == "stack" and r.id.startswith("PM-STACK")
    )


@pytest.mark.parametrize("rule", ONE_CLOUD, ids=[r.id for r in ONE_CLOUD])
def test_docs_state_the_twin_or_the_reason(rule: Rule) -> None:
    anchor = f'<a id="{rule.id.lower()}"></a>'
    section = DOC.split(anchor, 1)[1].split("<a id=", 1)[0]
    if rule.meta.twin is not None:
        assert f"Twin: {rule.meta.twin}" in section, rule.id
    else:
        assert f"One cloud only: {rule.meta.one_cloud_reason}" in section, rule.id


@pytest.mark.parametrize("rule", RULES, ids=[r.id for r in RULES])
def test_docs_say_exactly_what_the_rule_checks(rule: Rule) -> None:
    anchor = f'<a id="{rule.id.lower()}"></a>'
    section = DOC.split(anchor, 1)[1].split("<a id=", 1)[0]
    assert rule.meta.description in section
    assert rule.meta.remediation in section
    for peer in rule.meta.equivalents:
        assert peer in section, (rule.id, peer)
