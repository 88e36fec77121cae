"""The end-to-end cycle on every landed backend kind (`backend` is parametrized over
BACKEND_KINDS): analyze a fixture repository in pull-request mode -> blocking findings recorded
as FP events -> one marked false positive -> re-analysis suppresses it -> baseline + drift."""

from __future__ import annotations

import json
import secrets
import shutil
from pathlib import Path

from adapters.backend import Backend
from adapters.catalog import Secret
from adapters.ports import Review
from service.oracle import fp
from service.oracle.baseline import Baseline, compare, load, snapshot, store
from service.oracle.config import OracleConfig
from service.oracle.context import load_context
from service.oracle.engine import AnalysisRequest, analyze
from service.oracle.integrity import verify_document
from service.oracle.keys import load_keyring
from service.oracle.model import Mode, Outcome
from service.oracle.render import Format, render
from service.oracle.repo import Repository

from .conftest import fixture


def _repository(tmp_path: Path) -> Path:
    """Workflows with real problems plus a CODEOWNERS, like a typical service repository."""
    root = tmp_path / "widgets"
    shutil.copytree(fixture("md002", "failing"), root)
    shutil.copytree(fixture("md003", "passing", ".github"), root / ".github", dirs_exist_ok=True)
    (root / ".github" / "CODEOWNERS").write_text(
        "* @acme/widgets-maintainers\n/.github/ @acme/platform\n"
    )
    return root


def test_cycle(backend: Backend, tmp_path: Path) -> None:
    backend.secrets.put(Secret.REDACTION_KEY, secrets.token_hex(32))
    root = _repository(tmp_path)
    request = AnalysisRequest(
        root=root,
        mode=Mode.PULL_REQUEST,
        context=load_context(fixture("md001", "failing", "context.json")),
        config=OracleConfig(),
    )

    # 1. analyze in pull-request mode: it blocks, and every acted-on finding is an FP event
    first = analyze(request, backend)
    assert first.outcome is Outcome.BLOCK and first.exit_code == 1
    acted = [f for f in first.findings if f.severity.acted_on]
    events = list(backend.fp_events.scan())
    assert {e.finding_id for e in events} == {f.fingerprint for f in acted}
    assert {e.decision for e in events} == {"block"}
    assert {e.repo for e in events} == {"acme/widgets"}
    assert {e.context["head_sha"] for e in events} == {"1" * 40}

    # 2. a reviewer marks one finding false positive, by its fingerprint
    target = next(f for f in first.findings if f.check_id == "MD-002.write-all")
    result = fp.mark(
        backend.fp_events,
        target.fingerprint,
        Review.FALSE_POSITIVE,
        reviewer="alice",
        reason="the release job needs it",
        at=backend.clock.now(),
    )
    assert result.finding_id == target.fingerprint and len(result.marked) == 1

    # 3. re-analysis suppresses it; the same head records no duplicate events
    second = analyze(request, backend)
    assert [f.fingerprint for f in second.suppressed] == [target.fingerprint]
    assert target.fingerprint not in {f.fingerprint for f in second.findings}
    assert second.report["fp_events"] == {"recorded": 0, "already_recorded": len(acted) - 1}
    assert len(list(backend.fp_events.scan())) == len(acted)
    rate = fp.rate(backend.fp_events, "MD-002", last=None, since=None)
    assert rate.false_positives == 1 and rate.fpr == 1.0

    # the sealed report verifies with the backend's key
    ring = load_keyring(backend.secrets, backend.metrics, now=backend.clock.now())
    assert verify_document(json.loads(render(second, Format.JSON)), ring).which == "current"

    # 4. baseline, then drift: none at first, some after a governed file changes
    config = OracleConfig()
    stored = store(
        backend.baselines,
        Baseline("acme/widgets", backend.clock.now(), snapshot(Repository(root), config)),
    )
    baseline = load(backend.baselines, "acme/widgets")
    assert baseline.version_id == stored.version_id
    assert compare(baseline, snapshot(Repository(root), config)).changed == 0
    (root / ".github" / "workflows" / "oidc.yml").write_text("on: push\njobs: {}\n")
    drift = compare(load(backend.baselines, "acme/widgets"), snapshot(Repository(root), config))
    assert drift.modified == (".github/workflows/oidc.yml",) and drift.magnitude > 0

    third = analyze(request, backend)
    assert third.report["drift"]["modified"] == [".github/workflows/oidc.yml"]
    assert not [d for d in third.report["degraded"] if d["rule"] == "MD-005"]
