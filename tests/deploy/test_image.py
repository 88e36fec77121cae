"""The container image definition: hadolint-style static rules, and its command served for real.

No container daemon here: the Dockerfile is parsed with `deploy.container` (Docker's rules for
continuations, comments, stages, exec form and `.dockerignore`), and the final stage's exact
CMD is run from this venv (which holds everything the image installs) with `PORT` set and the
host on loopback. `./dev image-check` additionally replays the install steps in clean venvs.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from adapters.gcp.spec import CONTAINER_PORT, HEALTH_PATH
from deploy import container
from deploy.container import (
    DOCKERFILE,
    DOCKERIGNORE,
    IgnoreRules,
    ImageCheckError,
    Instruction,
    Stage,
    assignments,
    final_command,
    parse_dockerfile,
    probe_health,
    service_environment,
    stages,
)
from deploy.entrypoint import DEFAULT_HOST, EntryError, command
from deploy.lock import ROOT

DIGEST_PIN = re.compile(r"^[\w./-]+(:[\w.-]+)?@sha256:[0-9a-f]{64}$")
SECRET_NAME = re.compile(
    r"(SECRET|PASSWORD|PASSWD|TOKEN|API_?KEY|PRIVATE_?KEY|ACCESS_?KEY|CREDENTIAL|SALT)", re.I
)
SECRET_VALUE = re.compile(r"(AKIA[0-9A-Z]{16}|-----BEGIN|ghp_[A-Za-z0-9]{20,}|\b[0-9a-f]{40,}\b)")


@pytest.fixture(scope="module")
def parsed() -> tuple[dict[str, str], list[Stage]]:
    return stages(parse_dockerfile(DOCKERFILE.read_text(encoding="utf-8")))


def every_instruction(all_stages: list[Stage]) -> list[Instruction]:
    return [i for stage in all_stages for i in stage.instructions]


def test_every_base_image_is_pinned_by_digest(parsed: tuple[dict[str, str], list[Stage]]) -> None:
    _, all_stages = parsed
    names: set[str] = set()
    for stage in all_stages:
        assert stage.base in names or DIGEST_PIN.match(stage.base), stage.base
        names.add(stage.name)
    assert all_stages[-1].base.startswith("python:3.11"), "the runtime is CPython 3.11"


def test_no_latest_tag_and_no_add(parsed: tuple[dict[str, str], list[Stage]]) -> None:
    text = DOCKERFILE.read_text(encoding="utf-8")
    assert ":latest" not in text
    for instruction in every_instruction(parsed[1]):
        # DL3020: COPY, never ADD (ADD fetches URLs and unpacks archives implicitly)
        assert instruction.keyword != "ADD", f"line {instruction.line}: use COPY"
        assert not re.search(r"https?://|git@", instruction.args) or instruction.keyword == "RUN"


def test_the_final_stage_runs_as_a_non_root_user_before_its_command(
    parsed: tuple[dict[str, str], list[Stage]],
) -> None:
    final = parsed[1][-1].instructions
    keywords = [i.keyword for i in final]
    assert "USER" in keywords and "CMD" in keywords
    last_user = max(n for n, k in enumerate(keywords) if k == "USER")
    assert last_user < keywords.index("CMD")
    user = final[last_user].args.split(":")[0]
    assert user not in ("root", "0", ""), user
    assert final[last_user].args == container.IMAGE_USER


def test_command_and_entrypoint_are_exec_form(parsed: tuple[dict[str, str], list[Stage]]) -> None:
    for instruction in every_instruction(parsed[1]):
        if instruction.keyword in ("CMD", "ENTRYPOINT"):
            assert instruction.exec_form() is not None, f"line {instruction.line}"
    assert final_command(parsed[1][-1]) == ["python", container.ENTRYPOINT]


def test_exec_form_is_required(tmp_path: Path) -> None:
    _, shell_form = stages(parse_dockerfile("FROM x@sha256:" + "0" * 64 + "\nCMD python app.py\n"))
    with pytest.raises(ImageCheckError, match="exec form"):
        final_command(shell_form[-1])


def test_no_secrets_in_env_or_arg(parsed: tuple[dict[str, str], list[Stage]]) -> None:
    global_args, all_stages = parsed
    pairs = list(global_args.items())
    for instruction in every_instruction(all_stages):
        if instruction.keyword in ("ENV", "ARG"):
            pairs += assignments(instruction.args, {}, instruction.line)
    assert pairs
    for name, value in pairs:
        assert not SECRET_NAME.search(name), name
        assert not SECRET_VALUE.search(value.split("@sha256:")[0]), (name, value)


def test_installs_are_hash_checked_from_the_lock(
    parsed: tuple[dict[str, str], list[Stage]],
) -> None:
    runs = [i for i in every_instruction(parsed[1]) if i.keyword == "RUN"]
    installs = [
        part.strip()
        for run in runs
        for part in run.args.split("&&")
        if re.search(r"\bpip\b.*\binstall\b", part)
    ]
    assert installs
    for line in installs:
        assert "--require-hashes" in line or ("--no-deps" in line and ".whl" in line), line
        assert not re.search(r"--(extra-)?index-url|--trusted-host", line), line
    selects = " ".join(run.args for run in runs)
    assert "deploy/lock.py select image" in selects and "deploy/lock.py select build" in selects


def test_only_root_needing_steps_are_skipped_by_image_check(
    parsed: tuple[dict[str, str], list[Stage]],
) -> None:
    skipped = [i for i in every_instruction(parsed[1]) if i.skip is not None]
    assert skipped
    for instruction in skipped:
        assert instruction.keyword == "RUN"
        assert set(re.findall(r"\b(\w+add)\b", instruction.args)) <= {"useradd", "groupadd"}
        assert "pip" not in instruction.args


def test_port_and_health_path(parsed: tuple[dict[str, str], list[Stage]]) -> None:
    final = parsed[1][-1]
    env = container.runtime_environment(final)
    assert env["PORT"] == str(CONTAINER_PORT)
    assert env["PHASE_MIRROR_HOST"] == DEFAULT_HOST  # every interface, inside the container
    assert "*" not in env["FORWARDED_ALLOW_IPS"]
    assert "PHASE_MIRROR_BACKEND" not in env
    exposed = [i.args for i in final.instructions if i.keyword == "EXPOSE"]
    assert exposed == [str(CONTAINER_PORT)]
    assert HEALTH_PATH == "/healthz"


def test_dockerignore_keeps_the_context_to_what_the_image_copies() -> None:
    rules = IgnoreRules.parse(DOCKERIGNORE.read_text(encoding="utf-8"))
    for path in (".git", ".git/HEAD", ".venv", ".venv/bin/python", "tests", "tests/x.py"):
        assert rules.excluded(path), path
    for path in ("bench/report.py", "dist/phase-mirror-lambda.zip", "platform/x.py", ".env"):
        assert rules.excluded(path), path
    for path in ("Pulumi.production.yaml", "service/api/__pycache__/app.cpython-311.pyc"):
        assert rules.excluded(path), path
    for path in ("pyproject.toml", "README.md", "service/api/app.py", "adapters/catalog.py"):
        assert not rules.excluded(path), path
    for path in ("deploy/lock.py", "deploy/requirements.lock", "deploy/entrypoint.py"):
        assert not rules.excluded(path), path


def test_every_copy_source_is_in_the_context(parsed: tuple[dict[str, str], list[Stage]]) -> None:
    rules = IgnoreRules.parse(DOCKERIGNORE.read_text(encoding="utf-8"))
    for instruction in every_instruction(parsed[1]):
        words = instruction.args.split()
        if instruction.keyword != "COPY" or any(w.startswith("--from") for w in words):
            continue
        for source in words[:-1]:
            assert (ROOT / source).exists(), source
            assert not rules.excluded(source), f"{source} is excluded by .dockerignore"


def test_dockerignore_semantics_last_rule_wins_and_parents_match() -> None:
    rules = IgnoreRules.parse("*\n!keep/\nkeep/**/*.log\n!keep/a/important.log\n# comment\n")
    assert rules.excluded("other/file")
    assert not rules.excluded("keep/a/b.txt")
    assert rules.excluded("keep/a/b.log")
    assert not rules.excluded("keep/a/important.log")


def test_entrypoint_reads_port_and_host_from_the_environment() -> None:
    argv = command({"PORT": "9090", "PHASE_MIRROR_HOST": "127.0.0.1"})
    assert Path(argv[0]).name == "phase-mirror"
    assert argv[1:] == [
        "serve",
        "--host",
        "127.0.0.1",
        "--port",
        "9090",
        "--workers",
        "1",
        "--log-level",
        "info",
    ]
    assert command({})[3:6] == [DEFAULT_HOST, "--port", "8080"]
    for bad in ({"PORT": "http"}, {"PORT": "0"}, {"PORT": "٨٠"}, {"PHASE_MIRROR_WORKERS": "-1"}):
        with pytest.raises(EntryError, match="is not a number"):
            command(bad)
    with pytest.raises(EntryError, match="PHASE_MIRROR_LOG_LEVEL"):
        command({"PHASE_MIRROR_LOG_LEVEL": "loud"})


def image_command_here(parsed: tuple[dict[str, str], list[Stage]]) -> list[str]:
    """The final stage's exact CMD, with `python` = this venv's and image paths = their sources."""
    final = parsed[1][-1]
    sources = container.copy_sources(final)
    return [
        sys.executable if arg == "python" else str(sources.get(arg, arg))
        for arg in final_command(final)
    ]


def runtime_env(
    parsed: tuple[dict[str, str], list[Stage]], port: int, home: Path
) -> dict[str, str]:
    image_env = container.runtime_environment(parsed[1][-1])
    image_env.pop("PATH")  # it names the image's venv; this venv stands for it
    image_env.pop("VENV")
    return service_environment({"PATH": "/usr/bin:/bin", **image_env}, port, home)


def test_the_image_command_serves_healthz_on_port(
    parsed: tuple[dict[str, str], list[Stage]], tmp_path: Path
) -> None:
    port = container.free_port()
    env = runtime_env(parsed, port, tmp_path)
    assert env["PHASE_MIRROR_HOST"] == "127.0.0.1"  # tests never bind anything but loopback
    result = probe_health(image_command_here(parsed), env, port, tmp_path, timeout=60)
    assert result.status == 200
    assert '"ok"' in result.body


def test_the_image_command_refuses_a_bad_port_in_one_line(
    parsed: tuple[dict[str, str], list[Stage]], tmp_path: Path
) -> None:
    env = runtime_env(parsed, 8080, tmp_path)
    env["PORT"] = "eighty"
    result = subprocess.run(
        image_command_here(parsed), env=env, capture_output=True, text=True, timeout=30, check=False
    )
    assert result.returncode == 64
    assert (
        result.stderr.strip() == "entrypoint: error: PORT='eighty' is not a number from 1 to 65535"
    )
