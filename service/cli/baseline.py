"""`phase-mirror baseline` and `phase-mirror drift`: record governed-file hashes as a versioned
baseline in the object store, and compare a checkout with it."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from adapters.errors import NotFound
from service.oracle import l0
from service.oracle.baseline import (
    Baseline,
    BaselineError,
    baseline_key,
    compare,
    load,
    snapshot,
    store,
)
from service.oracle.engine import l0_policy
from service.oracle.integrity import seal_document, seal_text
from service.oracle.keys import RedactionKeyUnavailable, load_keyring
from service.oracle.repo import Repository
from service.oracle.report_schema import SCHEMA_HASH

from .analyze import load_inputs
from .common import EXIT_DEGRADED, EXIT_FAIL, EXIT_OK, UsageError, backend_from, write_report

DRIFT_SCHEMA = "phase-mirror/drift@1"


def _common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "path", nargs="?", default=".", metavar="PATH", help="repository checkout (default: .)"
    )
    parser.add_argument(
        "--repo",
        metavar="OWNER/NAME",
        help="repository name (default: git origin, or local/<folder>)",
    )
    parser.add_argument(
        "--config",
        metavar="FILE",
        type=Path,
        help="oracle configuration (governed_paths, thresholds)",
    )


def register(subparsers: Any) -> None:
    base = subparsers.add_parser(
        "baseline",
        help="record the governed files' SHA-256 as a new baseline version",
        description=(
            "Hash every governed file (workflows, CODEOWNERS, Pulumi program, policy packs, the "
            "oracle config and configured governed_paths) and store the result as a new "
            "version of the repository's baseline in the object store. Earlier versions stay "
            "readable (`--list`, `drift --baseline-version`)."
        ),
    )
    _common(base)
    base.add_argument("--list", action="store_true", help="list stored baseline versions instead")
    base.set_defaults(func=run_baseline)

    drift = subparsers.add_parser(
        "drift",
        help="compare governed files with the latest (or a given) baseline",
        description=(
            "Compare the checkout's governed files with the stored baseline: magnitude = "
            "changed / tracked. Exit 0 within thresholds.drift_magnitude, 1 above it (or above "
            "the L0 ceiling), 2 when there is no baseline or no redaction key to seal the report."
        ),
    )
    _common(drift)
    drift.add_argument(
        "--baseline-version", metavar="ID", help="compare with this baseline version"
    )
    drift.add_argument(
        "--format", choices=("text", "json"), default="text", help="report format (default: text)"
    )
    drift.add_argument(
        "--output", "-o", type=Path, metavar="FILE", help="write the report here instead of stdout"
    )
    drift.set_defaults(func=run_drift)


def _inputs(args: argparse.Namespace) -> tuple[Repository, Any, str]:
    args.context = None
    root, config, _ = load_inputs(args)
    repo = Repository(root)
    name = args.repo or repo.remote_name or f"local/{root.resolve().name}"
    return repo, config, name


def run_baseline(args: argparse.Namespace) -> int:
    repo, config, name = _inputs(args)
    backend = backend_from(args)
    try:
        if args.list:
            versions = backend.baselines.versions(baseline_key(name))
            if not versions:
                print(f"no baseline for {name}", file=sys.stderr)
                return EXIT_DEGRADED
            for v in versions:
                print(f"{v.version_id}\t{v.created_at.isoformat()}\t{v.size} bytes")
            return EXIT_OK
        files = snapshot(repo, config)
        baseline = Baseline(name, backend.clock.now(), files, head_sha=repo.head_sha)
        stored = store(backend.baselines, baseline)
    finally:
        backend.close()
    print(f"baseline for {name}: version {stored.version_id}, {len(files)} governed file(s)")
    return EXIT_OK


def run_drift(args: argparse.Namespace) -> int:
    repo, config, name = _inputs(args)
    backend = backend_from(args)
    try:
        now = backend.clock.now()
        try:
            keyring = load_keyring(backend.secrets, backend.metrics, now=now)
        except RedactionKeyUnavailable as error:
            print(
                f"phase-mirror: error: cannot seal the drift report (fail closed): {error}",
                file=sys.stderr,
            )
            return EXIT_DEGRADED
        try:
            baseline = load(backend.baselines, name, args.baseline_version)
        except NotFound:
            which = (
                f"version {args.baseline_version} of the baseline"
                if args.baseline_version
                else "baseline"
            )
            print(
                f"phase-mirror: no {which} for {name}; record one with `phase-mirror baseline` "
                "(drift cannot be vouched for)",
                file=sys.stderr,
            )
            return EXIT_DEGRADED
        except BaselineError as error:
            raise UsageError(f"baseline for {name}: {error}") from None
        drift = compare(baseline, snapshot(repo, config))
    finally:
        backend.close()

    threshold = config.thresholds.drift_magnitude
    policy = l0_policy(config)
    state = l0.L0State(
        SCHEMA_HASH, l0.PERM_READ_REPOSITORY | l0.PERM_READ_BASELINE, drift.magnitude
    )
    bits = l0.check(state, policy)
    above = drift.magnitude > threshold
    report = {
        "schema": DRIFT_SCHEMA,
        "repository": name,
        "generated_at": now.isoformat(),
        "threshold": threshold,
        "above_threshold": above,
        "drift": drift.as_dict(),
        "l0": {
            "ok": bits == 0,
            "violations": [v.__dict__ for v in l0.describe(bits, state, policy)],
        },
        "integrity": None,
    }
    if args.format == "json":
        text = json.dumps(seal_document(report, keyring.current), indent=2) + "\n"
    else:
        lines = [
            f"drift for {name} against baseline version {drift.baseline_version}: "
            f"{drift.changed} of {drift.tracked} governed files changed, magnitude "
            f"{drift.magnitude:.3f} ({'ABOVE' if above else 'within'} threshold {threshold:.3f})"
        ]
        lines += [f"  modified {p}" for p in drift.modified]
        lines += [f"  added    {p}" for p in drift.added]
        lines += [f"  removed  {p}" for p in drift.removed]
        lines += [
            f"L0 violation: {v['invariant']}: {v['detail']}" for v in report["l0"]["violations"]
        ]
        text = seal_text("\n".join(lines) + "\n", keyring.current)
    write_report(text, args.output)
    return EXIT_FAIL if above or bits else EXIT_OK
