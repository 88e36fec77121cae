"""SARIF 2.1.0 for the gate's findings (GitHub code scanning reads it).

One run; the driver's rules are the pack's rules plus PM-GATE-001 (the waivers themselves).
Waived findings stay in `results` with a `suppressions` entry carrying the justification (kind
`external` for the waiver file, `inSource` for a waiver tag/label on the resource), so code
scanning shows them as dismissed rather than losing them; with `--baseline`, every result has a
`baselineState` (`new` / `unchanged`) and baselined ones are suppressed as accepted debt.
Results point at the stack's config file (`Pulumi.<stack>.yaml`) and name the resource by URN as
a logical location.

Fingerprints: `partialFingerprints` hold the finding's identity hash (rule id + resource URN +
property path, `findings.fingerprint`) under `phaseMirrorIdentity/v1`, and as
`primaryLocationLineHash`, the one key GitHub code scanning reads: every result points at line 1
of the stack file, so a line-content hash would merge every finding of a rule into one alert.
The shape respects GitHub's documented ingestion limits (see `GITHUB_LIMITS`).
"""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path
from typing import Any

from . import PACK_VERSION
from .findings import Finding, GateResult, fingerprint
from .rules import RULES_BY_ID
from .rules.base import DOCS_URL, RuleMeta

SCHEMA_URI = "https://json.schemastore.org/sarif-2.1.0.json"
TOOL_NAME = "phase-mirror-gate"
GATE_RULE_ID = "PM-GATE-001"
#: GitHub maps `security-severity` (0-10) to critical/high/medium/low.
SECURITY_SEVERITY = {"critical": "9.5", "high": "8.0", "medium": "5.5", "low": "3.0", "": "5.0"}
FINGERPRINT_KEY = "phaseMirrorIdentity/v1"
#: GitHub code scanning's documented limits on an uploaded SARIF file (docs.github.com, "SARIF
#: support for code scanning"): above a maximum the upload is rejected.
GITHUB_LIMITS = {
    "runs": 20,
    "results_per_run": 25_000,
    "rules_per_run": 25_000,
    "locations_per_result": 1_000,
    "tags_per_rule": 20,
    "rule_name": 255,
    "description": 1024,
}


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "\u2026"


def _rule(meta: RuleMeta) -> dict[str, Any]:
    equivalents = ", ".join(meta.equivalents) or "none (no mainstream scanner checks this)"
    limit = GITHUB_LIMITS["description"]
    tags = ["security", "infrastructure", meta.cloud, *meta.equivalents]
    return {
        "id": meta.id,
        "name": _clip(meta.title, GITHUB_LIMITS["rule_name"]),
        "shortDescription": {"text": _clip(meta.description, limit)},
        "fullDescription": {
            "text": _clip(
                f"{meta.description} Equivalent checks: {equivalents}."
                + (" Production stacks only." if meta.production_only else ""),
                limit,
            )
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
            "tags": tags[: GITHUB_LIMITS["tags_per_rule"]],
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


def fingerprints(identity: str) -> dict[str, str]:
    """`partialFingerprints` for an identity hash (GitHub reads `primaryLocationLineHash`)."""
    return {FINGERPRINT_KEY: identity, "primaryLocationLineHash": f"{identity[:16]}:1"}


@lru_cache(maxsize=64)
def _first_line_end(uri: str) -> int:
    """The column after the first line of `uri` (1 when unreadable): the region GitHub needs."""
    try:
        with open(uri, encoding="utf-8", errors="replace") as handle:
            return len(handle.readline().rstrip("\r\n")) + 1
    except OSError:
        return 1


def _relative(uri: str) -> str:
    """A repository-relative path when `uri` is an absolute path under the working directory."""
    path = Path(uri)
    if path.is_absolute():
        try:
            return path.relative_to(Path.cwd()).as_posix()
        except ValueError:
            return path.as_posix()
    return uri.replace(os.sep, "/")


def _location(uri: str, urn: str | None = None, name: str | None = None) -> dict[str, Any]:
    uri = _relative(uri)
    region = {"startLine": 1, "startColumn": 1, "endLine": 1, "endColumn": _first_line_end(uri)}
    location: dict[str, Any] = {
        "physicalLocation": {"artifactLocation": {"uri": uri}, "region": region}
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


def _suppression(finding: Finding, baseline: str) -> dict[str, Any] | None:
    waiver = finding.waiver
    if waiver is not None:
        suppression: dict[str, Any] = {
            "kind": "inSource" if waiver.inline else "external",
            "status": "accepted",
            "justification": waiver.justification,
            "properties": {"owner": waiver.owner, "expires": waiver.expires.isoformat()},
        }
        if waiver.inline:
            suppression["properties"]["tag"] = waiver.tag
        else:
            suppression["location"] = _location(waiver.source or "policy-waivers.yaml")
            suppression["properties"]["resourcePattern"] = waiver.resource
        return suppression
    if finding.baselined:
        return {
            "kind": "external",
            "status": "accepted",
            "justification": f"recorded in the baseline {baseline} (known finding, not new)",
            "location": _location(baseline),
        }
    return None


def _result(finding: Finding, index: int, source: str, baseline: str) -> dict[str, Any]:
    where = f"{finding.resource_type} {finding.resource_name}" if finding.resource_type else "stack"
    meta = RULES_BY_ID.get(finding.rule_id)
    text = finding.message or (meta.meta.description if meta else finding.rule_id)
    result: dict[str, Any] = {
        "ruleId": finding.rule_id,
        "ruleIndex": index,
        "level": finding.level,
        "message": {"text": f"{text} [{where}; {finding.cloud}/{finding.stack}]"},
        "locations": [_location(_artifact(finding, source), finding.urn, finding.resource_name)],
        "partialFingerprints": fingerprints(finding.fingerprint),
        "properties": {
            "cloud": finding.cloud,
            "stack": finding.stack,
            "propertyPath": finding.path,
            "enforcement": finding.enforcement,
            "severity": finding.severity,
            "unknownAtPreview": finding.unknown_at_preview,
        },
    }
    if baseline:
        result["baselineState"] = "unchanged" if finding.baselined else "new"
    suppression = _suppression(finding, baseline)
    if suppression is not None:
        result["suppressions"] = [suppression]
    return result


def to_sarif(result: GateResult) -> dict[str, Any]:
    rule_ids = list(result.rule_ids) or list(RULES_BY_ID)
    rules = [_rule(RULES_BY_ID[rule_id].meta) for rule_id in rule_ids] + [_gate_rule()]
    index = {rule["id"]: i for i, rule in enumerate(rules)}
    results = [
        _result(finding, index[finding.rule_id], target.source, result.baseline)
        for target in result.targets
        for finding in target.findings
        if finding.rule_id in index
    ]
    for problem in result.waiver_problems:
        waiver = problem.waiver
        results.append(
            {
                "ruleId": GATE_RULE_ID,
                "ruleIndex": index[GATE_RULE_ID],
                "level": "error",
                "message": {"text": problem.message},
                "locations": [
                    _location(f"Pulumi.{waiver.stacks[0]}.yaml", waiver.resource)
                    if waiver.inline
                    else _location(waiver.source or "policy-waivers.yaml")
                ],
                "partialFingerprints": fingerprints(
                    fingerprint(GATE_RULE_ID, waiver.resource, f"{problem.kind}:{waiver.label}")
                ),
                "properties": {"kind": problem.kind, "rule": waiver.rule},
            }
        )
    notifications = [
        {"level": "error", "message": {"text": error}, "descriptor": {"id": "gate-error"}}
        for error in result.errors
    ]
    limit = GITHUB_LIMITS["results_per_run"]
    if len(results) > limit:
        # Keep what matters: errors first, then warnings, then notes; say what was dropped.
        rank = {"error": 0, "warning": 1, "note": 2}
        results.sort(key=lambda r: (rank.get(r["level"], 3), "suppressions" in r))
        notifications.append(
            {
                "level": "warning",
                "message": {
                    "text": f"{len(results) - limit} lower-level result(s) left out: GitHub "
                    f"rejects more than {limit} results per run (see the JSON report)"
                },
                "descriptor": {"id": "results-truncated"},
            }
        )
        del results[limit:]
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
                "properties": {
                    "verdict": result.verdict,
                    "parity": result.parity,
                    **(
                        {
                            "baseline": result.baseline,
                            "staleBaselineEntries": [
                                {"rule": e.rule, "urn": e.urn, "path": e.path} for e in result.stale
                            ],
                        }
                        if result.baseline
                        else {}
                    ),
                },
            }
        ],
    }
