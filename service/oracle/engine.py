"""One analysis, end to end: rules, FP filtering, decision, circuit breaker, FP recording,
degraded modes and L0 invariants, producing the (unsealed) JSON report.

Storage is reached only through the backend's ports. Failure policy:
- fail open (analysis continues, the report lists the reason): FP store read, block counter,
  baseline missing/unreadable/unavailable, circuit breaker tripped;
- fail closed (outcome block, exit 2 "cannot vouch"): redaction key missing or unreadable, FP
  event write failure;
- L0 invariant violations block and exit 1 in every mode, --dry-run included.

`analyze` is a pipeline of steps, each with one job; they share a `_Run` (the request, its
storage, the clock reading and the degradations found so far) and hand typed results on. The
last step fills the report model (report.py), which renders the JSON report.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, Final, Literal

from adapters.backend import Backend
from adapters.errors import NotFound, StoreError

from . import l0
from .baseline import Baseline, BaselineError, Drift, load, snapshot
from .breaker import BreakerResult, evaluate_breaker
from .config import OracleConfig
from .context import GitHubContext
from .decision import Verdict, blocking_rules, decide, limits
from .evaluation import run_rules
from .fp import record_findings
from .keys import Keyring, RedactionKeyUnavailable, load_keyring
from .model import Degradation, Fail, Finding, Mode, Outcome
from .repo import Progress, Repository
from .report import (
    TOOL_NAME,
    CircuitBreaker,
    FpEvents,
    L0Result,
    MachineDecision,
    Report,
    RepositoryInfo,
    RunInfo,
    Timings,
    Tool,
)
from .report_schema import PINNED_SCHEMA_HASH, SCHEMA_HASH
from .rules import RULES
from .rules.base import RuleContext

EXIT_PASS = 0
EXIT_BLOCK = 1
EXIT_CANNOT_VOUCH = 2

#: The version reported when running from a source tree without installed package metadata.
UNINSTALLED_VERSION: Final = "0.0.0"

#: What the L0 drift invariant sees when MD-005 measured nothing (disabled, or no usable
#: baseline): the report already says why under `not_evaluated` or `degraded`.
NO_DRIFT_MEASURED: Final = 0.0

#: The key facts the L0 freshness invariant sees without a redaction key: a compliant key. The
#: missing key already fails closed (`redaction_key_unavailable`, exit 2); reporting it again as
#: a freshness violation would say the same thing twice.
ABSENT_KEY_FACTS: Final = (32, 0.0)


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
    #: The rendered report (`model.as_json()`), what every format reads.
    report: dict[str, Any]
    keyring: Keyring | None
    findings: list[Finding]
    suppressed: list[Finding]
    outcome: Outcome
    exit_code: int
    model: Report


def analyze(request: AnalysisRequest, backend: Backend) -> Analysis:
    run = _start(request, backend)
    keyring, ctx = _read_inputs(run)
    _parse_workflows(run)
    evaluation = run_rules(ctx, RULES)
    screened = _screen_false_positives(run, evaluation.findings)
    decision = _decide(run, screened.active)
    fp_events = _record_fp_events(run, decision)
    permission_bits = _permission_bits(request)
    invariants = _check_l0(run, permission_bits, ctx.drift, keyring)
    verdict = _machine_decision(run, decision, invariants, suppressed=len(screened.suppressed))
    model = Report(
        tool=Tool(TOOL_NAME, tool_version()),
        generated_at=run.now,
        repository=_repository_info(run),
        run=_run_info(run, permission_bits),
        machine_decision=verdict,
        findings=decision.active,
        suppressed=screened.suppressed,
        degraded=list(run.degraded),
        not_evaluated=evaluation.not_evaluated,
        rules=evaluation.rows,
        drift=ctx.drift,
        fp_events=fp_events,
        circuit_breaker=_circuit_breaker(run, decision.breaker),
        l0=invariants,
        timings=run.watch.timings(),
    )
    return Analysis(
        report=model.as_json(),
        keyring=keyring,
        findings=decision.active,
        suppressed=screened.suppressed,
        outcome=verdict.outcome,
        exit_code=verdict.exit_code,
        model=model,
    )


def tool_version() -> str:
    # Imported here: importlib.metadata costs ~25 ms of start-up, and only reports need it.
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("phase-mirror")
    except PackageNotFoundError:
        return UNINSTALLED_VERSION


def repository_name(request: AnalysisRequest, repo: Repository) -> str:
    """The first that is known: --repo, the context's repository, the checkout's `origin`
    remote, and last the checkout's folder under `local/` (never mistaken for a GitHub owner)."""
    if request.repo_name:
        return request.repo_name
    if request.context is not None and request.context.repository_name:
        return request.context.repository_name
    return repo.remote_name or f"local/{request.root.resolve().name}"


def l0_policy(config: OracleConfig) -> l0.L0Policy:
    thresholds = config.thresholds
    return l0.L0Policy(
        schema_hash=PINNED_SCHEMA_HASH,
        drift_ceiling=thresholds.l0_drift_ceiling,
        max_key_age_seconds=thresholds.l0_max_key_age_days * 86400.0,
        min_witness_events=thresholds.l0_min_witness_events,
    )


# ------------------------------------------------------------------ shared state


class _Stopwatch:
    """The run's wall time and the parts of it spent parsing workflows and in storage."""

    def __init__(self) -> None:
        self._started = time.perf_counter()
        self._spent = {"parse": 0.0, "storage": 0.0}

    @contextmanager
    def measure(self, part: Literal["parse", "storage"]) -> Iterator[None]:
        started = time.perf_counter()
        try:
            yield
        finally:
            self._spent[part] += time.perf_counter() - started

    def timings(self) -> Timings:
        return Timings(
            total_ms=_ms(time.perf_counter() - self._started),
            parse_ms=_ms(self._spent["parse"]),
            storage_ms=_ms(self._spent["storage"]),
        )


def _ms(seconds: float) -> float:
    return round(seconds * 1000, 3)


@dataclass
class _Run:
    request: AnalysisRequest
    backend: Backend
    now: datetime
    repo: Repository
    repo_name: str
    #: The change under review's head as GitHub reports it, else the checkout's HEAD.
    head_sha: str | None
    watch: _Stopwatch
    #: Shared with the rules (RuleContext.degraded), which may add their own.
    degraded: list[Degradation] = field(default_factory=list)


def _start(request: AnalysisRequest, backend: Backend) -> _Run:
    watch = _Stopwatch()
    repo = Repository(request.root, progress=request.progress)
    context_head = request.context.head_sha if request.context is not None else None
    run = _Run(
        request=request,
        backend=backend,
        now=backend.clock.now(),
        repo=repo,
        repo_name=repository_name(request, repo),
        head_sha=context_head or repo.head_sha,
        watch=watch,
    )
    if request.context is not None:
        # What `phase-mirror context` could not read (a token without a permission) is a
        # fail-open degradation: the rules that needed it say so under `not_evaluated`.
        run.degraded.extend(
            Degradation("context_incomplete", note, Fail.OPEN) for note in request.context.notes
        )
    return run


# ------------------------------------------------------------------ inputs


def _read_inputs(run: _Run) -> tuple[Keyring | None, RuleContext]:
    """The redaction key and, for MD-005, the baseline: what the rules read from storage."""
    with run.watch.measure("storage"):
        keyring = _load_keyring(run)
        ctx = RuleContext(
            repo=run.repo,
            repo_name=run.repo_name,
            mode=run.request.mode,
            strict=run.request.strict,
            config=run.request.config,
            context=run.request.context,
            degraded=run.degraded,
        )
        if run.request.config.enabled("MD-005"):
            ctx.baseline = _load_baseline(run)
    return keyring, ctx


def _load_keyring(run: _Run) -> Keyring | None:
    # Fail closed without a redaction key, but still analyze so the report says what it found.
    try:
        return load_keyring(run.backend.secrets, run.backend.metrics, now=run.now)
    except RedactionKeyUnavailable as error:
        run.degraded.append(Degradation("redaction_key_unavailable", str(error), Fail.CLOSED))
        return None


def _load_baseline(run: _Run) -> Baseline | None:
    """The stored baseline; None (MD-005 not evaluated, fail open) with the reason recorded."""
    try:
        return load(run.backend.baselines, run.repo_name)
    except NotFound:
        run.degraded.append(
            Degradation(
                "baseline_missing",
                f"no baseline for {run.repo_name}; MD-005 not evaluated "
                "(run `phase-mirror baseline`)",
                Fail.OPEN,
                "MD-005",
            )
        )
    except BaselineError as error:
        run.degraded.append(Degradation("baseline_unreadable", str(error), Fail.OPEN, "MD-005"))
    except StoreError as error:
        run.degraded.append(
            Degradation(
                "baseline_unavailable", f"cannot read the baseline: {error}", Fail.OPEN, "MD-005"
            )
        )
    return None


def _parse_workflows(run: _Run) -> None:
    # Parse once, with progress, before the rules share the result.
    with run.watch.measure("parse"):
        _ = run.repo.workflows


# ------------------------------------------------------------------ false positives


@dataclass(frozen=True)
class _Screened:
    active: list[Finding]
    #: Findings whose fingerprint a reviewer marked as a false positive.
    suppressed: list[Finding]


def _screen_false_positives(run: _Run, findings: list[Finding]) -> _Screened:
    with run.watch.measure("storage"):
        marked = _false_positive_marks(run, findings)
    return _Screened(
        active=[f for f in findings if f.fingerprint not in marked],
        suppressed=[f for f in findings if f.fingerprint in marked],
    )


def _false_positive_marks(run: _Run, findings: list[Finding]) -> set[str]:
    """Fingerprints marked false positive; none (fail open) when the marks are unreadable."""
    marked = set()
    try:
        for finding in findings:
            if finding.is_evaluation_error:
                continue  # never suppressible
            if run.backend.fp_events.is_false_positive(finding.fingerprint):
                marked.add(finding.fingerprint)
    except StoreError as error:
        run.degraded.append(
            Degradation(
                "fp_store_unavailable",
                f"cannot read false-positive marks, nothing suppressed: {error}",
                Fail.OPEN,
            )
        )
        return set()
    return marked


# ------------------------------------------------------------------ decision


@dataclass(frozen=True)
class _Decision:
    """The decision before the L0 invariants and fail-closed degradations have their say."""

    #: The unsuppressed findings, those of tripped rules marked `circuit_breaker`.
    active: list[Finding]
    verdict: Verdict
    outcome: Outcome
    reasons: list[str]
    would_block: bool
    breaker: BreakerResult


def _decide(run: _Run, active: list[Finding]) -> _Decision:
    verdict = _verdict(run, active)
    reasons = list(verdict.reasons)
    breaker = _count_blocks(run, verdict, active)
    if breaker.tripped:
        # Tripped rules leave the decision input, so their warn is final.
        active = [f.degraded_by_breaker() if f.rule_id in breaker.tripped else f for f in active]
        run.degraded.extend(_breaker_degradations(run, breaker))
        verdict = _verdict(run, [f for f in active if not f.circuit_breaker])
        tripped = ", ".join(sorted(breaker.tripped))
        reasons = [*verdict.reasons, f"circuit breaker degraded {tripped} to warn"]
    outcome = verdict.outcome
    if breaker.tripped and outcome is Outcome.PASS:
        outcome = Outcome.WARN  # softened blocks are still findings to look at
    would_block = outcome is Outcome.BLOCK
    if run.request.dry_run and would_block:
        outcome = Outcome.WARN
        reasons.append("dry run: would block")
    return _Decision(active, verdict, outcome, reasons, would_block, breaker)


def _verdict(run: _Run, findings: list[Finding]) -> Verdict:
    return decide(findings, run.request.config.thresholds, strict=run.request.strict)


def _count_blocks(run: _Run, verdict: Verdict, active: list[Finding]) -> BreakerResult:
    """Count this block per rule; only a blocking verdict is counted (or can be softened)."""
    if verdict.outcome is not Outcome.BLOCK:
        return BreakerResult()
    with run.watch.measure("storage"):
        result = evaluate_breaker(
            run.backend.block_counter,
            run.backend.metrics,
            blocking_rules(active),
            run.repo_name,
            at=run.now,
            threshold=run.request.config.thresholds.circuit_breaker_per_hour,
            record=not run.request.dry_run,
        )
    if result.error:
        run.degraded.append(Degradation("block_counter_unavailable", result.error, Fail.OPEN))
    return result


def _breaker_degradations(run: _Run, breaker: BreakerResult) -> list[Degradation]:
    threshold = run.request.config.thresholds.circuit_breaker_per_hour
    return [
        Degradation(
            "circuit_breaker_triggered",
            f"{rule} blocked {breaker.counts[rule]} time(s) in this UTC hour for "
            f"{run.repo_name} (threshold {threshold}); its "
            "blocking findings are reported as warnings",
            Fail.OPEN,
            rule,
        )
        for rule in sorted(breaker.tripped)
    ]


# ------------------------------------------------------------------ FP events


def _record_fp_events(run: _Run, decision: _Decision) -> FpEvents | None:
    """Record acted-on findings as FP events (fail closed on write failure); None when nothing
    was written: a dry run, nothing acted on, or a failed write."""
    if run.request.dry_run:
        return None
    with run.watch.measure("storage"):
        return _write_fp_events(run, _recordable(decision))


def _recordable(decision: _Decision) -> list[tuple[Finding, str]]:
    # Each event carries the decision that really applied to its finding.
    blocked = decision.outcome is Outcome.BLOCK
    return [
        (f, "block" if blocked and not f.circuit_breaker else "warn")
        for f in decision.active
        if f.severity.acted_on and not f.is_evaluation_error
    ]


def _write_fp_events(run: _Run, recordable: list[tuple[Finding, str]]) -> FpEvents | None:
    if not recordable:
        return None
    try:
        new, existing = record_findings(
            run.backend.fp_events,
            recordable,
            repo=run.repo_name,
            head_sha=_fp_revision(run),
            mode=run.request.mode.value,
            at=run.now,
        )
    except StoreError as error:
        run.degraded.append(
            Degradation("fp_write_failed", f"cannot record FP events: {error}", Fail.CLOSED)
        )
        return None
    return FpEvents(recorded=new, already_recorded=existing)


def _fp_revision(run: _Run) -> str:
    """The revision FP events are keyed by: the head SHA, or outside git a tree digest."""
    return run.head_sha if run.head_sha is not None else _tree_key(run.repo, run.request.config)


def _tree_key(repo: Repository, config: OracleConfig) -> str:
    """Stands in for the head SHA outside git: a digest of the governed files, so re-running on
    unchanged content still maps to the same FP event ids."""
    digest = hashlib.sha256()
    for path, sha in sorted(snapshot(repo, config).items()):
        digest.update(f"{path}\x00{sha}\n".encode())
    return "tree-" + digest.hexdigest()[:40]


# ------------------------------------------------------------------ L0 invariants


def _permission_bits(request: AnalysisRequest) -> int:
    bits = l0.PERM_READ_REPOSITORY | l0.PERM_READ_FP_EVENTS
    if request.config.enabled("MD-005"):
        bits |= l0.PERM_READ_BASELINE
    if not request.dry_run:
        bits |= l0.PERM_WRITE_FP_EVENTS | l0.PERM_WRITE_BLOCK_COUNTER | l0.PERM_ENFORCE
    return bits


def _check_l0(
    run: _Run, permission_bits: int, drift: Drift | None, keyring: Keyring | None
) -> L0Result:
    """The invariants no flag softens."""
    key_bytes, key_age_seconds = (
        (len(keyring.current.material), keyring.age_seconds(run.now))
        if keyring is not None
        else ABSENT_KEY_FACTS
    )
    state = l0.L0State(
        schema_hash=SCHEMA_HASH,
        permission_bits=permission_bits,
        drift_magnitude=drift.magnitude if drift is not None else NO_DRIFT_MEASURED,
        key_bytes=key_bytes,
        key_age_seconds=key_age_seconds,
    )
    policy = l0_policy(run.request.config)
    bits = l0.check(state, policy)
    return L0Result(ok=bits == 0, bits=bits, violations=l0.describe(bits, state, policy))


# ------------------------------------------------------------------ report parts


def _machine_decision(
    run: _Run, decision: _Decision, invariants: L0Result, *, suppressed: int
) -> MachineDecision:
    """The final outcome: an L0 violation or a fail-closed degradation overrides any other."""
    outcome, reasons = decision.outcome, list(decision.reasons)
    if not invariants.ok:
        outcome = Outcome.BLOCK
        reasons.append(
            "L0 invariant violated: " + ", ".join(v.invariant for v in invariants.violations)
        )
    closed = [d.reason for d in run.degraded if d.fail is Fail.CLOSED]
    if closed:
        outcome = Outcome.BLOCK
        reasons.append("fail closed: " + ", ".join(closed))
    return MachineDecision(
        outcome=outcome,
        exit_code=_exit_code(outcome, unable_to_vouch=bool(closed)),
        reasons=reasons,
        counts=decision.verdict.counts,
        limits=limits(run.request.config.thresholds, strict=run.request.strict),
        suppressed=suppressed,
        unable_to_vouch=bool(closed),
        would_block=decision.would_block,
    )


def _exit_code(outcome: Outcome, *, unable_to_vouch: bool) -> int:
    if unable_to_vouch:
        return EXIT_CANNOT_VOUCH
    return EXIT_BLOCK if outcome is Outcome.BLOCK else EXIT_PASS


def _repository_info(run: _Run) -> RepositoryInfo:
    context = run.request.context
    return RepositoryInfo(
        name=run.repo_name,
        head_sha=run.head_sha,
        base_ref=context.base_ref if context is not None else None,
        author=context.author if context is not None else None,
    )


def _run_info(run: _Run, permission_bits: int) -> RunInfo:
    request = run.request
    return RunInfo(
        mode=request.mode,
        strict=request.strict,
        dry_run=request.dry_run,
        config=request.config.source,
        backend=run.backend.name,
        permission_bits=permission_bits,
    )


def _circuit_breaker(run: _Run, breaker: BreakerResult) -> CircuitBreaker:
    return CircuitBreaker(
        threshold_per_hour=run.request.config.thresholds.circuit_breaker_per_hour,
        counts=breaker.counts,
        tripped=sorted(breaker.tripped),
    )
