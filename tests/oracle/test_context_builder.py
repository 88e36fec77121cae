"""`phase-mirror context` against recorded GitHub REST API responses on a loopback server: an
admin token, a workflow token (403 on classic protection, no ruleset bypass actors), an
unprotected branch (404 "Branch not protected"), a repository the token cannot see (404),
pagination through Link headers, an unreachable API, and the analysis of what it builds."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from adapters.backend import Backend
from service.oracle.context import context_from
from service.oracle.github import BuiltContext, GitHubApi, build_context, mode_for_event
from service.oracle.model import Mode
from service.oracle.protection import effective_protection

from .conftest import run
from .github_server import RECORDED, fake_github, recorded, widgets_api

TOKEN = "ghs_" + "A" * 36  # the shape of a workflow token


def context_cli(
    fake_url: str, *args: str, token: str | None = TOKEN, event: str = "event-pull_request.json"
) -> subprocess.CompletedProcess[str]:
    env = {"PATH": "/usr/bin:/bin", "GITHUB_API_URL": fake_url, "GITHUB_EVENT_NAME": "pull_request"}
    env["GITHUB_EVENT_PATH"] = str(RECORDED / event)
    if token is not None:
        env["GITHUB_TOKEN"] = token
    return subprocess.run(
        [sys.executable, "-m", "service.cli.main", "context", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


def widgets_pull_request(*, admin: bool) -> BuiltContext:
    """The context of octo-org/widgets' pull request 1347, read with an admin or workflow token."""
    with fake_github() as fake:
        widgets_api(fake, admin=admin)
        return build_context(
            event=recorded("event-pull_request.json"),
            event_name="pull_request",
            repo=None,
            api=GitHubApi(fake.url, TOKEN),
        )


def test_workflow_token_gets_a_degraded_context_not_a_crash(tmp_path: Path) -> None:
    with fake_github() as fake:
        widgets_api(fake, admin=False)
        result = context_cli(fake.url, "-o", str(tmp_path / "ctx.json"))
    assert result.returncode == 0, result.stderr
    assert result.stdout == ""
    assert "branch_protection: HTTP 403 Resource not accessible by integration" in result.stderr
    assert "(needs administration=read)" in result.stderr
    assert "bypass actors not visible" in result.stderr
    assert "Traceback" not in result.stderr
    document = json.loads((tmp_path / "ctx.json").read_text())
    assert "branch_protection" not in document
    assert [r["type"] for r in document["rules"]][-1] == "merge_queue"  # page 2 was read
    assert len(document["rules"]) == 6
    assert {rs["id"] for rs in document["rulesets"]} == {7, 42}
    meta = document["phase_mirror"]
    assert meta["event_name"] == "pull_request" and meta["mode"] == "pull_request"
    assert set(meta["unreadable"]) == {"branch_protection"}
    # the token went to the API only, on every request (pagination included)
    assert {auth for _, auth in fake.requests} == {f"Bearer {TOKEN}"}
    assert any("page=2" in path for path, _ in fake.requests)

    context = context_from(document)
    assert (
        context.author == "octocat"
        and context.head_sha == "6dcb09b5" + "b57875f334f61aebed695e2e4193db5e"
    )
    assert not context.knows_protection  # a ruleset-only view could misreport classic settings
    assert "administration=read" in (context.protection_gap or "")


def test_admin_token_reads_everything() -> None:
    built = widgets_pull_request(admin=True)
    assert built.unreadable == {}
    # an org ruleset's bypass list stays hidden from a repository admin
    assert [n.split(":")[0] for n in built.notes] == ["ruleset(s) 7"]
    context = context_from(built.document())
    assert context.knows_protection and context.protection_gap is None
    protection = effective_protection(context)
    assert protection.merge_queue and protection.required_approvals == 2
    assert protection.admin_bypass_actors == ("main: RepositoryRole",)
    assert protection.sources == ("branch_protection", "rules")


def test_unprotected_branch_and_invisible_repository() -> None:
    with fake_github() as fake:
        repo = "/repos/octo-org/widgets"
        fake.add(repo, recorded("repo.json"))
        fake.add(f"{repo}/branches/main/protection", recorded("protection-404.json"), 404)
        fake.add(f"{repo}/rules/branches/main", [])
        built = build_context(
            event=None, event_name=None, repo="octo-org/widgets", api=GitHubApi(fake.url, TOKEN)
        )
        # "Branch not protected" is an answer, not a permission problem
        assert built.data["branch_protection"] is None and built.unreadable == {}
        assert effective_protection(context_from(built.document())).protected is False

        hidden = build_context(
            event=None, event_name=None, repo="octo-org/secret", api=GitHubApi(fake.url, TOKEN)
        )
    assert set(hidden.unreadable) == {"repository"}
    assert "HTTP 404 Not Found" in hidden.unreadable["repository"]
    assert "default branch unknown" in hidden.notes[-1]


def test_unreachable_api_keeps_the_event_payload(tmp_path: Path) -> None:
    with fake_github() as fake:
        dead = fake.url
    result = context_cli(dead, "--timeout", "2")
    assert result.returncode == 0, result.stderr
    document = json.loads(result.stdout)
    assert document["pull_request"]["user"]["login"] == "octocat"
    assert "GitHub API unreachable" in document["phase_mirror"]["unreadable"]["repository"]
    assert "Traceback" not in result.stderr


def test_merge_group_event_offline() -> None:
    with fake_github() as fake:
        result = context_cli(
            fake.url, "--offline", "--event-name", "merge_group", event="event-merge_group.json"
        )
        assert fake.requests == []
    assert result.returncode == 0, result.stderr
    document = json.loads(result.stdout)
    assert document["phase_mirror"]["mode"] == "merge_group"
    context = context_from(document)
    assert context.head_sha == "ec26c3e57ca3a959ca5aad62de7213c562f8c821"


def test_token_never_follows_a_link_to_another_host() -> None:
    with fake_github() as fake:
        fake.add(
            "/repos/o/r/rules/branches/main",
            [{"type": "deletion"}],
            link='<http://127.0.0.2:9/steal?page=2>; rel="next"',
        )
        answer, items = GitHubApi(fake.url, TOKEN).get_all("/repos/o/r/rules/branches/main")
    assert answer.ok and items == [{"type": "deletion"}]
    assert len(fake.requests) == 1


@pytest.mark.parametrize(
    ("event_name", "expected"),
    [
        ("pull_request", "pull_request"),
        ("pull_request_target", "pull_request"),
        ("merge_group", "merge_group"),
        ("push", "drift"),
        ("schedule", "drift"),
        (None, "drift"),
    ],
)
def test_event_modes(event_name: str | None, expected: str) -> None:
    assert mode_for_event(event_name, {}) == expected


def test_usage_errors(tmp_path: Path) -> None:
    bad = tmp_path / "event.json"
    bad.write_text("[1]")
    for args, message in [
        (["--event", str(bad)], "must be a JSON object"),
        (["--event", str(tmp_path / "nope.json")], "cannot read the event payload"),
        (["--repo", "nope", "--offline"], "OWNER/NAME"),
        (["--api-url", "ftp://x", "--repo", "o/r"], "http(s) URL"),
    ]:
        result = subprocess.run(
            [sys.executable, "-m", "service.cli.main", "context", *args],
            env={"PATH": "/usr/bin:/bin"},
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert result.returncode == 64, result.stderr
        assert message in result.stderr and "Traceback" not in result.stderr


def test_analysis_reports_the_gap_as_degraded(keyed_backend: Backend, tmp_path: Path) -> None:
    built = widgets_pull_request(admin=False)
    path = tmp_path / "ctx.json"
    path.write_text(json.dumps(built.document()))
    root = tmp_path / "repo"
    (root / ".github").mkdir(parents=True)
    (root / ".github" / "CODEOWNERS").write_text("* @octo-org/maintainers\n")
    analysis = run(keyed_backend, root, context=path, mode=Mode.PULL_REQUEST, dry_run=True)
    degraded = {(d["reason"], d["fail"]) for d in analysis.report["degraded"]}
    assert ("context_incomplete", "open") in degraded
    not_evaluated = {n["rule"]: n["reason"] for n in analysis.report["not_evaluated"]}
    assert "branch protection unreadable" in not_evaluated["MD-001"]
    assert "administration=read" in not_evaluated["MD-102"]
    assert analysis.report["repository"]["author"] == "octocat"
