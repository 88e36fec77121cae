"""SARIF 2.1.0 rendering of a report, for GitHub code scanning and other SARIF consumers.

Rule metadata comes from the rule specs (help text lists each check's remediation; the
`security-severity` property drives GitHub's severity badge). Results carry the finding
fingerprint in `partialFingerprints`, suppressed findings carry an accepted external suppression,
and the decision, degraded reasons and the seal ride in the run's `phaseMirror` property bag.
"""

from __future__ import annotations

from typing import Any

from .report_schema import SCHEMA_ID
from .rules import RULES

INFORMATION_URI = "https://github.com/PhaseMirror/Phase-Mirror"
SARIF_SCHEMA_URI = "https://json.schemastore.org/sarif-2.1.0.json"
FINGERPRINT_KEY = "phaseMirrorFinding/v1"

_LEVEL = {"critical": "error", "high": "error", "medium": "warning", "low": "note"}
_SECURITY_SEVERITY = {"critical": "9.5", "high": "8.0", "medium": "5.5", "low": "3.0"}


def _rules() -> list[dict[str, Any]]:
    descriptors = []
    for rule in RULES:
        spec = rule.spec
        worst = max(spec.checks, key=lambda c: c.severity.rank).severity.value
        checks_md = "\n".join(
            f"- **{c.id}** ({c.severity.value}): {c.title}. {c.remediation}" for c in spec.checks
        )
        descriptors.append(
            {
                "id": spec.id,
                "name": spec.name,
                "shortDescription": {"text": spec.title},
                "fullDescription": {"text": spec.description},
                "help": {
                    "text": spec.description
                    + "\n"
                    + "\n".join(f"{c.id}: {c.remediation}" for c in spec.checks),
                    "markdown": f"{spec.description}\n\n{checks_md}",
                },
                "helpUri": f"{INFORMATION_URI}/blob/main/docs/oracle.md#{spec.id.lower()}",
                "defaultConfiguration": {"level": _LEVEL[worst]},
                "properties": {
                    "tags": list(spec.tags),
                    "security-severity": _SECURITY_SEVERITY[worst],
                    "precision": "high",
                    "version": spec.version,
                },
            }
        )
    return descriptors


def _result(finding: dict[str, Any], index: dict[str, int], suppressed: bool) -> dict[str, Any]:
    location: dict[str, Any] = {}
    if finding["path"]:
        physical: dict[str, Any] = {
            "artifactLocation": {"uri": finding["path"], "uriBaseId": "%SRCROOT%"}
        }
        if finding["line"]:
            physical["region"] = {"startLine": finding["line"]}
        location["physicalLocation"] = physical
    if finding["logical_location"]:
        location["logicalLocations"] = [
            {"fullyQualifiedName": finding["logical_location"], "kind": "resource"}
        ]
    result: dict[str, Any] = {
        "ruleId": finding["rule_id"],
        "ruleIndex": index[finding["rule_id"]],
        "level": _LEVEL[finding["severity"]],
        "message": {
            "text": f"{finding['message']} Fix: {finding['remediation']}",
        },
        "locations": [location] if location else [],
        "partialFingerprints": {FINGERPRINT_KEY: finding["fingerprint"]},
        "properties": {
            "check": finding["check"],
            "severity": finding["severity"],
            "evidence": finding["evidence"],
            "circuitBreaker": finding["circuit_breaker"],
            "ruleVersion": finding["rule_version"],
        },
    }
    if suppressed:
        result["suppressions"] = [
            {
                "kind": "external",
                "status": "accepted",
                "justification": "marked false positive in the Phase Mirror FP store",
            }
        ]
    return result


def to_sarif(report: dict[str, Any]) -> dict[str, Any]:
    rules = _rules()
    index = {rule["id"]: i for i, rule in enumerate(rules)}
    results = [_result(f, index, False) for f in report["findings"]]
    results += [_result(f, index, True) for f in report["suppressed"]]
    decision = report["machine_decision"]
    run: dict[str, Any] = {
        "tool": {
            "driver": {
                "name": "phase-mirror",
                "version": report["tool"]["version"],
                "semanticVersion": report["tool"]["version"],
                "informationUri": INFORMATION_URI,
                "rules": rules,
            }
        },
        "automationDetails": {"id": f"phase-mirror/{report['run']['mode']}/"},
        "invocations": [
            {
                "executionSuccessful": not decision["unable_to_vouch"],
                "exitCode": decision["exit_code"],
                "toolExecutionNotifications": [
                    {
                        "level": "error" if d["fail"] == "closed" else "warning",
                        "message": {"text": f"degraded: {d['reason']}: {d['detail']}"},
                    }
                    for d in report["degraded"]
                ],
            }
        ],
        "results": results,
        "properties": {
            "phaseMirror": {
                "reportSchema": SCHEMA_ID,
                "schemaHash": report["schema_hash"],
                "repository": report["repository"],
                "machineDecision": decision,
                "degraded": report["degraded"],
                "notEvaluated": report["not_evaluated"],
                "l0": report["l0"],
                "generatedAt": report["generated_at"],
            }
        },
    }
    if report["repository"]["head_sha"]:
        run["versionControlProvenance"] = [
            {
                "repositoryUri": f"https://github.com/{report['repository']['name']}",
                "revisionId": report["repository"]["head_sha"],
            }
        ]
    return {"$schema": SARIF_SCHEMA_URI, "version": "2.1.0", "runs": [run]}
