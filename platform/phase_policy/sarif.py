"""SARIF 2.1.0 for the gate's findings (GitHub code scanning reads it).

One run; the driver's rules are the pack's rules plus PM-GATE-001 (the waiver file itself).
Waived findings stay in `results` with a `suppressions` entry carrying the justification, so
code scanning shows them as dismissed rather than losing them. Results point at the stack's
config file (`Pulumi.<stack>.yaml`) and name the resource by URN as a logical location.
"""

from __future__ import annotations

import hashlib
from typing import Any

from . import PACK_VERSION
from .findings import Finding, GateResult
from .rules import RULES_BY_ID
from .rules.base import DOCS_URL, RuleMeta

SCHEMA_URI = "https://json.schemastore.org/sarif-2.1.0.json"
TOOL_NAME = "phase-mirror-gate"
GATE_RULE_ID = "PM-GATE-001"
#: GitHub maps `security-severity` (0-10) to critical/high/medium/low.
SECURITY_SEVERITY = {"critical": "9.5", "high": "8.0", "medium": "5.5", "low": "3.0", "": "5.0"}


def _rule(meta: RuleMeta) -> dict[str, Any]:
    equivalents = ", ".join(meta.equivalents) or "none (no mainstream scanner checks this)"
    return {
        "id": meta.id,
        "name": meta.title,
        "shortDescription": {"text": meta.description},
        "fullDescription": {
            "text": f"{meta.description} Equivalent checks: {equivalents}."
            + (" Production stacks only." if meta.production_only else "")
        },
        "helpUri": meta.url,
        "help": {
            "text": meta.remediation,
            "markdown": f"**Remediation:** {meta.remediation}\n\nEquivalent checks: {equivalents}.",
        },
        "defaultConfiguration": {
            "level": "error" if meta.enforcement.value == "mandatory" else "warning"
        },
        "properties": {
            "tags": ["security", "infrastructure", meta.cloud, *meta.equivalents],
            "security-severity": SECURITY_SEVERITY[meta.severity.value],
            "precision": "high",
            "enforcement": meta.enforcement.value,
            "scope": meta.scope,
        },
    }


def _gate_rule() -> dict[str, Any]:
    return {
        "id": GATE_RULE_ID,
        "name": "waiver-valid",
        "shortDescription": {"text": "Every waiver is current and still matches a finding."},
        "fullDescription": {
            "text": "An expired waiver, or one that matched nothing in a run covering its scope, fails the gate."
        },
        "helpUri": f"{DOCS_URL}#waivers",
        "help": {
            "text": "Fix the finding or renew the waiver (new expiry, review); delete waivers that match nothing."
        },
        "defaultConfiguration": {"level": "error"},
        "properties": {"tags": ["governance"], "security-severity": "5.0", "precision": "high"},
    }


def fingerprint(finding: Finding) -> str:
    key = "|".join((finding.rule_id, finding.cloud, finding.stack, finding.urn, finding.message))
    return hashlib.sha256(key.encode()).hexdigest()[:32]


def _location(uri: str, urn: str | None = None, name: str | None = None) -> dict[str, Any]:
    location: dict[str, Any] = {
        "physicalLocation": {"artifactLocation": {"uri": uri}, "region": {"startLine": 1}}
    }
    if urn:
        location["logicalLocations"] = [
            {"name": name or urn, "fullyQualifiedName": urn, "kind": "resource"}
        ]
    return location


def _artifact(finding: Finding, source: str) -> str:
    if source and not source.startswith("program"):
        return source
    return f"Pulumi.{finding.stack}.yaml"


def _result(finding: Finding, index: int, source: str) -> dict[str, Any]:
    where = f"{finding.resource_type} {finding.resource_name}" if finding.resource_type else "stack"
    result: dict[str, Any] = {
        "ruleId": finding.rule_id,
        "ruleIndex": index,
        "level": finding.level,
        "message": {"text": f"{finding.message} [{where}; {finding.cloud}/{finding.stack}]"},
        "locations": [_location(_artifact(finding, source), finding.urn, finding.resource_name)],
        "partialFingerprints": {"phaseMirrorFinding/v1": fingerprint(finding)},
        "properties": {
            "cloud": finding.cloud,
            "stack": finding.stack,
            "enforcement": finding.enforcement,
            "severity": finding.severity,
            "unknownAtPreview": finding.unknown_at_preview,
        },
    }
    if finding.waiver is not None:
        waiver = finding.waiver
        result["suppressions"] = [
            {
                "kind": "external",
                "status": "accepted",
                "justification": waiver.justification,
                "location": _location(waiver.source or "policy-waivers.yaml"),
                "properties": {
                    "owner": waiver.owner,
                    "expires": waiver.expires.isoformat(),
                    "resourcePattern": waiver.resource,
                },
            }
        ]
    return result


def to_sarif(result: GateResult) -> dict[str, Any]:
    rule_ids = list(result.rule_ids) or list(RULES_BY_ID)
    rules = [_rule(RULES_BY_ID[rule_id].meta) for rule_id in rule_ids] + [_gate_rule()]
    index = {rule["id"]: i for i, rule in enumerate(rules)}
    results = [
        _result(finding, index[finding.rule_id], target.source)
        for target in result.targets
        for finding in target.findings
        if finding.rule_id in index
    ]
    for problem in result.waiver_problems:
        results.append(
            {
                "ruleId": GATE_RULE_ID,
                "ruleIndex": index[GATE_RULE_ID],
                "level": "error",
                "message": {"text": problem.message},
                "locations": [_location(problem.waiver.source or "policy-waivers.yaml")],
                "properties": {"kind": problem.kind, "rule": problem.waiver.rule},
            }
        )
    notifications = [
        {"level": "error", "message": {"text": error}, "descriptor": {"id": "gate-error"}}
        for error in result.errors
    ]
    targets = ",".join(t.label for t in result.targets) or "none"
    return {
        "$schema": SCHEMA_URI,
        "version": "2.1.0",
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": TOOL_NAME,
                        "semanticVersion": PACK_VERSION,
                        "informationUri": DOCS_URL,
                        "rules": rules,
                    }
                },
                "automationDetails": {"id": f"{TOOL_NAME}/{targets}/"},
                "invocations": [
                    {
                        "executionSuccessful": not result.errors,
                        "exitCode": result.exit_code,
                        "toolExecutionNotifications": notifications,
                    }
                ],
                "results": results,
                "properties": {"verdict": result.verdict, "parity": result.parity},
            }
        ],
    }
