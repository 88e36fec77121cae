"""`phase-mirror-gate`: the offline preview gate, the stateful-deletion gate, the rule list.

    phase-mirror-gate check [--cloud aws|gcp|all] [--stack staging|production|all]
                            [--waivers FILE] [--sarif FILE] [--junit FILE] [--json FILE]
                            [--format text|json|sarif|junit] [--graph FILE ...]
                            [--baseline FILE] [--write-baseline FILE]
    phase-mirror-gate deletions PREVIEW.json [--stack NAME] [--allow-staging-deletions]
    phase-mirror-gate rules [--format text|json|markdown]

Exit codes: 0 no mandatory violation, 1 mandatory violations (or an expired / unused waiver, or
a refused deletion), 2 the gate itself could not run (bad arguments, bad waiver file, the program
failed under mocks, unreadable preview JSON). Only the report goes to stdout.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Sequence
from dataclasses import replace
from datetime import date
from pathlib import Path
from typing import Any, NoReturn

from . import PACK_NAME, PACK_VERSION
from .baseline import BaselineFileError, baseline_document, dump_baseline, load_baseline
from .deletion import PreviewFileError, judge, load_preview
from .deletion import render as render_deletions
from .deletion import to_json as deletions_json
from .findings import EXIT_GATE_ERROR, BaselineEntry, GateResult
from .gate import TargetSpec, apply_baseline, run_gate
from .graph import GraphError, StackGraph, load_graph
from .junit import to_junit
from .program import available, program_graphs
from .render import to_json, to_text
from .rules import RULES
from .sarif import to_sarif
from .waivers import Waiver, WaiverFileError, load_waivers

PROG = "phase-mirror-gate"


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        self.print_usage(sys.stderr)
        print(f"{PROG}: error: {message}", file=sys.stderr)
        raise SystemExit(EXIT_GATE_ERROR)


def _fail(message: str) -> int:
    print(f"{PROG}: error: {message}", file=sys.stderr)
    return EXIT_GATE_ERROR


def _today(text: str | None) -> date:
    if text is None:
        return date.today()
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"--today {text!r}: use YYYY-MM-DD") from None


def _formats() -> dict[str, Callable[[GateResult], str]]:
    return {
        "text": to_text,
        "json": lambda r: json.dumps(to_json(r), indent=2) + "\n",
        "sarif": lambda r: json.dumps(to_sarif(r), indent=2) + "\n",
        "junit": to_junit,
    }


def _raising(error: GraphError) -> Callable[[], StackGraph]:
    def fail() -> StackGraph:
        raise error

    return fail


def _graph_target(path: Path) -> TargetSpec:
    try:
        graph = load_graph(path)
    except GraphError as error:
        return TargetSpec("unknown", path.stem, _raising(error))
    clouds = sorted({r.cloud for r in graph.resources if r.cloud in ("aws", "gcp")})
    return TargetSpec("+".join(clouds) or "none", graph.stack, lambda: graph)


def _targets(args: argparse.Namespace) -> list[TargetSpec]:
    if args.graph:
        return [_graph_target(path) for path in args.graph]
    clouds = available("clouds") if args.cloud == "all" else (args.cloud,)
    stacks = available("stacks") if args.stack == "all" else (args.stack,)
    graphs = program_graphs(clouds, stacks, simulate_unknowns=args.simulate_unknowns)

    def loader(cloud: str, stack: str) -> Callable[[], StackGraph]:
        found = graphs[(cloud, stack)]
        return _raising(found) if isinstance(found, GraphError) else lambda: found

    return [TargetSpec(cloud, stack, loader(cloud, stack)) for cloud in clouds for stack in stacks]


def _write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    print(f"{PROG}: wrote {path}", file=sys.stderr)


def cmd_check(args: argparse.Namespace) -> int:
    today = args.today
    waivers: list[Waiver] = []
    if args.waivers is not None:
        try:
            waivers = load_waivers(args.waivers, known_rules=[r.id for r in RULES], today=today)
        except WaiverFileError as error:
            return _fail(str(error))
    baseline: list[BaselineEntry] | None = None
    if args.baseline is not None:
        try:
            baseline = load_baseline(args.baseline)
        except BaselineFileError as error:
            return _fail(str(error))
    targets = _targets(args)
    print(
        f"{PROG}: evaluating {PACK_NAME} v{PACK_VERSION} ({len(RULES)} rules) on "
        f"{', '.join(f'{t.cloud}/{t.stack}' for t in targets)}",
        file=sys.stderr,
    )
    result = run_gate(
        targets,
        waivers=waivers,
        today=today,
        baseline=baseline,
        baseline_source=str(args.baseline or ""),
    )
    if args.write_baseline is not None:
        if result.errors:
            for problem in result.errors:
                print(f"{PROG}: error: {problem}", file=sys.stderr)
            return _fail(f"not writing {args.write_baseline}: the run was incomplete (see above)")
        document = baseline_document(result, today=today)
        _write(args.write_baseline, dump_baseline(document, args.write_baseline))
        # Report as the new baseline would: every recorded finding is now baselined.
        written = load_baseline(args.write_baseline)
        targets_now, _ = apply_baseline(result.targets, written)
        result = replace(result, targets=tuple(targets_now), baseline=str(args.write_baseline))
    formats = _formats()
    for fmt, path in (("sarif", args.sarif), ("junit", args.junit), ("json", args.json)):
        if path is not None:
            _write(path, formats[fmt](result))
    sys.stdout.write(formats[args.format](result))
    for problem in result.errors:
        print(f"{PROG}: error: {problem}", file=sys.stderr)
    return result.exit_code


def cmd_deletions(args: argparse.Namespace) -> int:
    try:
        if args.preview == "-":
            preview = load_preview(None, sys.stdin.read())
        else:
            preview = load_preview(Path(args.preview))
        verdict = judge(preview, stack=args.stack, allow_staging=args.allow_staging_deletions)
    except PreviewFileError as error:
        return _fail(str(error))
    if args.format == "json":
        sys.stdout.write(json.dumps(deletions_json(verdict), indent=2) + "\n")
    else:
        sys.stdout.write(render_deletions(verdict))
    return verdict.exit_code


def _rule_rows() -> list[dict[str, Any]]:
    return [
        {
            "id": r.meta.id,
            "title": r.meta.title,
            "cloud": r.meta.cloud,
            "scope": r.meta.scope,
            "severity": r.meta.severity.value,
            "enforcement": r.meta.enforcement.value,
            "productionOnly": r.meta.production_only,
            "description": r.meta.description,
            "remediation": r.meta.remediation,
            "checkov": list(r.meta.checkov),
            "trivy": list(r.meta.trivy),
            "resourceTypes": list(r.meta.resource_types),
        }
        for r in RULES
    ]


def rules_markdown() -> str:
    """The rule table of docs/policy.md (a test keeps the two identical)."""
    lines = [
        "| id | rule | cloud | severity | enforcement | equivalents | remediation |",
        "|---|---|---|---|---|---|---|",
    ]
    for row in _rule_rows():
        equivalents = ", ".join(row["checkov"] + row["trivy"]) or "none"
        title = row["title"] + (" (production)" if row["productionOnly"] else "")
        remediation = str(row["remediation"]).replace("|", "\\|")
        lines.append(
            f"| {row['id']} | {title}: {row['description']} | {row['cloud']} | {row['severity']} "
            f"| {row['enforcement']} | {equivalents} | {remediation} |"
        )
    return "\n".join(lines) + "\n"


def cmd_rules(args: argparse.Namespace) -> int:
    if args.format == "json":
        sys.stdout.write(json.dumps(_rule_rows(), indent=2) + "\n")
    elif args.format == "markdown":
        sys.stdout.write(rules_markdown())
    else:
        for row in _rule_rows():
            sys.stdout.write(
                f"{row['id']:<13} {row['enforcement']:<9} {row['severity']:<8} {row['title']}\n"
            )
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog=PROG,
        description="Phase Mirror policy gates: the CrossGuard pack offline over the mocked "
        "program, the stateful-deletion gate over `pulumi preview --json`, and the rule list.",
        epilog="Exit codes: 0 pass, 1 mandatory violations / refused deletions / waiver problems, "
        "2 the gate could not run. Reference: docs/policy.md.",
    )
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    check = sub.add_parser("check", help="evaluate the policy pack on the program under mocks")
    check.add_argument("--cloud", choices=["aws", "gcp", "all"], default="all")
    check.add_argument("--stack", default="all", help="stack name (Pulumi.<stack>.yaml) or all")
    check.add_argument(
        "--graph",
        type=Path,
        action="append",
        help="evaluate a saved resource graph (JSON/YAML) instead of the program; repeatable",
    )
    check.add_argument(
        "--waivers",
        type=Path,
        help="waiver file (YAML/JSON, see docs/policy.md#waivers); resources may also carry "
        "their own waiver as a tag/label phase-mirror-waive-<rule-id>="
        "<expires YYYY-MM-DD>_<owner>_<reason> (docs/policy.md#inline-waivers)",
    )
    check.add_argument(
        "--today", type=_today, default=date.today(), help="date for waiver expiry (YYYY-MM-DD)"
    )
    check.add_argument(
        "--baseline",
        type=Path,
        metavar="FILE",
        help="baseline file (YAML, or JSON if named *.json; see docs/policy.md#baseline): findings "
        "recorded there are reported as baselined and do not fail the gate; only new ones do. "
        "Entries that no longer match a finding are listed as stale",
    )
    check.add_argument(
        "--write-baseline",
        type=Path,
        metavar="FILE",
        help="record today's findings (except waived ones) in FILE, then report as if checked "
        "against it; refused (exit 2) when the run was incomplete. May be combined with "
        "--baseline to see what became stale",
    )
    check.add_argument("--format", choices=sorted(_formats()), default="text", help="stdout format")
    check.add_argument("--sarif", type=Path, help="also write SARIF 2.1.0 here")
    check.add_argument("--junit", type=Path, help="also write JUnit XML here")
    check.add_argument("--json", type=Path, help="also write the JSON report here")
    check.add_argument(
        "--simulate-unknowns",
        action="store_true",
        help="evaluate as a first `pulumi preview` sees it: ids and ARNs unknown",
    )
    check.set_defaults(func=cmd_check)

    deletions = sub.add_parser(
        "deletions", help="refuse deletes/replacements of stateful resources in a preview"
    )
    deletions.add_argument("preview", help="output of `pulumi preview --json` (or - for stdin)")
    deletions.add_argument("--stack", help="stack name (default: from the URNs)")
    deletions.add_argument(
        "--allow-staging-deletions",
        action="store_true",
        help="accept stateful deletes/replacements in staging (never in production)",
    )
    deletions.add_argument("--format", choices=["text", "json"], default="text")
    deletions.set_defaults(func=cmd_deletions)

    rules = sub.add_parser("rules", help="list the pack's rules")
    rules.add_argument("--format", choices=["text", "json", "markdown"], default="text")
    rules.set_defaults(func=cmd_rules)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        code: int = args.func(args)
    except (GraphError, WaiverFileError, PreviewFileError, BaselineFileError) as error:
        return _fail(str(error))
    except KeyboardInterrupt:
        return _fail("interrupted")
    return code


if __name__ == "__main__":
    raise SystemExit(main())
