"""Text and JSON renderings of a gate result (SARIF and JUnit have their own modules)."""

from __future__ import annotations

from typing import Any

from .findings import Finding, GateResult, count
from .rules import RULES_BY_ID

_MARK = {"error": "ERROR", "warning": "WARN", "note": "NOTE"}


def _label(finding: Finding) -> str:
    if finding.suppressed:
        return "WAIVED"
    return _MARK[finding.level]


def to_text(result: GateResult) -> str:
    findings = result.findings
    lines = [
        f"phase-mirror-gate: {result.verdict.upper()} (exit {result.exit_code}): "
        f"{len(result.targets)} target(s), {len(result.blocking)} blocking, "
        f"{count(findings, suppressed=True)} waived, "
        f"{sum(1 for f in findings if f.level == 'warning' and not f.suppressed)} advisory, "
        f"{count(findings, unknown_at_preview=True)} undecidable at preview"
        + (f", {count(findings, baselined=True)} baselined" if result.baseline else "")
    ]
    for target in result.targets:
        blocking = sum(1 for f in target.findings if f.blocking)
        lines.append("")
        lines.append(
            f"{target.label}: {target.resources} resources from {target.source or 'graph'}, "
            f"{blocking} blocking, {len(target.findings)} finding(s)"
        )
        shown = [f for f in target.findings if not f.baselined]
        if len(shown) < len(target.findings):
            lines.append(
                f"  ({len(target.findings) - len(shown)} finding(s) recorded in the baseline "
                f"{result.baseline} not shown)"
            )
        for finding in sorted(shown, key=lambda f: (not f.blocking, f.rule_id, f.urn)):
            meta = RULES_BY_ID.get(finding.rule_id)
            title = meta.meta.title if meta else ""
            where = (
                f"{finding.resource_type} {finding.resource_name}"
                if finding.resource_type
                else "stack"
            )
            lines.append(f"  {_label(finding):<6} {finding.rule_id} {title} - {where}")
            lines.append(f"         {finding.message}")
            if finding.waiver is not None:
                lines.append(f"         waived: {finding.waiver.justification}")
            elif finding.blocking and meta:
                lines.append(f"         fix: {meta.meta.remediation}")
    for stack, rows in sorted(result.parity.items()):
        lines.append("")
        lines.append(f"parity ({stack}):")
        headers = list(rows[0])
        widths = [max(len(h), *(len(r[h]) for r in rows)) for h in headers]
        lines.append("  " + "  ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True)))
        for row in rows:
            lines.append(
                "  " + "  ".join(row[h].ljust(w) for h, w in zip(headers, widths, strict=True))
            )
    if result.stale:
        lines.append("")
        lines.append(
            f"baseline {result.baseline}: {len(result.stale)} stale entr"
            f"{'y' if len(result.stale) == 1 else 'ies'} (no finding any more: delete them or "
            "rewrite the file with --write-baseline):"
        )
        lines.extend(
            f"  STALE  {e.rule} {e.cloud}/{e.stack} {e.urn.rsplit('::', 1)[-1]} [{e.path}]"
            for e in result.stale
        )
    if result.waiver_problems:
        lines.append("")
        lines.append("waivers:")
        lines.extend(f"  ERROR  {problem.message}" for problem in result.waiver_problems)
    if result.errors:
        lines.append("")
        lines.append("gate errors (the gate could not evaluate these):")
        lines.extend(f"  {error}" for error in result.errors)
    return "\n".join(lines) + "\n"


def _finding(finding: Finding) -> dict[str, Any]:
    data: dict[str, Any] = {
        "rule": finding.rule_id,
        "cloud": finding.cloud,
        "stack": finding.stack,
        "urn": finding.urn,
        "type": finding.resource_type,
        "name": finding.resource_name,
        "message": finding.message,
        "enforcement": finding.enforcement,
        "severity": finding.severity,
        "level": finding.level,
        "blocking": finding.blocking,
        "unknownAtPreview": finding.unknown_at_preview,
        "path": finding.path,
        "fingerprint": finding.fingerprint,
        "baselined": finding.baselined,
    }
    if finding.waiver is not None:
        data["waiver"] = {
            "reason": finding.waiver.reason,
            "owner": finding.waiver.owner,
            "expires": finding.waiver.expires.isoformat(),
        }
        if finding.waiver.inline:
            data["waiver"]["inline"] = finding.waiver.tag
    return data


def to_json(result: GateResult) -> dict[str, Any]:
    return {
        "verdict": result.verdict,
        "exitCode": result.exit_code,
        "targets": [
            {
                "cloud": t.cloud,
                "stack": t.stack,
                "source": t.source,
                "resources": t.resources,
                "findings": [_finding(f) for f in t.findings],
                "notApplicable": [
                    {"rule": n.policy, "urn": n.urn, "reason": n.reason} for n in t.not_applicable
                ],
            }
            for t in result.targets
        ],
        "waiverProblems": [
            {"kind": p.kind, "rule": p.waiver.rule, "message": p.message}
            for p in result.waiver_problems
        ],
        "errors": list(result.errors),
        "parity": result.parity,
        **(
            {
                "baseline": {
                    "file": result.baseline,
                    "baselined": count(result.findings, baselined=True),
                    "stale": [
                        {
                            "rule": e.rule,
                            "cloud": e.cloud,
                            "stack": e.stack,
                            "urn": e.urn,
                            "path": e.path,
                            "fingerprint": e.fingerprint,
                        }
                        for e in result.stale
                    ],
                }
            }
            if result.baseline
            else {}
        ),
    }
