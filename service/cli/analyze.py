"""`phase-mirror analyze`: run the governance oracle on a repository checkout."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from service.oracle import AnalysisRequest, Format, Mode, analyze, render
from service.oracle.config import DEFAULT_FILE, ConfigError, OracleConfig, load_config
from service.oracle.context import ContextError, GitHubContext, load_context
from service.oracle.progress import ProgressBar
from service.oracle.rules import known_checks

from .common import UsageError, backend_from

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
        choices=[m.value for m in Mode],
        default=Mode.PULL_REQUEST.value,
        help="what is being evaluated (default: pull_request)",
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
    progress = None if args.no_progress else ProgressBar.for_stderr("parsing workflows")
    backend = backend_from(args)
    try:
        analysis = analyze(
            AnalysisRequest(
                root=root,
                mode=Mode(args.mode),
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
    output = render(analysis, Format(args.format))
    write_report(output, args.output)
    decision = analysis.report["machine_decision"]
    print(
        f"phase-mirror: {decision['outcome']} (exit {analysis.exit_code}), "
        f"{len(analysis.findings)} finding(s), {len(analysis.suppressed)} suppressed",
        file=sys.stderr,
    )
    return analysis.exit_code


def write_report(text: str, output: Path | None) -> None:
    if output is None:
        sys.stdout.write(text)
        sys.stdout.flush()
        return
    try:
        output.write_text(text, encoding="utf-8")
    except OSError as error:
        raise UsageError(f"cannot write the report to {output}: {error.strerror}") from None
