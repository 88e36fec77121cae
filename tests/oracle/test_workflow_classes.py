"""The workflow classes of issue 17, each pinned by real workflows from the corpus
(tests/oracle/corpus, source and commit in its manifest) and, where no real file shows the case,
by a small synthetic workflow written here and marked SYNTHETIC.

Classes: parsing (same-repository `$/` actions, steps GitHub rejects, evidence lists never cut
mid-item); false positives (fork-pr-write on public repositories, the code-scanning job, job
`if:` excluding pull request events, reusable workflows, id-token/write scopes with one job);
misses (privileged checkouts on issue_comment/workflow_run incl. refs/pull/N/merge and looked-up
head SHAs, workflow-level write scopes reaching several jobs, container/services images, step
outputs and dispatch inputs reaching scripts); decisions without context.
"""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

from adapters.backend import Backend
from service.oracle.model import Finding, Outcome, Severity
from service.oracle.offline import check_workflow_files
from service.oracle.rules.base import evidence_list
from service.oracle.rules.conditions import runs_for

from .conftest import run

CORPUS = Path(__file__).parent / "corpus" / "workflows"


def real(name: str) -> list[Finding]:
    return check_workflow_files([CORPUS / name])


def synthetic(tmp_path: Path, text: str, name: str = "wf.yml") -> list[Finding]:
    path = tmp_path / name
    path.write_text(textwrap.dedent(text))
    return check_workflow_files([path])


def found(findings: list[Finding]) -> set[str]:
    return {f.check for f in findings}


def repository(tmp_path: Path, workflows: dict[str, str], *, codeowners: bool = True) -> Path:
    root = tmp_path / "repo"
    (root / ".github" / "workflows").mkdir(parents=True)
    for name, text in workflows.items():
        (root / ".github" / "workflows" / name).write_text(textwrap.dedent(text))
    if codeowners:
        (root / ".github" / "CODEOWNERS").write_text("* @acme/maintainers\n")
    return root


def context(tmp_path: Path, **repository: object) -> Path:
    path = tmp_path / "ctx.json"
    body = {
        "repository": {"full_name": "acme/widgets", **repository},
        "pull_request": {"user": {"login": "octocat"}, "head": {"sha": "1" * 40}},
    }
    path.write_text(json.dumps(body))
    return path


# ------------------------------------------------------------------ parsing


def test_self_repository_and_relative_local_actions_are_not_third_party(tmp_path: Path) -> None:
    # Real: pandas asv-bot runs ./.github/actions/setup-conda.
    assert "unpinned-action" not in found(real("pandas-asv-bot.yml"))
    # SYNTHETIC: GitHub documents `$/path` as the self-repository reference (resolved at the
    # running commit; docs "Find and customize actions", not on GHES). No public file uses it yet.
    findings = synthetic(
        tmp_path,
        """
        on: push
        permissions: {}
        jobs:
          a:
            runs-on: ubuntu-latest
            steps:
              - uses: $/.github/actions/hello
              - uses: ./.github/actions/local
        """,
    )
    assert found(findings) == set()


def test_a_step_with_neither_uses_nor_run_is_an_invalid_workflow(tmp_path: Path) -> None:
    # SYNTHETIC: GitHub rejects such a workflow, so no public repository keeps one.
    findings = synthetic(
        tmp_path,
        """
        on: push
        permissions: {}
        jobs:
          a:
            runs-on: ubuntu-latest
            steps:
              - name: forgot the command
                env: {A: b}
              - run: echo ok
                uses: actions/checkout@8e5e7e5ab8b370d6c329ec480221332ada57f0ab
        """,
    )
    invalid = [f for f in findings if f.check == "invalid-workflow"]
    assert [f.line for f in invalid] == [8, 10]
    assert "neither `uses` nor `run`" in invalid[0].message
    assert "both `uses` and `run`" in invalid[1].message
    assert all(f.severity is Severity.MEDIUM for f in invalid)


def test_evidence_lists_keep_whole_items() -> None:
    items = [f"job-number-{n:03d}" for n in range(40)]
    text = evidence_list(items)
    assert len(text) <= 200 and text.endswith(" more")
    shown = text.rsplit(" and ", 1)[0].split(", ")
    assert shown == items[: len(shown)]
    assert text.endswith(f" and {40 - len(shown)} more")
    assert evidence_list(["a", "b"]) == "a, b"


def test_missing_permissions_evidence_is_not_cut_mid_job(tmp_path: Path) -> None:
    # SYNTHETIC: forty jobs without permissions (real repositories have a few).
    jobs = "".join(
        f"  a-rather-long-job-identifier-{n:02d}:\n    runs-on: x\n    steps: [{{run: t}}]\n"
        for n in range(40)
    )
    findings = synthetic(tmp_path, "on: push\njobs:\n" + jobs)
    evidence = next(f for f in findings if f.check == "missing-permissions").evidence
    assert evidence.endswith(" more")
    for item in evidence.rsplit(" and ", 1)[0].split(", "):
        assert item.startswith("a-rather-long-job-identifier-") and len(item) == 31


# ------------------------------------------------------------------ false positives


def test_job_condition_on_event_name(tmp_path: Path) -> None:
    events = {"pull_request", "push", "schedule"}
    assert runs_for("github.event_name != 'pull_request'", events) == {"push", "schedule"}
    assert runs_for("${{ github.event_name == 'push' }}", events) == {"push"}
    assert runs_for("!startsWith(github.event_name, 'pull')", events) == {"push", "schedule"}
    assert runs_for("github.event.label.name == 'x'", events) == events  # unknown: may run
    assert runs_for("(((", events) == events  # unparsable: never excludes
    assert runs_for(False, events) == set()


def test_fork_pr_write_needs_a_private_repository(keyed_backend: Backend, tmp_path: Path) -> None:
    # Real: vite's preview release grants pull-requests: write on a pull_request workflow of a
    # public repository; fork pull requests get a read-only token there.
    text = (CORPUS / "vite-preview-release.yml").read_text()
    root = repository(tmp_path, {"preview.yml": text})
    public = run(keyed_backend, root, context=context(tmp_path, private=False))
    assert not [f for f in public.findings if f.check == "fork-pr-write"]
    unknown = run(keyed_backend, root)
    assert not [f for f in unknown.findings if f.check == "fork-pr-write"]
    assert any(
        "fork-pr-write" in n["reason"] and "preview.yml job preview" in n["reason"]
        for n in unknown.report["not_evaluated"]
    )
    private = run(keyed_backend, root, context=context(tmp_path, private=True))
    [write] = [f for f in private.findings if f.check == "fork-pr-write"]
    assert "pull-requests" in write.message and write.severity is Severity.HIGH


def test_fork_pr_write_respects_job_conditions_and_code_scanning(
    keyed_backend: Backend, tmp_path: Path
) -> None:
    # Real: black's fuzz job writes issues only when github.event_name != 'pull_request';
    # numpy's CodeQL job needs security-events: write to upload its results.
    root = repository(
        tmp_path,
        {
            "fuzz.yml": (CORPUS / "black-fuzz.yml").read_text(),
            "codeql.yml": (CORPUS / "numpy-codeql.yml").read_text(),
        },
    )
    private = run(keyed_backend, root, context=context(tmp_path, private=True))
    assert not [f for f in private.findings if f.check == "fork-pr-write"]


def test_reusable_workflows_take_permissions_from_the_caller() -> None:
    # Real: ruff's publish-pypi.yml is only called (workflow_call) from its release workflow.
    assert found(real("ruff-publish-pypi.yml")) == set()


def test_workflow_wide_grants_need_more_than_one_job(tmp_path: Path) -> None:
    # Real: one-job workflows with top-level writes (django coverage comment, vue size report).
    for name in ("django-coverage_comment.yml", "vue-size-report.yml", "numpy-scorecards.yml"):
        assert not found(real(name)) & {"workflow-write-scopes", "id-token-workflow-wide"}
    # SYNTHETIC: the same grants reaching two jobs.
    findings = synthetic(
        tmp_path,
        """
        on: push
        permissions: {contents: write, id-token: write}
        jobs:
          build: {runs-on: x, steps: [{run: make}]}
          deploy: {runs-on: x, needs: build, steps: [{run: ./deploy}]}
          docs: {runs-on: x, permissions: {contents: read}, steps: [{run: make docs}]}
        """,
    )
    assert found(findings) == {"workflow-write-scopes", "id-token-workflow-wide"}
    scopes = next(f for f in findings if f.check == "workflow-write-scopes")
    assert "2 jobs (build, deploy)" in scopes.message and scopes.evidence == "contents: write"


# ------------------------------------------------------------------ misses


def test_issue_comment_checkout_of_a_looked_up_head_sha() -> None:
    # Real: nuxt's release-pr looks the PR's head.sha up with gh api, checks it out and builds.
    [checkout] = [f for f in real("nuxt-release-pr.yml") if f.check == "untrusted-checkout"]
    assert checkout.severity is Severity.CRITICAL and checkout.line == 53
    assert "steps.pr.outputs.head_sha" in checkout.evidence
    assert "issue_comment" in checkout.message


def test_privileged_checkouts_of_pr_refs(tmp_path: Path) -> None:
    # SYNTHETIC (the shapes of the GitHub Security Lab's "pwn request" write-ups): the merge
    # ref on issue_comment, a fetch of pull/N/head, and workflow_run's head_sha.
    findings = synthetic(
        tmp_path,
        """
        on:
          issue_comment: {types: [created]}
          workflow_run: {workflows: [ci], types: [completed]}
        permissions: {contents: read}
        jobs:
          merge-ref:
            if: github.event_name == 'issue_comment'
            runs-on: x
            steps:
              - uses: actions/checkout@8e5e7e5ab8b370d6c329ec480221332ada57f0ab
                with:
                  ref: refs/pull/${{ github.event.issue.number }}/merge
              - run: npm test
          fetch:
            runs-on: x
            steps:
              - run: git fetch origin pull/${{ github.event.issue.number }}/head:pr && make
          run-head:
            if: github.event_name == 'workflow_run'
            runs-on: x
            steps:
              - uses: actions/checkout@8e5e7e5ab8b370d6c329ec480221332ada57f0ab
                with: {ref: "${{ github.event.workflow_run.head_sha }}"}
          never:
            if: github.event_name == 'push'
            runs-on: x
            steps:
              - uses: actions/checkout@8e5e7e5ab8b370d6c329ec480221332ada57f0ab
                with: {ref: "${{ github.event.workflow_run.head_sha }}"}
        """,
    )
    lines = sorted(f.line for f in findings if f.check == "untrusted-checkout")
    assert lines == [13, 18, 24]


def test_review_events_are_not_privileged(tmp_path: Path) -> None:
    # SYNTHETIC: pull_request_review(_comment) from a fork gets a read-only token and no
    # secrets, like pull_request, so checking out the head there is the ordinary PR build.
    findings = synthetic(
        tmp_path,
        """
        on: {pull_request_review: {types: [submitted]}}
        permissions: {contents: read}
        jobs:
          a:
            runs-on: x
            steps:
              - uses: actions/checkout@8e5e7e5ab8b370d6c329ec480221332ada57f0ab
                with: {ref: "${{ github.event.pull_request.head.sha }}"}
        """,
    )
    assert "untrusted-checkout" not in found(findings)


def test_privileged_triggers_without_checkout_stay_quiet() -> None:
    # Real: label/comment bots on pull_request_target, issue_comment and workflow_run that
    # never check out PR code, or check out the base (default branch, sparse base script).
    for name in (
        "fastapi-latest-changes.yml",
        "fastapi-issue-manager.yml",
        "fastapi-smokeshow.yml",
        "pandas-asv-bot.yml",
        "sklearn-bot-lint-comment.yml",
        "vue-size-report.yml",
        "matplotlib-conflictcheck.yml",
    ):
        assert "untrusted-checkout" not in found(real(name)), name


def test_container_and_service_images(tmp_path: Path) -> None:
    # Real: numpy's musllinux job runs in quay.io/pypa/musllinux_1_1_x86_64 by tag.
    [image] = [f for f in real("numpy-linux_musl.yml") if f.check == "unpinned-image"]
    assert image.line == 26 and "container" in image.evidence
    # Real: django's PostGIS service image comes from a matrix expression: not judged.
    assert not found(real("django-postgis.yml")) & {"unpinned-image", "unpinned-service-image"}
    # SYNTHETIC: the short container form, a service by tag, and digests.
    digest = "@sha256:" + "a" * 64
    findings = synthetic(
        tmp_path,
        f"""
        on: push
        permissions: {{}}
        jobs:
          a:
            runs-on: x
            container: node:22
            services:
              db: {{image: postgres:16}}
              cache: {{image: "redis{digest}"}}
            steps:
              - uses: docker://alpine:3.20
              - uses: docker://alpine{digest}
          b:
            runs-on: x
            container: {{image: "node{digest}"}}
            steps: [{{run: make}}]
        """,
    )
    got = sorted((f.check, f.evidence) for f in findings)
    assert got == [
        ("unpinned-image", "container: node:22"),
        ("unpinned-image", "uses: docker://alpine:3.20"),
        ("unpinned-service-image", "services.db: postgres:16"),
    ]


def test_step_outputs_and_dispatch_inputs_reaching_scripts(tmp_path: Path) -> None:
    # Real: vue's ecosystem-ci trigger splices a step output holding the PR's head ref into
    # github-script; django's commit-prefix check splices one derived from the base branch.
    [output] = [f for f in real("vue-ecosystem-ci-trigger.yml") if f.check.endswith("injection")]
    assert output.check == "step-output-injection" and output.severity is Severity.MEDIUM
    assert "get-pr-data" in output.evidence
    assert not [f for f in real("django-check_commit_messages.yml") if "injection" in f.check]
    # Real: fastapi and scikit-learn use dispatch inputs only in `if:` or through env:.
    for name in ("fastapi-people.yml", "sklearn-publish_pypi.yml"):
        assert not [f for f in real(name) if "injection" in f.check], name
    # SYNTHETIC: a dispatch input spliced into run: (low; medium with --strict).
    findings = synthetic(
        tmp_path,
        """
        on:
          workflow_dispatch:
            inputs: {version: {required: true}}
        permissions: {}
        jobs:
          a:
            runs-on: x
            steps:
              - run: ./release.sh ${{ inputs.version }} ${{ github.event.inputs.version }}
        """,
    )
    assert sorted(f.severity.value for f in findings) == ["low", "low"]
    assert {f.check for f in findings} == {"dispatch-input-injection"}


def test_yaml_anchors_are_checked_where_they_are_used() -> None:
    # Real: pandas shares a github-script step between two jobs through &needs_triage_step.
    findings = real("pandas-comment-commands.yml")
    assert found(findings) == set()


# ------------------------------------------------------------------ decisions without context


def test_a_plain_run_does_not_block_for_missing_context(
    keyed_backend: Backend, tmp_path: Path
) -> None:
    root = repository(tmp_path, {"ci.yml": (CORPUS / "flask-lock.yaml").read_text()})
    plain = run(keyed_backend, root)
    assert plain.outcome is Outcome.PASS
    assert not [f for f in plain.findings if f.check == "missing-change-identity"]
    notes = {n["rule"]: n["reason"] for n in plain.report["not_evaluated"]}
    assert "missing-change-identity not evaluated: no pull request context" in notes["MD-004"]
    strict = run(keyed_backend, root, strict=True)
    [identity] = [f for f in strict.findings if f.check == "missing-change-identity"]
    assert identity.severity is Severity.CRITICAL and strict.outcome is Outcome.BLOCK


def test_without_codeowners_the_report_says_what_was_not_checked(
    keyed_backend: Backend, tmp_path: Path
) -> None:
    root = repository(tmp_path, {"ci.yml": "on: push\njobs: {}\n"}, codeowners=False)
    analysis = run(keyed_backend, root)
    assert "no-codeowners" in {f.check for f in analysis.findings}
    reasons = [n["reason"] for n in analysis.report["not_evaluated"] if n["rule"] == "MD-004"]
    assert any(r.startswith("check uncovered-governed-paths not evaluated") for r in reasons)
    assert any(r.startswith("check placeholder-owner not evaluated") for r in reasons)


# ------------------------------------------------------------------ docs agree with behaviour


def test_a_fresh_local_backend_provisions_the_redaction_key(tmp_path: Path) -> None:
    """docs/oracle.md: on local:// the first open creates the key; a plain run is sealed."""
    from adapters.backend import open_backend
    from adapters.catalog import Secret

    backend = open_backend(f"local://{tmp_path / 'data'}")
    try:
        first = backend.secrets.current(Secret.REDACTION_KEY)
        root = repository(tmp_path, {"ci.yml": "on: push\njobs: {}\n"})
        analysis = run(backend, root)
        assert analysis.keyring is not None and analysis.exit_code != 2
        assert not [d for d in analysis.report["degraded"] if d["fail"] == "closed"]
        assert backend.secrets.current(Secret.REDACTION_KEY).version == first.version
    finally:
        backend.close()
