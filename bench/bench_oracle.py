"""The oracle: analysis throughput on generated repositories, CLI wall time including start-up,
L0 invariant checks (single and batched) and report MAC cost.

Targets (issue 5): 1,000 workflows analyzed in under 2 s; a typical 30-workflow repository in
under 0.5 s including process start-up; L0 p99 well below the predecessor's 1,292 ns; report MAC
p99 reported. Storage is the embedded local backend in a temporary directory.
"""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import sys
import tempfile
from dataclasses import replace
from pathlib import Path

from adapters.backend import Backend, open_backend
from adapters.catalog import Secret
from service.oracle import l0
from service.oracle.config import OracleConfig
from service.oracle.engine import AnalysisRequest, analyze
from service.oracle.integrity import canonical_json, seal_document, verify_document
from service.oracle.keys import load_keyring
from service.oracle.render import Format, render
from service.oracle.report_schema import PINNED_SCHEMA_HASH

from .report import Operation, measure, paired, print_table

CLEAN = """name: {name}
on:
  pull_request:
  push:
    branches: [main]
permissions:
  contents: read
jobs:
  test:
    runs-on: ubuntu-latest
    strategy:
      matrix:
        python: ["3.11", "3.12"]
    steps:
      - uses: actions/checkout@8e5e7e5ab8b370d6c329ec480221332ada57f0ab # v4
      - uses: actions/setup-python@0a5c61591373683505ea898e09a3ea4f39ef2b9c # v5
        with:
          python-version: ${{{{ matrix.python }}}}
      - name: install
        run: |
          python -m pip install -e '.[dev]'
          echo "run ${{{{ github.run_id }}}}"
      - name: test
        run: pytest -q
  lint:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@8e5e7e5ab8b370d6c329ec480221332ada57f0ab # v4
      - run: ruff check .
"""

RISKY = """name: {name}
on:
  pull_request_target:
  issue_comment:
permissions: write-all
jobs:
  triage:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@v4
        with:
          ref: ${{{{ github.event.pull_request.head.sha }}}}
      - uses: some-org/triage-bot@v1
      - run: |
          echo "${{{{ github.event.comment.body }}}}"
          curl -sSL https://tools.example.com/install.sh | bash
"""


def generate(root: Path, workflows: int, risky_every: int = 10) -> Path:
    directory = root / ".github" / "workflows"
    directory.mkdir(parents=True)
    for i in range(workflows):
        template = RISKY if i % risky_every == 0 else CLEAN
        (directory / f"wf-{i:04d}.yml").write_text(template.format(name=f"workflow {i}"))
    (root / ".github" / "CODEOWNERS").write_text("* @acme/maintainers\n/.github/ @acme/platform\n")
    (root / "README.md").write_text("# generated\n")
    return root


def _backend(tmp: Path) -> Backend:
    backend = open_backend(f"local://{tmp / 'store'}")
    backend.secrets.put(Secret.REDACTION_KEY, secrets.token_hex(32))
    return backend


def _analyze(backend: Backend, root: Path, *, dry_run: bool, findings: list[int]) -> Operation:
    """Analyze and render as JSON, appending the number of findings."""

    def once(_i: int) -> None:
        request = AnalysisRequest(
            root=root, dry_run=dry_run, config=OracleConfig(), repo_name="acme/bench"
        )
        analysis = analyze(request, backend)
        render(analysis, Format.JSON)
        findings.append(len(analysis.findings))

    return once


def bench_throughput(tmp: Path) -> None:
    """One timed run each: the first run records FP events, so it cannot be repeated."""
    rows = []
    for workflows in (1000, 30):
        root = generate(tmp / f"repo-{workflows}", workflows)
        backend = _backend(tmp / f"b-{workflows}")
        try:
            for label, dry_run in (
                ("dry run (reads only)", True),
                ("first run (records FP events)", False),
                ("re-run, same head", False),
            ):
                findings: list[int] = []
                once = _analyze(backend, root, dry_run=dry_run, findings=findings)
                wall_s = measure(once, 1, warmup=0).p50_ns / 1e9
                rows.append(
                    (
                        workflows,
                        label,
                        findings[0],
                        round(wall_s * 1000, 1),
                        round(workflows / wall_s),
                    )
                )
        finally:
            backend.close()
    print_table(
        "analyze in process (parse, 6 rules, FP filter, breaker, FP events, seal JSON)",
        ["workflows", "run", "findings", "wall ms", "files/s"],
        rows,
    )


ANALYZE_FLAGS = ["--dry-run", "--format", "json", "--repo", "acme/bench"]


def _cli(args: list[str], env: dict[str, str], exits: list[int]) -> Operation:
    """One CLI process (JSON output checked when it analyzes), appending its exit code."""

    def once(_i: int) -> None:
        command = args if args[0] == "-c" else ["-m", "service.cli.main", *args]
        done = subprocess.run(
            [sys.executable, *command],
            env=env,
            capture_output=True,
            text=True,
        )
        if args[0] == "analyze":
            json.loads(done.stdout)
        exits.append(done.returncode)

    return once


def bench_cli(tmp: Path) -> None:
    env = {**os.environ, "PHASE_MIRROR_BACKEND": f"local://{tmp / 'cli-store'}"}
    backend = open_backend(env["PHASE_MIRROR_BACKEND"])
    backend.secrets.put(Secret.REDACTION_KEY, secrets.token_hex(32))
    backend.close()
    small = generate(tmp / "repo-1", 1)
    commands: list[tuple[str, list[str], int, str]] = [
        ("interpreter alone (python -c pass)", ["-c", "pass"], 10, ""),
        ("phase-mirror --version", ["--version"], 10, "< 250 ms"),
        (
            "phase-mirror analyze --dry-run (1 workflow, a small repository)",
            ["analyze", str(small), *ANALYZE_FLAGS],
            10,
            "< 250 ms",
        ),
        *(
            (
                f"phase-mirror analyze --dry-run ({workflows} workflows)",
                ["analyze", str(tmp / f"repo-{workflows}"), *ANALYZE_FLAGS],
                runs,
                target,
            )
            for workflows, runs, target in ((30, 5, "< 500 ms"), (1000, 3, "< 2 s"))
        ),
    ]
    rows: list[tuple[str, int, float, str]] = []
    for label, args, runs, target in commands:
        exits: list[int] = []
        wall = measure(_cli(args, env, exits), runs, warmup=1)
        rows.append((label, exits[-1], round(wall.p50_ns / 1e6, 1), target))
    print_table(
        "CLI whole-process wall time including interpreter start-up (median)",
        ["command", "exit", "wall ms", "target"],
        rows,
    )


def _check(state: l0.L0State, policy: l0.L0Policy) -> Operation:
    check = l0.check
    return lambda _i: check(state, policy)


def _check_batch(state: l0.L0State, policy: l0.L0Policy, size: int) -> Operation:
    batch = [state] * size
    check_batch = l0.check_batch
    return lambda _i: check_batch(batch, policy)


def bench_l0() -> None:
    """A state that holds against one that violates three invariants, in the same rounds."""
    policy = l0.L0Policy(schema_hash=PINNED_SCHEMA_HASH)
    ok = l0.L0State(PINNED_SCHEMA_HASH, 0x7F, 0.1, 32, 3600.0, 0.2, 0.25, 40)
    violating = replace(
        ok, permission_bits=0xF07F, drift_magnitude=0.9, fpr_after=0.1, reviewed_events=3
    )
    labels = ("holds", "violates 3 invariants")
    single = paired(_check(ok, policy), _check(violating, policy), 200_000, warmup=1000)
    size = 10_000
    batch = paired(
        _check_batch(ok, policy, size), _check_batch(violating, policy, size), 60, warmup=2
    )
    rows = []
    for label, one, many in zip(
        labels, (single.ours, single.base), (batch.ours, batch.base), strict=True
    ):
        rows.append((label, "single check", round(one.p50_ns), round(one.p99_ns)))
        rows.append(
            (
                label,
                f"batch of {size:,} (per state)",
                round(many.p50_ns / size),
                round(many.p99_ns / size),
            )
        )
    print_table(
        "L0 invariants (ns per state; the predecessor: 1,292 ns p99 against a 100 ns target)",
        ["state", "mode", "p50 ns", "p99 ns"],
        rows,
    )


def bench_mac(tmp: Path) -> None:
    root = tmp / "repo-30"
    backend = _backend(tmp / "mac")
    try:
        analysis = analyze(
            AnalysisRequest(root=root, dry_run=True, repo_name="acme/bench"), backend
        )
        ring = load_keyring(backend.secrets, backend.metrics, now=backend.clock.now())
    finally:
        backend.close()
    report = json.loads(render(analysis, Format.JSON))
    report["integrity"] = None
    size = len(canonical_json(report))
    sealed = seal_document(json.loads(json.dumps(report)), ring.current)
    pair = paired(
        lambda _i: seal_document(report, ring.current),
        lambda _i: verify_document(sealed, ring),
        3000,
        warmup=50,
    )
    print_table(
        f"report MAC (HMAC-SHA256 over canonical JSON, {size:,} bytes, {len(report['findings'])} findings)",
        ["operation", "ops/s", "p50 µs", "p99 µs"],
        [
            ("seal", round(pair.ours.ops_per_s), pair.ours.p50_us, pair.ours.p99_us),
            ("verify", round(pair.base.ops_per_s), pair.base.p50_us, pair.base.p99_us),
        ],
    )


def run() -> None:
    with tempfile.TemporaryDirectory(prefix="pm-bench-oracle-") as name:
        tmp = Path(name)
        bench_throughput(tmp)
        bench_cli(tmp)
        bench_l0()
        bench_mac(tmp)


if __name__ == "__main__":
    run()
