"""One analysis, end to end: rules, FP filtering, decision, circuit breaker, FP recording,
degraded modes and L0 invariants, producing the (unsealed) JSON report.

Storage is reached only through the backend's ports. Failure policy:
- fail open (analysis continues, the report lists the reason): FP store read, block counter,
  baseline missing/unreadable/unavailable, circuit breaker tripped;
- fail closed (outcome block, exit 2 "cannot vouch"): redaction key missing or unreadable, FP
  event write failure;
- L0 invariant violations block and exit 1 in every mode, --dry-run included.
"""

from __future__ import annotations

import hashlib
import logging
import time
from dataclasses import dataclass, field
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

from adapters.backend import Backend
from adapters.errors import NotFound, StoreError

from . import l0
from .baseline import BaselineError, load, snapshot
from .breaker import evaluate_breaker
from .config import OracleConfig
from .context import GitHubContext
from .decision import blocking_rules, decide, limits
from .fp import record_findings
from .keys import Keyring, RedactionKeyUnavailable, load_keyring
from .model import Degradation, Fail, Finding, Mode, Outcome
from .redaction import redact
from .repo import Progress, Repository
from .report_schema import PINNED_SCHEMA_HASH, SCHEMA_HASH, SCHEMA_HASH_HEX, SCHEMA_ID
from .rules import RULES, NotApplicable, RuleContext
from .rules.base import Emitter

log = logging.getLogger("phase_mirror.oracle")

EXIT_PASS = 0
EXIT_BLOCK = 1
EXIT_CANNOT_VOUCH = 2


@dataclass(frozen=True)
class AnalysisRequest:
    root: Path
    mode: Mode = Mode.PULL_REQUEST
    strict: bool = False
    dry_run: bool = False
    context: GitHubContext | None = None
    config: OracleConfig = field(default_factory=OracleConfig)
    repo_name: str | None = None
    progress: Progress | None = None


@dataclass
class Analysis:
    report: dict[str, Any]
    keyring: Keyring | None
    findings: list[Finding]
    suppressed: list[Finding]
    outcome: Outcome
    exit_code: int


def tool_version() -> str:
    try:
        return version("phase-mirror")
    except PackageNotFoundError:
        return "0.0.0"


def repository_name(request: AnalysisRequest, repo: Repository) -> str:
    if request.repo_name:
        return request.repo_name
    if request.context is not None and request.context.repository_name:
        return request.context.repository_name
    return repo.remote_name or f"local/{request.root.resolve().name}"


def analyze(request: AnalysisRequest, backend: Backend) -> Analysis:
    started = time.perf_counter()
    now = backend.clock.now()
    config = request.config
    repo = Repository(request.root, progress=request.progress)
    repo_name = repository_name(request, repo)
    degraded: list[Degradation] = []
    storage_s = 0.0

    # Fail closed without a redaction key, but still analyze so the report says what it found.
    t = time.perf_counter()
    keyring: Keyring | None = None
    try:
        keyring = load_keyring(backend.secrets, backend.metrics, now=now)
    except RedactionKeyUnavailable as error:
        degraded.append(Degradation("redaction_key_unavailable", str(error), Fail.CLOSED))

    ctx = RuleContext(
        repo=repo,
        repo_name=repo_name,
        mode=request.mode,
        strict=request.strict,
        config=config,
        context=request.context,
        degraded=degraded,
    )
    if config.enabled("MD-005"):
        ctx.baseline = _load_baseline(backend, repo_name, degraded)
    storage_s += time.perf_counter() - t

    t = time.perf_counter()
    _ = repo.workflows  # parse once, with progress, before the rules share it
    parse_ms = (time.perf_counter() - t) * 1000

    findings, rule_rows, not_evaluated = _run_rules(ctx)
    findings = _unique_fingerprints(findings)

    # False-positive filtering by fingerprint (fail open: nothing suppressed if unreadable).
    t = time.perf_counter()
    suppressed_ids = _false_positives(backend, findings, degraded)
    storage_s += time.perf_counter() - t
    active = [f for f in findings if f.fingerprint not in suppressed_ids]
    suppressed = [f for f in findings if f.fingerprint in suppressed_ids]

    thresholds = config.thresholds
    verdict = decide(active, thresholds, strict=request.strict)
    reasons = list(verdict.reasons)

    # Circuit breaker: tripped rules leave the decision input, so their warn is final.
    t = time.perf_counter()
    breaker_counts: dict[str, int] = {}
    tripped: frozenset[str] = frozenset()
    if verdict.outcome is Outcome.BLOCK:
        result = evaluate_breaker(
            backend.block_counter,
            backend.metrics,
            blocking_rules(active),
            repo_name,
            at=now,
            threshold=thresholds.circuit_breaker_per_hour,
            record=not request.dry_run,
        )
        breaker_counts, tripped = result.counts, result.tripped
        if result.error:
            degraded.append(Degradation("block_counter_unavailable", result.error, Fail.OPEN))
    storage_s += time.perf_counter() - t
    if tripped:
        active = [f.degraded_by_breaker() if f.rule_id in tripped else f for f in active]
        for rule in sorted(tripped):
            degraded.append(
                Degradation(
                    "circuit_breaker_triggered",
                    f"{rule} blocked {breaker_counts[rule]} time(s) in this UTC hour for "
                    f"{repo_name} (threshold {thresholds.circuit_breaker_per_hour}); its "
                    "blocking findings are reported as warnings",
                    Fail.OPEN,
                    rule,
                )
            )
        verdict = decide(
            [f for f in active if not f.circuit_breaker], thresholds, strict=request.strict
        )
        reasons = [
            *verdict.reasons,
            f"circuit breaker degraded {', '.join(sorted(tripped))} to warn",
        ]
    outcome = verdict.outcome
    if tripped and outcome is Outcome.PASS:
        outcome = Outcome.WARN
    would_block = outcome is Outcome.BLOCK
    if request.dry_run and would_block:
        outcome = Outcome.WARN
        reasons.append("dry run: would block")

    # Record acted-on findings as FP events (fail closed on write failure).
    head_sha = (request.context.head_sha if request.context else None) or repo.head_sha
    fp_summary = None
    if not request.dry_run:
        t = time.perf_counter()
        recordable = [
            (f, "block" if outcome is Outcome.BLOCK and not f.circuit_breaker else "warn")
            for f in active
            if f.severity.acted_on and not f.is_evaluation_error
        ]
        if recordable:
            try:
                new, existing = record_findings(
                    backend.fp_events,
                    recordable,
                    repo=repo_name,
                    head_sha=head_sha or _tree_key(repo, config),
                    mode=request.mode.value,
                    at=now,
                )
                fp_summary = {"recorded": new, "already_recorded": existing}
            except StoreError as error:
                degraded.append(
                    Degradation("fp_write_failed", f"cannot record FP events: {error}", Fail.CLOSED)
                )
        storage_s += time.perf_counter() - t

    # L0 invariants: no flag softens them.
    permission_bits = _permission_bits(request)
    state = l0.L0State(
        schema_hash=SCHEMA_HASH,
        permission_bits=permission_bits,
        drift_magnitude=ctx.drift.magnitude if ctx.drift is not None else 0.0,
        key_bytes=len(keyring.current.material) if keyring else 32,
        key_age_seconds=keyring.age_seconds(now) if keyring else 0.0,
    )
    policy = l0_policy(config)
    bits = l0.check(state, policy)
    violations = l0.describe(bits, state, policy)
    if bits:
        outcome = Outcome.BLOCK
        reasons.append("L0 invariant violated: " + ", ".join(v.invariant for v in violations))

    unable_to_vouch = any(d.fail is Fail.CLOSED for d in degraded)
    if unable_to_vouch:
        outcome = Outcome.BLOCK
        reasons.append(
            "fail closed: " + ", ".join(d.reason for d in degraded if d.fail is Fail.CLOSED)
        )
    exit_code = (
        EXIT_CANNOT_VOUCH
        if unable_to_vouch
        else EXIT_BLOCK
        if outcome is Outcome.BLOCK
        else EXIT_PASS
    )

    report: dict[str, Any] = {
        "schema": SCHEMA_ID,
        "schema_hash": SCHEMA_HASH_HEX,
        "tool": {"name": "phase-mirror", "version": tool_version()},
        "generated_at": now.isoformat(),
        "repository": {
            "name": repo_name,
            "head_sha": head_sha,
            "base_ref": request.context.base_ref if request.context else None,
            "author": request.context.author if request.context else None,
        },
        "run": {
            "mode": request.mode.value,
            "strict": request.strict,
            "dry_run": request.dry_run,
            "config": config.source,
            "backend": backend.name,
            "permission_bits": permission_bits,
        },
        "machine_decision": {
            "outcome": outcome.value,
            "exit_code": exit_code,
            "reasons": reasons,
            "counts": verdict.counts,
            "limits": limits(thresholds, strict=request.strict),
            "suppressed": len(suppressed),
            "unable_to_vouch": unable_to_vouch,
            "would_block": would_block,
        },
        "findings": [finding_json(f) for f in _ordered(active)],
        "suppressed": [
            {**finding_json(f), "suppression": {"kind": "false_positive"}}
            for f in _ordered(suppressed)
        ],
        "degraded": [
            {
                "reason": d.reason,
                "detail": str(redact(d.detail)),
                "fail": d.fail.value,
                "rule": d.rule,
            }
            for d in degraded
        ],
        "not_evaluated": not_evaluated,
        "rules": rule_rows,
        "drift": ctx.drift.as_dict() if ctx.drift is not None else None,
        "fp_events": fp_summary,
        "circuit_breaker": {
            "threshold_per_hour": thresholds.circuit_breaker_per_hour,
            "counts": breaker_counts,
            "tripped": sorted(tripped),
        },
        "l0": {
            "ok": bits == 0,
            "bits": bits,
            "violations": [{"invariant": v.invariant, "detail": v.detail} for v in violations],
        },
        "timings": {
            "total_ms": round((time.perf_counter() - started) * 1000, 3),
            "parse_ms": round(parse_ms, 3),
            "storage_ms": round(storage_s * 1000, 3),
        },
        "integrity": None,
    }
    return Analysis(report, keyring, active, suppressed, outcome, exit_code)


def l0_policy(config: OracleConfig) -> l0.L0Policy:
    thresholds = config.thresholds
    return l0.L0Policy(
        schema_hash=PINNED_SCHEMA_HASH,
        drift_ceiling=thresholds.l0_drift_ceiling,
        max_key_age_seconds=thresholds.l0_max_key_age_days * 86400.0,
        min_witness_events=thresholds.l0_min_witness_events,
    )


def finding_json(f: Finding) -> dict[str, Any]:
    return {
        "rule_id": f.rule_id,
        "rule_version": f.rule_version,
        "check": f.check,
        "severity": f.severity.value,
        "message": str(f.message),
        "evidence": str(f.evidence),
        "remediation": f.remediation,
        "path": f.path,
        "line": f.line,
        "logical_location": f.logical_location,
        "fingerprint": f.fingerprint,
        "circuit_breaker": f.circuit_breaker,
    }


# ------------------------------------------------------------------ steps


def _load_baseline(backend: Backend, repo_name: str, degraded: list[Degradation]) -> Any:
    try:
        return load(backend.baselines, repo_name)
    except NotFound:
        degraded.append(
            Degradation(
                "baseline_missing",
                f"no baseline for {repo_name}; MD-005 not evaluated (run `phase-mirror baseline`)",
                Fail.OPEN,
                "MD-005",
            )
        )
    except BaselineError as error:
        degraded.append(Degradation("baseline_unreadable", str(error), Fail.OPEN, "MD-005"))
    except StoreError as error:
        degraded.append(
            Degradation(
                "baseline_unavailable", f"cannot read the baseline: {error}", Fail.OPEN, "MD-005"
            )
        )
    return None


def _run_rules(
    ctx: RuleContext,
) -> tuple[list[Finding], list[dict[str, Any]], list[dict[str, str]]]:
    findings: list[Finding] = []
    rows: list[dict[str, Any]] = []
    not_evaluated: list[dict[str, str]] = []
    for rule in RULES:
        spec = rule.spec
        enabled = ctx.config.enabled(spec.id)
        emit = Emitter(spec, ctx)
        evaluated = False
        started = time.perf_counter()
        if not enabled:
            not_evaluated.append({"rule": spec.id, "reason": "disabled in the configuration"})
        else:
            try:
                rule.evaluate(ctx, emit)
                evaluated = True
            except NotApplicable as reason:
                emit.findings.clear()
                not_evaluated.append({"rule": spec.id, "reason": str(redact(str(reason)))})
            except Exception as error:  # a crashing rule must block, never pass silently
                log.warning(
                    "rule %s crashed: %s: %s",
                    spec.id,
                    type(error).__name__,
                    error,
                    exc_info=log.isEnabledFor(logging.DEBUG),
                )
                emit.findings.clear()
                emit.finding(
                    "evaluation-error",
                    message=f"{spec.id} crashed while evaluating: {type(error).__name__}: {error}",
                    evidence=type(error).__name__,
                    logical=f"rule://{spec.id}",
                )
        findings.extend(emit.findings)
        rows.append(
            {
                "id": spec.id,
                "version": spec.version,
                "title": spec.title,
                "enabled": enabled,
                "evaluated": evaluated,
                "findings": len(emit.findings),
                "ms": round((time.perf_counter() - started) * 1000, 3),
            }
        )
    return findings, rows, not_evaluated


def _unique_fingerprints(findings: list[Finding]) -> list[Finding]:
    """Two findings with the same identity (e.g. the same step twice) get `#2`, `#3`..."""
    seen: dict[str, int] = {}
    out = []
    for finding in findings:
        n = seen[finding.fingerprint] = seen.get(finding.fingerprint, 0) + 1
        out.append(finding if n == 1 else finding.with_fingerprint(f"{finding.fingerprint}#{n}"))
    return out


def _false_positives(
    backend: Backend, findings: list[Finding], degraded: list[Degradation]
) -> set[str]:
    marked = set()
    try:
        for finding in findings:
            if finding.is_evaluation_error:
                continue  # never suppressible
            if backend.fp_events.is_false_positive(finding.fingerprint):
                marked.add(finding.fingerprint)
    except StoreError as error:
        degraded.append(
            Degradation(
                "fp_store_unavailable",
                f"cannot read false-positive marks, nothing suppressed: {error}",
                Fail.OPEN,
            )
        )
        return set()
    return marked


def _permission_bits(request: AnalysisRequest) -> int:
    bits = l0.PERM_READ_REPOSITORY | l0.PERM_READ_FP_EVENTS
    if request.config.enabled("MD-005"):
        bits |= l0.PERM_READ_BASELINE
    if not request.dry_run:
        bits |= l0.PERM_WRITE_FP_EVENTS | l0.PERM_WRITE_BLOCK_COUNTER | l0.PERM_ENFORCE
    return bits


def _tree_key(repo: Repository, config: OracleConfig) -> str:
    """Stands in for the head SHA outside git: a digest of the governed files, so re-running on
    unchanged content still maps to the same FP event ids."""
    digest = hashlib.sha256()
    for path, sha in sorted(snapshot(repo, config).items()):
        digest.update(f"{path}\x00{sha}\n".encode())
    return "tree-" + digest.hexdigest()[:40]


_SEVERITY_ORDER = {"critical": 0, "high": 1, "medium": 2, "low": 3}


def _ordered(findings: list[Finding]) -> list[Finding]:
    return sorted(
        findings,
        key=lambda f: (
            _SEVERITY_ORDER[f.severity.value],
            f.rule_id,
            f.path or "",
            f.line or 0,
            f.fingerprint,
        ),
    )
