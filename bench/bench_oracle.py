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
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

from adapters.backend import Backend, open_backend
from adapters.catalog import Secret
from service.oracle import AnalysisRequest, Format, analyze, l0, render
from service.oracle.config import OracleConfig
from service.oracle.integrity import canonical_json, seal_document, verify_document
from service.oracle.keys import load_keyring
from service.oracle.report_schema import PINNED_SCHEMA_HASH

from .report import measure, print_table

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


def _analyze(backend: Backend, root: Path, *, dry_run: bool) -> tuple[float, int]:
    started = time.perf_counter()
    analysis = analyze(
        AnalysisRequest(root=root, dry_run=dry_run, config=OracleConfig(), repo_name="acme/bench"),
        backend,
    )
    render(analysis, Format.JSON)
    return time.perf_counter() - started, len(analysis.findings)


def bench_throughput(tmp: Path) -> None:
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
                wall, findings = _analyze(backend, root, dry_run=dry_run)
                rows.append(
                    (workflows, label, findings, round(wall * 1000, 1), round(workflows / wall))
                )
        finally:
            backend.close()
    print_table(
        "analyze in process (parse, 6 rules, FP filter, breaker, FP events, seal JSON)",
        ["workflows", "run", "findings", "wall ms", "files/s"],
        rows,
    )


def bench_cli(tmp: Path) -> None:
    rows: list[tuple[str, str, float]] = []
    env = {**os.environ, "PHASE_MIRROR_BACKEND": f"local://{tmp / 'cli-store'}"}
    backend = open_backend(env["PHASE_MIRROR_BACKEND"])
    backend.secrets.put(Secret.REDACTION_KEY, secrets.token_hex(32))
    backend.close()
    startup = []
    for _ in range(5):
        started = time.perf_counter()
        subprocess.run(
            [sys.executable, "-m", "service.cli.main", "--version"],
            env=env,
            capture_output=True,
            check=True,
        )
        startup.append(time.perf_counter() - started)
    rows.append(
        ("interpreter + CLI start-up (--version)", "-", round(statistics.median(startup) * 1000, 1))
    )
    for workflows in (30, 1000):
        root = tmp / f"repo-{workflows}"
        times = []
        for _ in range(5 if workflows == 30 else 3):
            started = time.perf_counter()
            result = subprocess.run(
                [
                    sys.executable,
                    "-m",
                    "service.cli.main",
                    "analyze",
                    str(root),
                    "--dry-run",
                    "--format",
                    "json",
                    "--repo",
                    "acme/bench",
                ],
                env=env,
                capture_output=True,
                text=True,
            )
            times.append(time.perf_counter() - started)
            json.loads(result.stdout)
        rows.append(
            (
                f"phase-mirror analyze --dry-run ({workflows} workflows)",
                str(result.returncode),
                round(statistics.median(times) * 1000, 1),
            )
        )
    print_table("CLI wall time including start-up (median)", ["command", "exit", "wall ms"], rows)


def _single_check(state: l0.L0State, policy: l0.L0Policy) -> Callable[[int], object]:
    check = l0.check
    return lambda _i: check(state, policy)


def bench_l0() -> None:
    policy = l0.L0Policy(schema_hash=PINNED_SCHEMA_HASH)
    ok = l0.L0State(PINNED_SCHEMA_HASH, 0x7F, 0.1, 32, 3600.0, 0.2, 0.25, 40)
    violating = replace(
        ok, permission_bits=0xF07F, drift_magnitude=0.9, fpr_after=0.1, reviewed_events=3
    )
    rows = []
    for label, state in (("holds", ok), ("violates 3 invariants", violating)):
        stats = measure(_single_check(state, policy), 200_000, warmup=1000)
        rows.append((label, "single check", round(stats.p50_us * 1000), round(stats.p99_us * 1000)))
        batch = [state] * 10_000
        per_state = []
        for _ in range(60):
            started = time.perf_counter_ns()
            l0.check_batch(batch, policy)
            per_state.append((time.perf_counter_ns() - started) / 10_000)
        per_state.sort()
        rows.append(
            (
                label,
                "batch of 10,000 (per state)",
                round(statistics.median(per_state)),
                round(per_state[int(len(per_state) * 0.99) - 1]),
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
    seal = measure(lambda _i: seal_document(report, ring.current), 3000, warmup=50)
    check = measure(lambda _i: verify_document(sealed, ring), 3000, warmup=50)
    print_table(
        f"report MAC (HMAC-SHA256 over canonical JSON, {size:,} bytes, {len(report['findings'])} findings)",
        ["operation", "ops/s", "p50 µs", "p99 µs"],
        [
            ("seal", round(seal.ops_per_s), seal.p50_us, seal.p99_us),
            ("verify", round(check.ops_per_s), check.p50_us, check.p99_us),
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
