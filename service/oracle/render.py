"""Report formats: json, sarif, text, github. Each one is sealed with the current redaction key
(see integrity.py); an analysis without a usable key renders unsealed, and its decision already
says it fails closed."""

from __future__ import annotations

import copy
import json
from enum import StrEnum
from typing import Any

from .engine import Analysis
from .integrity import seal_document, seal_text
from .keys import Keyring
from .sarif import to_sarif
from .summary import render_summary


class Format(StrEnum):
    TEXT = "text"
    JSON = "json"
    SARIF = "sarif"
    GITHUB = "github"
    #: Markdown for a GitHub job summary (summary.py), sealed like text.
    SUMMARY = "summary"


def render(analysis: Analysis, fmt: Format) -> str:
    return render_report(analysis.report, fmt, analysis.keyring)


def render_report(report: dict[str, Any], fmt: Format, keyring: Keyring | None) -> str:
    if fmt is Format.JSON:
        document = copy.deepcopy(report)
        if keyring is not None:
            seal_document(document, keyring.current)
        return json.dumps(document, indent=2, ensure_ascii=False) + "\n"
    if fmt is Format.SARIF:
        document = to_sarif(report)
        if keyring is not None:
            seal_document(document, keyring.current)
        return json.dumps(document, indent=2, ensure_ascii=False) + "\n"
    if fmt is Format.SUMMARY:
        body = render_summary(report)
    else:
        body = _text(report) if fmt is Format.TEXT else _github(report)
    return seal_text(body, keyring.current) if keyring is not None else body


def _location(finding: dict[str, Any]) -> str:
    where = finding["path"] or finding["logical_location"] or "(repository)"
    return f"{where}:{finding['line']}" if finding["line"] else where


def _text(report: dict[str, Any]) -> str:
    decision = report["machine_decision"]
    repo = report["repository"]
    run = report["run"]
    counts = decision["counts"]
    flags = ", ".join(
        [run["mode"]]
        + (["strict"] if run["strict"] else [])
        + (["dry-run"] if run["dry_run"] else [])
    )
    head = (repo["head_sha"] or "no head SHA")[:12]
    lines = [
        f"phase-mirror {report['tool']['version']}: {repo['name']} @ {head} ({flags})",
        f"outcome: {decision['outcome'].upper()} (exit {decision['exit_code']})  "
        f"critical {counts['critical']}, high {counts['high']}, medium {counts['medium']}, "
        f"low {counts['low']}; suppressed {decision['suppressed']}",
    ]
    lines += [f"  reason: {reason}" for reason in decision["reasons"]]
    for item in report["degraded"]:
        rule = f" [{item['rule']}]" if item["rule"] else ""
        lines.append(
            f"degraded ({'fail closed' if item['fail'] == 'closed' else 'fail open'}): {item['reason']}{rule}: {item['detail']}"
        )
    for item in report["not_evaluated"]:
        lines.append(f"not evaluated: {item['rule']}: {item['reason']}")
    if report["findings"]:
        lines.append("")
    for finding in report["findings"]:
        breaker = " [circuit breaker: warn]" if finding["circuit_breaker"] else ""
        lines += [
            f"{finding['severity'].upper():8} {finding['rule_id']}.{finding['check']}  {_location(finding)}{breaker}",
            f"         {finding['message']}",
        ]
        if finding["evidence"]:
            lines.append(f"         evidence: {finding['evidence']}")
        lines += [
            f"         fix: {finding['remediation']}",
            f"         fingerprint: {finding['fingerprint']}",
        ]
    if report["suppressed"]:
        lines.append("")
        lines.append("suppressed (marked false positive):")
        lines += [
            f"  {f['rule_id']}.{f['check']}  {_location(f)}  [{f['fingerprint']}]"
            for f in report["suppressed"]
        ]
    l0 = report["l0"]
    lines.append("")
    lines.append("L0 invariants: ok" if l0["ok"] else "L0 invariants VIOLATED:")
    lines += [f"  {v['invariant']}: {v['detail']}" for v in l0["violations"]]
    lines.append(f"timings: {report['timings']['total_ms']:.1f} ms")
    return "\n".join(lines) + "\n"


def _escape_data(value: str) -> str:
    return value.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _escape_property(value: str) -> str:
    return _escape_data(value).replace(":", "%3A").replace(",", "%2C")


_COMMAND = {"critical": "error", "high": "error", "medium": "warning", "low": "notice"}


def _github(report: dict[str, Any]) -> str:
    """GitHub Actions workflow commands: one annotation per finding, then a summary line."""
    lines = []
    for finding in report["findings"]:
        properties = [f"title={_escape_property(finding['rule_id'] + ' ' + finding['check'])}"]
        if finding["path"]:
            properties.insert(0, f"file={_escape_property(finding['path'])}")
            if finding["line"]:
                properties.insert(1, f"line={finding['line']}")
        command = "warning" if finding["circuit_breaker"] else _COMMAND[finding["severity"]]
        message = f"{finding['message']} Fix: {finding['remediation']} (fingerprint {finding['fingerprint']})"
        lines.append(f"::{command} {','.join(properties)}::{_escape_data(message)}")
    for item in report["degraded"]:
        lines.append(
            f"::warning title=phase-mirror degraded::{_escape_data(item['reason'] + ': ' + item['detail'])}"
        )
    decision = report["machine_decision"]
    lines.append(
        f"phase-mirror: outcome={decision['outcome']} exit={decision['exit_code']} "
        f"findings={len(report['findings'])} suppressed={decision['suppressed']}"
    )
    return "\n".join(lines) + "\n"
