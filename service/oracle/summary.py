"""What the GitHub Action shows and returns, computed here so its shell stays thin:

- `render_summary(report)`: the job summary (Markdown: decision, counts, a table of findings
  with their remediation, suppressed findings, degraded and not-evaluated rules);
- `step_outputs(report, ...)`: the step outputs (decision, counts, report paths);
- `fail_on_exit(report, level)`: the exit code under the Action's `fail-on` input.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

#: GitHub refuses a step summary over 1 MiB; the table stops well before.
MAX_ROWS: Final = 200
FAIL_ON_LEVELS: Final = ("block", "warn", "never", "critical", "high", "medium", "low")
_SEVERITIES: Final = ("critical", "high", "medium", "low")


def render_summary(report: Mapping[str, Any]) -> str:
    decision = report["machine_decision"]
    repo = report["repository"]
    run = report["run"]
    counts = decision["counts"]
    flags = (
        [run["mode"]]
        + (["strict"] if run["strict"] else [])
        + (["dry run"] if run["dry_run"] else [])
    )
    head = (repo["head_sha"] or "no head SHA")[:12]
    lines = [
        f"## Phase Mirror: {decision['outcome'].upper()}",
        "",
        f"`{_inline(repo['name'])}` @ `{head}` ({', '.join(flags)}), "
        f"phase-mirror {_inline(report['tool']['version'])}",
        "",
        "| critical | high | medium | low | suppressed |",
        "|---:|---:|---:|---:|---:|",
        f"| {counts['critical']} | {counts['high']} | {counts['medium']} | {counts['low']} "
        f"| {decision['suppressed']} |",
        "",
    ]
    lines += [f"- {_cell(reason)}" for reason in decision["reasons"]]
    if decision["reasons"]:
        lines.append("")
    findings = report["findings"]
    if findings:
        lines += [
            "| severity | rule | location | finding | remediation |",
            "|---|---|---|---|---|",
        ]
        for finding in findings[:MAX_ROWS]:
            breaker = " (circuit breaker: warn)" if finding["circuit_breaker"] else ""
            lines.append(
                f"| {finding['severity']}{breaker} | {finding['rule_id']} "
                f"`{finding['check']}` | {_location(finding)} | {_cell(finding['message'])} "
                f"| {_cell(finding['remediation'])} |"
            )
        if len(findings) > MAX_ROWS:
            lines.append(f"\n{len(findings) - MAX_ROWS} more finding(s) in the SARIF/JSON report.")
        lines.append("")
    else:
        lines += ["No findings.", ""]
    if report["suppressed"]:
        lines.append("<details><summary>Suppressed (marked false positive)</summary>\n")
        lines += [
            f"- {f['rule_id']} `{f['check']}` {_location(f)} (`{f['fingerprint']}`)"
            for f in report["suppressed"][:MAX_ROWS]
        ]
        lines += ["", "</details>", ""]
    for item in report["degraded"]:
        fail = "fail closed" if item["fail"] == "closed" else "fail open"
        lines.append(f"- **degraded** ({fail}) `{item['reason']}`: {_cell(item['detail'])}")
    for item in report["not_evaluated"]:
        lines.append(f"- **not evaluated** {item['rule']}: {_cell(item['reason'])}")
    if report["degraded"] or report["not_evaluated"]:
        lines.append("")
    lines.append(
        "Mark a false positive with `phase-mirror fp mark <fingerprint> --reason ... "
        "--reviewer ...`; the fingerprint is in each SARIF result."
    )
    return "\n".join(lines) + "\n"


def step_outputs(report: Mapping[str, Any], files: Mapping[str, str]) -> dict[str, str]:
    """`decision`, `exit-code`, per-severity counts, `findings`, `suppressed`, `degraded`, and
    one `<format>-path` per written report file (`report-path`: the JSON one)."""
    decision = report["machine_decision"]
    outputs = {
        "decision": str(decision["outcome"]),
        "exit-code": str(decision["exit_code"]),
        "findings": str(len(report["findings"])),
        "suppressed": str(decision["suppressed"]),
        "degraded": ",".join(sorted({d["reason"] for d in report["degraded"]})),
    }
    outputs.update({severity: str(decision["counts"][severity]) for severity in _SEVERITIES})
    for fmt, path in files.items():
        outputs[f"{fmt}-path"] = path
    if "json" in files:
        outputs["report-path"] = files["json"]
    return outputs


def github_output_lines(outputs: Mapping[str, str]) -> str:
    """`$GITHUB_OUTPUT` lines (values here never contain newlines; guarded anyway)."""
    return "".join(f"{key}={value.replace(chr(10), ' ')}\n" for key, value in outputs.items())


def fail_on_exit(report: Mapping[str, Any], level: str) -> int:
    """The exit code under `--fail-on`: `block` (the default) keeps the decision's code; `warn`
    also fails a warn; a severity fails when any active finding is at least that severe;
    `never` passes blocks. Exit 2 (unable to vouch) and L0 violations always fail."""
    decision = report["machine_decision"]
    code = int(decision["exit_code"])
    if code == 2 or not report["l0"]["ok"]:
        return code
    if level == "block":
        return code
    if level == "never":
        return 0
    if level == "warn":
        return 1 if decision["outcome"] in ("warn", "block") else 0
    worst = _SEVERITIES.index(level)
    counted = [f for f in report["findings"] if not f["circuit_breaker"]]
    return 1 if any(_SEVERITIES.index(f["severity"]) <= worst for f in counted) else 0


def _location(finding: Mapping[str, Any]) -> str:
    where = finding["path"] or finding["logical_location"] or "(repository)"
    text = f"{where}:{finding['line']}" if finding["line"] else where
    return f"`{_inline(text)}`"


def _inline(text: str) -> str:
    return str(text).replace("`", "'").replace("|", "\\|").replace("\n", " ")


def _cell(text: str) -> str:
    """Table-cell safe: no pipes, newlines or HTML."""
    return (
        str(text)
        .replace("&", "&amp;")
        .replace("<", "&lt;")
        .replace(">", "&gt;")
        .replace("|", "\\|")
        .replace("\r", " ")
        .replace("\n", " ")
    )
