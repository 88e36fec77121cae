"""Every rule against its failing and passing fixture repositories (KICS/Trivy style)."""

from __future__ import annotations

from pathlib import Path

from adapters.backend import Backend
from service.oracle.baseline import Baseline, snapshot, store
from service.oracle.config import OracleConfig
from service.oracle.model import Mode, Severity
from service.oracle.repo import Repository

from .conftest import checks, fixture, run


def by_check(analysis, check_id):  # type: ignore[no-untyped-def]
    return [f for f in analysis.findings if f.check_id == check_id]


# ----------------------------------------------------------------- MD-001


def test_md001_failing_weak_protection(keyed_backend: Backend) -> None:
    analysis = run(
        keyed_backend,
        fixture("md001", "failing"),
        context=fixture("md001", "failing", "context.json"),
    )
    assert checks(analysis, "MD-001") == {
        "MD-001.insufficient-reviews",
        "MD-001.stale-reviews-kept",
        "MD-001.admins-not-enforced",
        "MD-001.force-push-allowed",
        "MD-001.deletion-allowed",
        "MD-001.no-status-checks",
    }
    reviews = by_check(analysis, "MD-001.insufficient-reviews")[0]
    assert reviews.path == "context.json" and reviews.line == 5
    assert reviews.logical_location == "github://acme/widgets/branches/main/protection"
    assert reviews.remediation


def test_md001_failing_unprotected_is_critical_and_alone(keyed_backend: Backend) -> None:
    analysis = run(
        keyed_backend,
        fixture("md001", "failing"),
        context=fixture("md001", "failing", "unprotected.json"),
    )
    [finding] = [f for f in analysis.findings if f.rule_id == "MD-001"]
    assert finding.check == "unprotected" and finding.severity is Severity.CRITICAL
    assert analysis.outcome.value == "block"


def test_md001_passing_classic_and_rulesets(keyed_backend: Backend) -> None:
    for context in ("context.json", "rulesets-context.json"):
        analysis = run(
            keyed_backend, fixture("md001", "passing"), context=fixture("md001", "passing", context)
        )
        assert checks(analysis, "MD-001") == set(), context


def test_md001_strict_needs_two_approvals(keyed_backend: Backend, tmp_path: Path) -> None:
    context = (
        fixture("md001", "passing", "context.json")
        .read_text()
        .replace('"required_approving_review_count": 2', '"required_approving_review_count": 1')
    )
    path = tmp_path / "ctx.json"
    path.write_text(context)
    assert checks(run(keyed_backend, fixture("md001", "passing"), context=path), "MD-001") == set()
    strict = run(keyed_backend, fixture("md001", "passing"), context=path, strict=True)
    assert checks(strict, "MD-001") == {"MD-001.insufficient-reviews"}


def test_md001_merge_group_needs_strict_checks(keyed_backend: Backend, tmp_path: Path) -> None:
    context = (
        fixture("md001", "passing", "context.json")
        .read_text()
        .replace('"strict": true', '"strict": false')
    )
    path = tmp_path / "ctx.json"
    path.write_text(context)
    assert checks(run(keyed_backend, fixture("md001", "passing"), context=path), "MD-001") == set()
    merge = run(keyed_backend, fixture("md001", "passing"), context=path, mode=Mode.MERGE_GROUP)
    assert "MD-001.non-strict-status-checks" in checks(merge, "MD-001")


def test_md001_without_context_is_not_evaluated(keyed_backend: Backend) -> None:
    analysis = run(keyed_backend, fixture("md002", "passing"))
    assert "MD-001" in {row["rule"] for row in analysis.report["not_evaluated"]}
    assert checks(analysis, "MD-001") == set()


# ----------------------------------------------------------------- MD-002


def test_md002_failing(keyed_backend: Backend) -> None:
    analysis = run(keyed_backend, fixture("md002", "failing"))
    found = {
        (f.check, f.path.rsplit("/", 1)[-1])
        for f in analysis.findings
        if f.rule_id == "MD-002" and f.path
    }
    assert found == {
        ("missing-permissions", "no-permissions.yml"),
        ("write-all", "write-all.yml"),
        ("untrusted-checkout", "pr-target-checkout.yml"),
        ("untrusted-checkout", "workflow-run.yml"),
        ("id-token-workflow-wide", "oidc.yml"),
    }
    checkout = next(
        f for f in by_check(analysis, "MD-002.untrusted-checkout") if "pr-target" in (f.path or "")
    )
    assert checkout.severity is Severity.CRITICAL
    assert checkout.line == 14  # the `ref:` line, not the step
    assert "github.event.pull_request.head.sha" in checkout.evidence
    run_fetch = next(
        f
        for f in by_check(analysis, "MD-002.untrusted-checkout")
        if "workflow-run" in (f.path or "")
    )
    assert run_fetch.line == 13
    assert by_check(analysis, "MD-002.write-all")[0].line == 5
    # fork-write.yml: whether fork pull requests get that write token depends on the
    # repository's visibility, which no context told the oracle; the report says so.
    skipped = [n["reason"] for n in analysis.report["not_evaluated"] if n["rule"] == "MD-002"]
    assert len(skipped) == 1 and "fork-pr-write" in skipped[0] and "fork-write.yml" in skipped[0]


def test_md002_passing(keyed_backend: Backend) -> None:
    assert checks(run(keyed_backend, fixture("md002", "passing")), "MD-002") == set()


# ----------------------------------------------------------------- MD-003


def test_md003_failing(keyed_backend: Backend) -> None:
    analysis = run(keyed_backend, fixture("md003", "failing"))
    found = sorted(
        (f.check, f.path.rsplit("/", 1)[-1], f.line, f.severity.value)
        for f in analysis.findings
        if f.rule_id == "MD-003" and f.path
    )
    assert found == [
        ("invalid-workflow", "notes.yaml", 1, "medium"),
        ("malformed-workflow", "broken.yml", 8, "high"),
        ("pipe-to-shell", "install.yml", 12, "high"),
        ("script-injection", "injection.yml", 15, "critical"),
        ("script-injection", "injection.yml", 19, "critical"),
        ("script-injection", "pr-title.yml", 9, "high"),
        ("script-injection", "pr-title.yml", 9, "high"),
        ("unpinned-action", "unpinned.yml", 10, "high"),
        ("unpinned-action", "unpinned.yml", 11, "high"),
        ("unpinned-action", "unpinned.yml", 15, "high"),
        ("unpinned-first-party-action", "unpinned.yml", 9, "low"),
        ("unpinned-image", "unpinned.yml", 12, "high"),
    ]


def test_md003_passing(keyed_backend: Backend) -> None:
    assert checks(run(keyed_backend, fixture("md003", "passing")), "MD-003") == set()


def test_md003_strict_raises_first_party_pinning(keyed_backend: Backend) -> None:
    strict = run(keyed_backend, fixture("md003", "failing"), strict=True)
    [first_party] = by_check(strict, "MD-003.unpinned-first-party-action")
    assert first_party.severity is Severity.MEDIUM


def test_malformed_workflow_never_crashes_other_rules(keyed_backend: Backend) -> None:
    analysis = run(keyed_backend, fixture("md003", "failing"))
    assert not [f for f in analysis.findings if f.is_evaluation_error]
    assert all(
        row["evaluated"] or row["id"] in ("MD-001", "MD-005", "MD-102")
        for row in analysis.report["rules"]
    )


# ----------------------------------------------------------------- MD-004


def test_md004_failing_placeholders_and_coverage(keyed_backend: Backend) -> None:
    analysis = run(
        keyed_backend,
        fixture("md004", "failing"),
        context=fixture("md004", "failing", "context.json"),
    )
    assert checks(analysis, "MD-004") == {
        "MD-004.placeholder-owner",
        "MD-004.uncovered-governed-paths",
        "MD-004.missing-change-identity",
    }
    placeholders = sorted(
        (f.line, f.evidence) for f in by_check(analysis, "MD-004.placeholder-owner")
    )
    assert placeholders == [(2, "* @username"), (3, "/docs/ @your-org/team-name")]
    uncovered = {
        f.fingerprint: f.message for f in by_check(analysis, "MD-004.uncovered-governed-paths")
    }
    messages = " ".join(uncovered.values())
    assert "workflows" in messages and "pulumi program" in messages and "policies" in messages
    [identity] = by_check(analysis, "MD-004.missing-change-identity")
    assert "pull_request.user.login" in identity.message and "head.sha" in identity.message
    assert identity.severity is Severity.HIGH
    strict = run(
        keyed_backend,
        fixture("md004", "failing"),
        context=fixture("md004", "failing", "context.json"),
        strict=True,
    )
    assert by_check(strict, "MD-004.missing-change-identity")[0].severity is Severity.CRITICAL


def test_md004_failing_no_codeowners(keyed_backend: Backend) -> None:
    analysis = run(keyed_backend, fixture("md004", "failing-no-codeowners"))
    assert "MD-004.no-codeowners" in checks(analysis, "MD-004")


def test_md004_passing(keyed_backend: Backend) -> None:
    analysis = run(
        keyed_backend,
        fixture("md004", "passing"),
        context=fixture("md004", "passing", "context.json"),
    )
    assert checks(analysis, "MD-004") == set()


def test_md004_configured_governed_paths(keyed_backend: Backend) -> None:
    config = OracleConfig(governed_paths=("README.md",))
    analysis = run(
        keyed_backend,
        fixture("md004", "passing"),
        context=fixture("md004", "passing", "context.json"),
        config=config,
    )
    assert checks(analysis, "MD-004") == set()  # covered by the `*` line
    failing = run(
        keyed_backend,
        fixture("md004", "failing"),
        context=fixture("md004", "failing", "context.json"),
        config=config,
    )
    assert any(
        "configured governed paths" in f.message
        for f in by_check(failing, "MD-004.uncovered-governed-paths")
    )


def test_md004_merge_group_mode_needs_no_pull_request(keyed_backend: Backend) -> None:
    analysis = run(keyed_backend, fixture("md004", "passing"), mode=Mode.MERGE_GROUP)
    assert checks(analysis, "MD-004") == set()


# ----------------------------------------------------------------- MD-005


def _baseline_from(backend: Backend, root: Path, repo: str = "acme/widgets") -> None:
    files = snapshot(Repository(root), OracleConfig())
    store(backend.baselines, Baseline(repo, backend.clock.now(), files))


def test_md005_passing_without_drift(keyed_backend: Backend) -> None:
    _baseline_from(keyed_backend, fixture("md005", "baseline"))
    analysis = run(keyed_backend, fixture("md005", "baseline"))
    assert checks(analysis, "MD-005") == set()
    assert analysis.report["drift"]["magnitude"] == 0 and analysis.report["drift"]["tracked"] == 4
    assert not [d for d in analysis.report["degraded"] if d["reason"].startswith("baseline")]


def test_md005_failing_drift_above_threshold(keyed_backend: Backend) -> None:
    _baseline_from(keyed_backend, fixture("md005", "baseline"))
    analysis = run(keyed_backend, fixture("md005", "drifted"))
    [finding] = [f for f in analysis.findings if f.rule_id == "MD-005"]
    drift = analysis.report["drift"]
    # baseline: ci, lint, release, CODEOWNERS; drifted: lint removed, release modified, nightly added
    assert (drift["tracked"], drift["changed"]) == (5, 3)
    assert drift["added"] == [".github/workflows/nightly.yml"]
    assert drift["removed"] == [".github/workflows/lint.yml"]
    assert drift["modified"] == [".github/workflows/release.yml"]
    assert finding.check == "drift-above-threshold" and "0.60" in finding.message
    # 0.6 is also above the L0 ceiling (0.5): an invariant violation, exit 1 in every mode
    assert analysis.exit_code == 1 and not analysis.report["l0"]["ok"]


def test_md005_threshold_is_configurable(keyed_backend: Backend) -> None:
    from service.oracle.config import Thresholds

    _baseline_from(keyed_backend, fixture("md005", "baseline"))
    config = OracleConfig(thresholds=Thresholds(drift_magnitude=0.7, l0_drift_ceiling=0.9))
    analysis = run(keyed_backend, fixture("md005", "drifted"), config=config)
    assert checks(analysis, "MD-005") == set() and analysis.report["l0"]["ok"]


def test_md005_without_baseline_is_degraded_not_failed(keyed_backend: Backend) -> None:
    analysis = run(keyed_backend, fixture("md005", "baseline"))
    [degraded] = [d for d in analysis.report["degraded"] if d["rule"] == "MD-005"]
    assert degraded["reason"] == "baseline_missing" and degraded["fail"] == "open"
    assert analysis.exit_code == 0


# ----------------------------------------------------------------- MD-102


def test_md102_failing(keyed_backend: Backend) -> None:
    analysis = run(
        keyed_backend,
        fixture("md102", "failing"),
        context=fixture("md102", "failing", "context.json"),
        mode=Mode.MERGE_GROUP,
    )
    found = sorted((f.check, f.evidence) for f in analysis.findings if f.rule_id == "MD-102")
    assert found == [
        ("admin-bypass", "queue: RepositoryRole"),
        ("check-skips-merge-group", "required check: test"),
        ("direct-push-allowed", "no required pull request reviews / pull_request rule"),
        ("linear-history-off", "required_linear_history: false"),
        ("orphaned-required-check", "required check: build"),
    ]  # "ci/external" belongs to another app and is not traced


def test_md102_passing(keyed_backend: Backend) -> None:
    analysis = run(
        keyed_backend,
        fixture("md102", "passing"),
        context=fixture("md102", "passing", "context.json"),
        mode=Mode.MERGE_GROUP,
    )
    assert checks(analysis, "MD-102") == set()
    assert checks(analysis, "MD-001") == set()


def test_md102_not_evaluated_without_merge_queue(keyed_backend: Backend) -> None:
    analysis = run(
        keyed_backend,
        fixture("md001", "passing"),
        context=fixture("md001", "passing", "context.json"),
    )
    assert {"rule": "MD-102", "reason": "the default branch has no merge queue"} in analysis.report[
        "not_evaluated"
    ]


def test_md102_merge_group_without_queue(keyed_backend: Backend) -> None:
    analysis = run(
        keyed_backend,
        fixture("md001", "passing"),
        context=fixture("md001", "passing", "context.json"),
        mode=Mode.MERGE_GROUP,
    )
    assert "MD-102.no-merge-queue" in checks(analysis, "MD-102")


# ----------------------------------------------------------------- fingerprints


def test_fingerprints_are_stable_and_line_independent(keyed_backend: Backend, repo_copy) -> None:  # type: ignore[no-untyped-def]
    root = repo_copy("md003", "failing")
    before = {f.fingerprint for f in run(keyed_backend, root).findings}
    path = root / ".github" / "workflows" / "unpinned.yml"
    path.write_text("# a comment moves every line down\n\n" + path.read_text())
    after = {f.fingerprint for f in run(keyed_backend, root).findings}
    assert before == after
    other = {f.fingerprint for f in run(keyed_backend, root, repo="acme/other").findings}
    assert not before & other  # the same problem in another repository is another finding
