"""`phase-mirror analyze`: run the governance oracle on a repository checkout."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import Any

from service.oracle.config import DEFAULT_FILE, ConfigError, OracleConfig, load_config
from service.oracle.context import ContextError, GitHubContext, load_context
from service.oracle.engine import Analysis, AnalysisRequest, analyze
from service.oracle.model import Mode
from service.oracle.progress import ProgressBar
from service.oracle.render import Format, render
from service.oracle.reporting import DEFAULT_ENVIRONMENT, ENV_KEY, ReportTarget
from service.oracle.rules import known_checks
from service.oracle.summary import FAIL_ON_LEVELS, fail_on_exit, github_output_lines, step_outputs

from .common import UsageError, backend_from, write_report

AUTO_MODE = "auto"

EPILOG = (
    "Exit codes: 0 pass or warn; 1 block (including any L0 invariant violation, even with "
    "--dry-run); 2 degraded and unable to vouch (redaction key missing, FP events not "
    "recorded); 64 bad command line, config or context; 69/78 backend unreachable/misconfigured. "
    "The report goes to stdout (or --output); progress and logs go to stderr. "
    "Rule reference and report schema: docs/oracle.md."
)


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "analyze",
        help="evaluate governance rules MD-001..005 and MD-102 on a repository checkout",
        description=(
            "Evaluate the governance rules on the checkout at PATH: workflow permissions and "
            "integrity, CODEOWNERS coverage, baseline drift, and (with --context) branch "
            "protection and the merge-queue trust chain. Blocking and warning findings are "
            "recorded as FP events; findings marked false positive are reported as suppressed. "
            "Every report is sealed with the current redaction key (verify with "
            "`phase-mirror verify-report`)."
        ),
        epilog=EPILOG,
    )
    parser.add_argument(
        "path", nargs="?", default=".", metavar="PATH", help="repository checkout (default: .)"
    )
    parser.add_argument(
        "--mode",
        choices=[*(m.value for m in Mode), AUTO_MODE],
        default=Mode.PULL_REQUEST.value,
        help="what is being evaluated (default: pull_request); auto: the mode of the event "
        "(from the context file written by `phase-mirror context`, else $GITHUB_EVENT_NAME)",
    )
    parser.add_argument("--strict", action="store_true", help="stricter thresholds and severities")
    parser.add_argument(
        "--dry-run",
        action="store_true",
        help="never block (block becomes warn) and write nothing to the stores; L0 violations still exit 1",
    )
    parser.add_argument(
        "--context",
        metavar="FILE",
        type=Path,
        help="JSON with GitHub API responses: repository, branch_protection, rules, rulesets, "
        "pull_request (an Actions event payload works too)",
    )
    parser.add_argument(
        "--config",
        metavar="FILE",
        type=Path,
        help=f"oracle configuration (default: PATH/{DEFAULT_FILE} if present)",
    )
    parser.add_argument(
        "--format",
        choices=[f.value for f in Format],
        default=Format.TEXT.value,
        help="report format (default: text)",
    )
    parser.add_argument(
        "--output", "-o", metavar="FILE", type=Path, help="write the report here instead of stdout"
    )
    parser.add_argument(
        "--repo",
        metavar="OWNER/NAME",
        help="repository name (default: context, git origin, or the folder name)",
    )
    parser.add_argument("--no-progress", action="store_true", help="never draw the progress bar")
    parser.add_argument(
        "--workflows",
        metavar="FILE",
        nargs="+",
        type=Path,
        help="offline check of these workflow files only (MD-002, MD-003; no backend, no "
        "context, nothing stored or sealed); exit 1 on a finding of medium or higher "
        "(or --fail-on SEVERITY). The pre-commit hook runs this.",
    )
    ci = parser.add_argument_group("CI (the GitHub Action uses these)")
    ci.add_argument(
        "--also",
        metavar="FORMAT=FILE",
        action="append",
        default=[],
        help="also write the report in FORMAT to FILE (repeatable), e.g. sarif=results.sarif; "
        "summary appends, so FILE may be $GITHUB_STEP_SUMMARY",
    )
    ci.add_argument(
        "--github-output",
        metavar="FILE",
        type=Path,
        help="append step outputs (decision, exit-code, counts, report paths) to FILE, "
        "e.g. $GITHUB_OUTPUT",
    )
    ci.add_argument(
        "--fail-on",
        choices=FAIL_ON_LEVELS,
        default="block",
        help="exit 1 on: block (default), warn, any finding of at least a severity, or never; "
        "exit 2 and L0 violations always fail",
    )
    calibration = parser.add_argument_group("reporting outcomes to the calibration service")
    calibration.add_argument(
        "--report-to",
        metavar="URL",
        help="submit each rule outcome as an ingest event to this calibration API; failures "
        "never fail the check (degraded: calibration_report_incomplete)",
    )
    calibration.add_argument(
        "--report-key",
        metavar="KEY",
        help=f"its API key (default: ${ENV_KEY}; prefer the variable, options show in `ps`)",
    )
    calibration.add_argument(
        "--report-org",
        metavar="ORG",
        help="org id the events are about (default: the repository owner)",
    )
    calibration.add_argument(
        "--report-environment",
        metavar="NAME",
        default=DEFAULT_ENVIRONMENT,
        help=f"environment of the events (default: {DEFAULT_ENVIRONMENT})",
    )
    parser.set_defaults(func=run)


def load_inputs(args: argparse.Namespace) -> tuple[Path, OracleConfig, GitHubContext | None]:
    """Repository root, configuration and context from the command line (UsageError if bad)."""
    root = Path(args.path)
    if not root.is_dir():
        raise UsageError(f"repository path {root} is not a directory")
    try:
        if args.config is not None:
            config = load_config(args.config, known_checks(), required=True)
        else:
            config = load_config(root / DEFAULT_FILE, known_checks(), required=False)
    except ConfigError as error:
        raise UsageError(str(error)) from None
    context = None
    if getattr(args, "context", None) is not None:
        try:
            context = load_context(args.context)
        except ContextError as error:
            raise UsageError(str(error)) from None
    return root, config, context


def run(args: argparse.Namespace) -> int:
    root, config, context = load_inputs(args)
    if args.workflows:
        return _offline(args, config)
    extra = _extra_outputs(args.also)
    target = _report_target(args)
    progress = None if args.no_progress else ProgressBar.for_stderr("parsing workflows")
    backend = backend_from(args)
    try:
        analysis = analyze(
            AnalysisRequest(
                root=root,
                mode=_mode(args.mode, context),
                strict=args.strict,
                dry_run=args.dry_run,
                context=context,
                config=config,
                repo_name=args.repo,
                progress=progress,
            ),
            backend,
        )
    finally:
        if progress is not None:
            progress.close()
        backend.close()
    if target is not None:
        _report_outcomes(analysis, target, dry_run=args.dry_run)
    output = render(analysis, Format(args.format))
    write_report(output, args.output)
    for fmt, path in extra:
        _write_extra(render(analysis, fmt), path, append=fmt is Format.SUMMARY)
    if args.github_output is not None:
        files = {fmt.value: str(path) for fmt, path in extra}
        if args.output is not None:
            files.setdefault(args.format, str(args.output))
        outputs = step_outputs(analysis.report, files)
        _write_extra(github_output_lines(outputs), args.github_output, append=True)
    decision = analysis.report["machine_decision"]
    code = fail_on_exit(analysis.report, args.fail_on)
    print(
        f"phase-mirror: {decision['outcome']} (exit {code}), "
        f"{len(analysis.findings)} finding(s), {len(analysis.suppressed)} suppressed",
        file=sys.stderr,
    )
    return code


def _offline(args: argparse.Namespace, config: OracleConfig) -> int:
    from service.oracle.offline import check_workflow_files, offline_exit, render_offline

    findings = check_workflow_files(args.workflows, config, strict=args.strict)
    write_report(render_offline(findings), args.output)
    return offline_exit(findings, args.fail_on)


def _mode(value: str, context: GitHubContext | None) -> Mode:
    if value != AUTO_MODE:
        return Mode(value)
    suggested = context.suggested_mode if context is not None else None
    if suggested is None:
        from service.oracle.github import mode_for_event

        suggested = mode_for_event(os.environ.get("GITHUB_EVENT_NAME") or None, None)
        if suggested == "drift" and not os.environ.get("GITHUB_EVENT_NAME"):
            suggested = Mode.PULL_REQUEST.value  # no event at all: the documented default
    return Mode(suggested)


def _extra_outputs(values: list[str]) -> list[tuple[Format, Path]]:
    extra = []
    for value in values:
        fmt, sep, path = value.partition("=")
        if not sep or not path:
            raise UsageError(f"--also takes FORMAT=FILE, not {value!r}")
        try:
            extra.append((Format(fmt), Path(path)))
        except ValueError:
            choices = ", ".join(f.value for f in Format)
            raise UsageError(f"--also: unknown format {fmt!r} (choose from {choices})") from None
    return extra


def _write_extra(text: str, path: Path, *, append: bool) -> None:
    try:
        with path.open("a" if append else "w", encoding="utf-8") as handle:
            handle.write(text)
    except OSError as error:
        raise UsageError(f"cannot write {path}: {error.strerror}") from None


def _report_target(args: argparse.Namespace) -> ReportTarget | None:
    if not args.report_to:
        return None
    if not args.report_to.startswith(("http://", "https://")):
        raise UsageError(f"--report-to must be an http(s) URL, not {args.report_to!r}")
    key = args.report_key or os.environ.get(ENV_KEY, "").strip()
    if not key:
        raise UsageError(f"--report-to needs an API key: set ${ENV_KEY} (or --report-key)")
    return ReportTarget(
        endpoint=args.report_to,
        key=key,
        environment=args.report_environment,
        org=args.report_org,
    )


def _report_outcomes(analysis: Analysis, target: ReportTarget, *, dry_run: bool) -> None:
    """Report, then add what did not get through to the report (never changes the decision)."""
    if dry_run:
        print("phase-mirror: dry run: no outcomes reported", file=sys.stderr)
        return
    from service.oracle.reporting import report_outcomes, with_degradation

    delivery = report_outcomes(analysis.model, target)
    print(
        f"phase-mirror: reported {delivery.accepted} rule outcome(s) "
        f"({delivery.duplicates} duplicate(s), {delivery.failed} not sent)",
        file=sys.stderr,
    )
    analysis.model = with_degradation(analysis.model, delivery.degradation())
    analysis.report = analysis.model.as_json()
