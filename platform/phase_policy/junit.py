"""JUnit XML for CI dashboards: one suite per (cloud, stack), one test case per rule.

A rule's case fails when it has a blocking finding on that target, is skipped when every finding
it has is waived, and passes otherwise (advisory, baselined and "undecidable at preview"
findings go to `system-out`). Waiver problems and gate errors get their own suite so a dashboard shows them.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET

from .findings import Finding, GateResult, TargetResult
from .rules import RULES_BY_ID


def _describe(finding: Finding) -> str:
    where = f"{finding.resource_type} {finding.resource_name}" if finding.resource_type else "stack"
    return f"[{finding.rule_id}] {where}: {finding.message}"


def _suite(target: TargetResult, rule_ids: list[str]) -> ET.Element:
    suite = ET.Element("testsuite", name=target.label)
    failures = skipped = 0
    for rule_id in rule_ids:
        meta = RULES_BY_ID[rule_id].meta
        findings = [f for f in target.findings if f.rule_id == rule_id]
        case = ET.SubElement(
            suite,
            "testcase",
            classname=f"{target.cloud}.{target.stack}",
            name=f"{rule_id} {meta.title}",
        )
        blocking = [f for f in findings if f.blocking]
        if blocking:
            failures += 1
            failure = ET.SubElement(
                case,
                "failure",
                message=f"{len(blocking)} violation(s) of {rule_id}: {meta.description}",
                type="mandatory",
            )
            failure.text = "\n".join(_describe(f) for f in blocking) + f"\nfix: {meta.remediation}"
        elif any(f.suppressed for f in findings):
            skipped += 1
            reasons = "; ".join(
                f"{f.resource_name}: {f.waiver.justification}" for f in findings if f.waiver
            )
            ET.SubElement(case, "skipped", message=f"waived: {reasons}")
        if findings and not blocking:
            out = ET.SubElement(case, "system-out")
            out.text = "\n".join(
                ("waived " if f.suppressed else "baselined " if f.baselined else f"{f.level} ")
                + _describe(f)
                for f in findings
            )
    suite.set("tests", str(len(rule_ids)))
    suite.set("failures", str(failures))
    suite.set("errors", "0")
    suite.set("skipped", str(skipped))
    return suite


def _gate_suite(result: GateResult) -> ET.Element | None:
    if not result.waiver_problems and not result.errors and not result.waivers:
        return None
    suite = ET.Element("testsuite", name="gate")
    failures = errors = 0
    for waiver in result.waivers:
        case = ET.SubElement(
            suite,
            "testcase",
            classname="gate.waivers",
            name=f"waiver #{waiver.index + 1} {waiver.rule}",
        )
        for problem in result.waiver_problems:
            if problem.waiver.index == waiver.index:
                failures += 1
                ET.SubElement(case, "failure", message=problem.message, type=problem.kind)
    for index, message in enumerate(result.errors):
        errors += 1
        case = ET.SubElement(suite, "testcase", classname="gate.run", name=f"target {index + 1}")
        ET.SubElement(case, "error", message=message, type="gate-error")
    suite.set("tests", str(len(result.waivers) + len(result.errors)))
    suite.set("failures", str(failures))
    suite.set("errors", str(errors))
    suite.set("skipped", "0")
    return suite


def to_junit(result: GateResult) -> str:
    rule_ids = list(result.rule_ids) or list(RULES_BY_ID)
    root = ET.Element("testsuites", name="phase-mirror-gate")
    suites = [_suite(target, rule_ids) for target in result.targets]
    gate = _gate_suite(result)
    if gate is not None:
        suites.append(gate)
    for suite in suites:
        root.append(suite)
    for attribute in ("tests", "failures", "errors", "skipped"):
        root.set(attribute, str(sum(int(s.get(attribute, "0")) for s in suites)))
    ET.indent(root)
    return ET.tostring(root, encoding="unicode", xml_declaration=True) + "\n"
