"""The container image: its constants, and `./dev image-check` (no container daemon needed).

    ./dev image-check [--keep] [--timeout SECONDS]

What it verifies, without Docker: it reads the Dockerfile, copies the build context through
`.dockerignore`'s rules into a temporary root, replays every stage's WORKDIR, ARG, ENV, COPY and
RUN there (absolute image paths such as /opt/venv become <root>/opt/venv; `python` is this
machine's CPython 3.11, not the pinned base image's 3.11 patch release), then runs the final
stage's exact CMD with `PORT` set, `PHASE_MIRROR_HOST=127.0.0.1` and a temporary
`PHASE_MIRROR_HOME` (the embedded local backend), waits for `HEALTH_PATH` to answer 200, and
stops the server by its PID. RUN lines marked `# image-check: skip (...)` (creating the service
user needs root) are reported as skipped. The machine's pip settings (index, certificates,
proxies: `PIP_*`, `*_PROXY`) apply to the RUN lines, as a build host's would.

What it cannot verify: the base image's own content and digest, USER/permissions inside the
image, layer caching, the image's size, and the platform (linux/amd64) of the wheels pip picks
inside a real build. See docs/platform.md#packaging.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from adapters.gcp.spec import HEALTH_PATH
from deploy.lambda_build import DEV_DISTRIBUTIONS
from deploy.lock import ROOT, LockError, normalize, progress
from service.oracle.globs import glob_to_regex

DOCKERFILE = ROOT / "Dockerfile"
DOCKERIGNORE = ROOT / ".dockerignore"
# The Cloud Run startup probe / Lambda Web Adapter readiness path and the image's default $PORT
# are declared once, in the GCP spec the Pulumi program reads.
IMAGE_PLATFORM = "linux/amd64"  # Cloud Run runs amd64 images
IMAGE_USER = "10001:10001"  # the image's non-root user (uid:gid)
ENTRYPOINT = "/app/entrypoint.py"  # deploy/entrypoint.py inside the image
SKIP_MARK = "# image-check: skip"
PASS_THROUGH_ENV = re.compile(
    r"^(PIP_\w+|https?_proxy|HTTPS?_PROXY|no_proxy|NO_PROXY|SSL_CERT_FILE|REQUESTS_CA_BUNDLE)$"
)
_VARIABLE = re.compile(r"\$(?:\{(\w+)\}|(\w+))")
_LITERAL_ABSOLUTE = re.compile(r"(?:^|[\s\"'=(])/[A-Za-z]")
_VARIABLE_PATH = re.compile(r"\"?\$(?:\{\w+\}|\w+)\"?/")


class ImageCheckError(LockError):
    """The Dockerfile cannot be replayed, or the service did not answer: one clear line."""


# ---------------------------------------------------------------------------------- Dockerfile


@dataclass(frozen=True)
class Instruction:
    keyword: str  # upper case
    args: str
    line: int
    skip: str | None = None  # the `# image-check: skip (...)` reason above a RUN

    def exec_form(self) -> list[str] | None:
        """The JSON array of an exec-form CMD/ENTRYPOINT/RUN, else None."""
        if not self.args.startswith("["):
            return None
        try:
            value = json.loads(self.args)
        except json.JSONDecodeError:
            return None
        if isinstance(value, list) and all(isinstance(v, str) for v in value):
            return value
        return None


def parse_dockerfile(text: str) -> list[Instruction]:
    """Instructions with continuations joined and comments removed (Docker's rules)."""
    instructions: list[Instruction] = []
    pending: list[str] = []
    start = 0
    skip: str | None = None
    for number, raw in enumerate(text.splitlines(), start=1):
        stripped = raw.strip()
        if stripped.startswith("#"):
            if not pending and stripped.startswith(SKIP_MARK):
                skip = stripped[len(SKIP_MARK) :].strip(" :-()") or "marked"
            continue
        if not stripped and not pending:
            continue
        if not pending:
            start = number
        if stripped.endswith("\\"):
            pending.append(stripped[:-1].strip())
            continue
        pending.append(stripped)
        joined = " ".join(p for p in pending if p)
        pending = []
        keyword, _, args = joined.partition(" ")
        instructions.append(Instruction(keyword.upper(), args.strip(), start, skip))
        skip = None
    if pending:
        raise ImageCheckError(f"Dockerfile line {start}: the last instruction ends with '\\'")
    return instructions


def expand(value: str, variables: Mapping[str, str]) -> str:
    return _VARIABLE.sub(lambda m: variables.get(m.group(1) or m.group(2), ""), value)


def assignments(
    args: str,
    variables: Mapping[str, str],
    line: int,
    literal: Callable[[str], str] = str,
) -> list[tuple[str, str]]:
    """`K=V K2="V 2"` of ENV/ARG (ARG may be `NAME` alone); `literal` maps a value as written,
    before variables are expanded."""
    try:
        tokens = shlex.split(args)
    except ValueError as error:
        raise ImageCheckError(f"Dockerfile line {line}: {error}") from None
    pairs = []
    for token in tokens:
        name, sep, value = token.partition("=")
        pairs.append((name, expand(literal(value), variables) if sep else variables.get(name, "")))
    return pairs


@dataclass
class Stage:
    name: str
    base: str
    instructions: list[Instruction] = field(default_factory=list)


def stages(instructions: Sequence[Instruction]) -> tuple[dict[str, str], list[Stage]]:
    """The global ARGs (before the first FROM) and the stages."""
    global_args: dict[str, str] = {}
    result: list[Stage] = []
    for instruction in instructions:
        if instruction.keyword == "FROM":
            words = [w for w in instruction.args.split() if not w.startswith("--")]
            base = expand(words[0], global_args) if words else ""
            name = words[2] if len(words) == 3 and words[1].lower() == "as" else str(len(result))
            result.append(Stage(name, base))
        elif not result:
            if instruction.keyword != "ARG":
                raise ImageCheckError(
                    f"Dockerfile line {instruction.line}: {instruction.keyword} before FROM"
                )
            global_args.update(assignments(instruction.args, global_args, instruction.line))
        else:
            result[-1].instructions.append(instruction)
    if not result:
        raise ImageCheckError("the Dockerfile has no FROM")
    return global_args, result


def final_command(final: Stage) -> list[str]:
    """The final stage's CMD (ENTRYPOINT prepended), required in exec form."""
    entrypoint: list[str] = []
    command: list[str] = []
    for instruction in final.instructions:
        if instruction.keyword in ("CMD", "ENTRYPOINT"):
            form = instruction.exec_form()
            if form is None:
                raise ImageCheckError(
                    f"Dockerfile line {instruction.line}: {instruction.keyword} must be in exec "
                    'form (["prog", "arg"]), so the server is PID 1 and gets SIGTERM'
                )
            if instruction.keyword == "CMD":
                command = form
            else:
                entrypoint = form
    if not entrypoint + command:
        raise ImageCheckError("the final stage has no CMD")
    return entrypoint + command


def runtime_environment(final: Stage) -> dict[str, str]:
    """The ENV values the final stage sets, as written (no path mapping)."""
    env: dict[str, str] = {}
    for instruction in final.instructions:
        if instruction.keyword == "ENV":
            env.update(assignments(instruction.args, env, instruction.line))
    return env


def copy_sources(final: Stage) -> dict[str, Path]:
    """Image path -> build-context file, for the final stage's plain COPY of single files."""
    mapping: dict[str, Path] = {}
    for instruction in final.instructions:
        if instruction.keyword == "COPY":
            words = instruction.args.split()
            if any(w.startswith("--from") for w in words) or len(words) != 2:
                continue
            mapping[words[1]] = ROOT / words[0]
    return mapping


# --------------------------------------------------------------------------------- .dockerignore


@dataclass(frozen=True)
class IgnoreRules:
    """`.dockerignore` with Docker's semantics: the last matching rule wins, `!` re-includes,
    and a rule matching a parent directory matches everything below it."""

    rules: tuple[tuple[bool, re.Pattern[str]], ...]

    @classmethod
    def parse(cls, text: str) -> IgnoreRules:
        rules = []
        for raw in text.splitlines():
            line = raw.strip()
            if not line or line.startswith("#"):
                continue
            negated = line.startswith("!")
            pattern = os.path.normpath(line.lstrip("!").strip()).lstrip("/")
            rules.append((negated, re.compile(glob_to_regex(pattern, anchored=True) + r"\Z")))
        return cls(tuple(rules))

    def excluded(self, relative: str) -> bool:
        parts = relative.strip("/").split("/")
        prefixes = ["/".join(parts[: i + 1]) for i in range(len(parts))]
        verdict = False
        for negated, regex in self.rules:
            if any(regex.match(p) for p in prefixes):
                verdict = not negated
        return verdict


# ------------------------------------------------------------------------------------- replay


@dataclass
class Replay:
    """A temporary root standing for the image's filesystem."""

    root: Path
    ignore: IgnoreRules
    base_path: str
    log: list[str] = field(default_factory=list)

    def map(self, path: str) -> Path:
        return self.root / path.lstrip("/")

    def map_value(self, value: str) -> str:
        """ARG/ENV values that are absolute paths point into the root."""
        return str(self.map(value)) if value.startswith("/") and len(value) > 1 else value

    def copy_context(self, source: str, destination: Path) -> None:
        origin = ROOT / source
        if not origin.exists() or self.ignore.excluded(source):
            raise ImageCheckError(f"COPY {source}: not in the build context (.dockerignore)")
        if origin.is_file():
            destination.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(origin, destination)
            return
        for path in sorted(origin.rglob("*")):
            relative = path.relative_to(ROOT).as_posix()
            if path.is_file() and not self.ignore.excluded(relative):
                target = destination / path.relative_to(origin)
                target.parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(path, target)

    def run_stage(self, stage: Stage, global_args: Mapping[str, str], shim: Path) -> dict[str, str]:
        env: dict[str, str] = {
            "PATH": f"{shim}:{self.base_path}",
            "HOME": str(self.map("/root")),
            "LANG": "C.UTF-8",
        }
        env.update({k: v for k, v in os.environ.items() if PASS_THROUGH_ENV.match(k)})
        variables = dict(global_args)
        workdir = self.map("/")
        for instruction in stage.instructions:
            keyword, line = instruction.keyword, instruction.line
            if keyword in ("ARG", "ENV"):
                scope = {**variables, **env}
                for name, value in assignments(instruction.args, scope, line, self.map_value):
                    variables[name] = value
                    if keyword == "ENV":
                        env[name] = value
            elif keyword == "WORKDIR":
                target = expand(instruction.args, {**variables, **env})
                workdir = self.map(target) if target.startswith("/") else workdir / target
                workdir.mkdir(parents=True, exist_ok=True)
            elif keyword == "COPY":
                self._copy(instruction, {**variables, **env}, workdir)
            elif keyword == "RUN":
                self._run(stage, instruction, {**env, **variables}, workdir)
        return env

    def _copy(self, instruction: Instruction, variables: Mapping[str, str], workdir: Path) -> None:
        words = [expand(w, variables) for w in instruction.args.split()]
        from_stage = next((w.split("=", 1)[1] for w in words if w.startswith("--from=")), None)
        words = [w for w in words if not w.startswith("--")]
        if len(words) < 2:
            raise ImageCheckError(f"Dockerfile line {instruction.line}: COPY needs SRC... DEST")
        *sources, dest = words
        target = self.map(dest) if dest.startswith("/") else workdir / dest
        for source in sources:
            if from_stage is not None:
                if self.map(source) != target:  # the same path in one root: already there
                    shutil.copytree(self.map(source), target, dirs_exist_ok=True, symlinks=True)
                continue
            is_dir_target = dest.endswith("/") or len(sources) > 1
            name = Path(source).name
            origin = ROOT / source
            self.copy_context(
                source, target / name if is_dir_target and origin.is_file() else target
            )
        self.log.append(f"COPY line {instruction.line}: {' '.join(words)}")

    def _run(
        self, stage: Stage, instruction: Instruction, env: Mapping[str, str], workdir: Path
    ) -> None:
        label = f"RUN (stage {stage.name}, Dockerfile line {instruction.line})"
        if instruction.skip is not None:
            self.log.append(f"{label}: skipped ({instruction.skip})")
            progress(f"image-check: {label} skipped: {instruction.skip}")
            return
        relative_to_variables = _VARIABLE_PATH.sub("", instruction.args)  # "$VENV"/bin is fine
        if instruction.exec_form() is not None or _LITERAL_ABSOLUTE.search(relative_to_variables):
            raise ImageCheckError(
                f"{label}: image-check replays shell-form RUN lines that name absolute paths "
                "only through ARG/ENV values (it maps those into its root); rewrite the line"
            )
        progress(f"image-check: {label} ...")
        started = time.monotonic()
        result = subprocess.run(
            ["/bin/sh", "-c", instruction.args],
            cwd=workdir,
            env=dict(env),
            capture_output=True,
            text=True,
            check=False,
        )
        if result.returncode != 0:
            tail = (result.stdout + result.stderr).strip().splitlines()[-20:]
            raise ImageCheckError(
                f"{label} failed with exit {result.returncode}:\n" + "\n".join(tail)
            )
        self.log.append(f"{label}: ok in {time.monotonic() - started:.1f} s")


# ------------------------------------------------------------------------------- serve + probe


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass(frozen=True)
class ProbeResult:
    status: int
    seconds: float
    body: str


def probe_health(
    argv: Sequence[str], env: Mapping[str, str], port: int, cwd: Path, timeout: float = 60.0
) -> ProbeResult:
    """Start `argv`, wait until http://127.0.0.1:port/healthz answers, stop it by its PID."""
    url = f"http://127.0.0.1:{port}{HEALTH_PATH}"
    started = time.monotonic()
    with tempfile.TemporaryFile() as output:
        process = subprocess.Popen(
            list(argv), env=dict(env), cwd=cwd, stdout=output, stderr=subprocess.STDOUT
        )
        try:
            while time.monotonic() - started < timeout:
                if process.poll() is not None:
                    output.seek(0)
                    tail = output.read().decode(errors="replace").strip().splitlines()[-15:]
                    raise ImageCheckError(
                        f"the command exited with {process.returncode} before answering "
                        f"{HEALTH_PATH}:\n" + "\n".join(tail)
                    )
                try:
                    with urllib.request.urlopen(url, timeout=2) as response:
                        body = response.read().decode(errors="replace")
                        return ProbeResult(response.status, time.monotonic() - started, body)
                except urllib.error.HTTPError as error:
                    return ProbeResult(error.code, time.monotonic() - started, "")
                except (urllib.error.URLError, ConnectionError, TimeoutError):
                    time.sleep(0.2)
            raise ImageCheckError(f"{url} did not answer within {timeout:.0f} s")
        finally:
            stop(process)


def stop(process: subprocess.Popen[bytes]) -> None:
    """SIGTERM by PID (what Cloud Run sends), SIGKILL after 15 s."""
    if process.poll() is not None:
        return
    os.kill(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        os.kill(process.pid, signal.SIGKILL)
        process.wait()


def service_environment(
    base: Mapping[str, str], port: int, home: Path, extra: Mapping[str, str] | None = None
) -> dict[str, str]:
    """The image's ENV plus what a test must set: PORT, loopback host, a temporary data dir."""
    env = dict(base)
    env.update(
        {
            "PORT": str(port),
            "PHASE_MIRROR_HOST": "127.0.0.1",
            "PHASE_MIRROR_HOME": str(home / "data"),
            "HOME": str(home),
        }
    )
    env.pop("PHASE_MIRROR_BACKEND", None)
    env.update(extra or {})
    return env


# ------------------------------------------------------------------------------------ image-check


def installed_distributions(venv: Path) -> set[str]:
    """Normalized names of the distributions installed in a venv."""
    return {
        normalize(path.name.split("-")[0])
        for path in venv.glob("lib/python*/site-packages/*.dist-info")
    }


def check_runtime_venv(venv: Path) -> str:
    """The image's venv holds the project and its runtime only: no installer, no dev tool."""
    names = installed_distributions(venv)
    if "phase-mirror" not in names:
        raise ImageCheckError(f"the project is not installed in {venv}")
    unwanted = sorted(names & DEV_DISTRIBUTIONS)
    if unwanted:
        raise ImageCheckError(f"the image's venv contains build/dev tools: {', '.join(unwanted)}")
    return f"runtime venv: {len(names)} distributions, no pip/setuptools/wheel, no dev tools"


def base_interpreter() -> str:
    """The CPython 3.11 that stands for the base image's `python`."""
    base = getattr(sys, "_base_executable", "") or sys.executable
    if sys.version_info[:2] != (3, 11):
        raise ImageCheckError(
            f"image-check needs CPython 3.11 (the image's); this is {sys.version}"
        )
    return base


def image_check(timeout: float, keep: bool) -> list[str]:
    dockerfile = DOCKERFILE.read_text(encoding="utf-8")
    global_args, all_stages = stages(parse_dockerfile(dockerfile))
    argv = final_command(all_stages[-1])
    ignore = IgnoreRules.parse(DOCKERIGNORE.read_text(encoding="utf-8"))
    tmp = Path(tempfile.mkdtemp(prefix="phase-mirror-image-check-"))
    report = [f"Dockerfile: {len(all_stages)} stage(s), base {all_stages[0].base}"]
    try:
        shim = tmp / "shim"
        shim.mkdir()
        for name in ("python", "python3"):
            (shim / name).symlink_to(base_interpreter())
        replay = Replay(tmp / "root", ignore, "/usr/local/bin:/usr/bin:/bin")
        env: dict[str, str] = {}
        for stage in all_stages:
            progress(f"image-check: stage {stage.name} ...")
            env = replay.run_stage(stage, global_args, shim)
        report += replay.log
        report.append(check_runtime_venv(Path(env.get("VENV") or replay.map("/opt/venv"))))
        command = [
            str(replay.map(a)) if replay.map(a).exists() and a.startswith("/") else a for a in argv
        ]
        port = free_port()
        home = tmp / "home"
        home.mkdir()
        progress(f"image-check: CMD {json.dumps(argv)} on 127.0.0.1:{port} ...")
        result = probe_health(command, service_environment(env, port, home), port, home, timeout)
        if result.status != 200:
            raise ImageCheckError(f"{HEALTH_PATH} answered {result.status}, not 200")
        report.append(
            f"CMD {json.dumps(argv)} with PORT={port}: {HEALTH_PATH} 200 after "
            f"{result.seconds:.1f} s ({result.body.strip()[:80]}); stopped by PID"
        )
        return report
    finally:
        if keep:
            progress(f"image-check: kept {tmp}")
        else:
            shutil.rmtree(tmp, ignore_errors=True)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="./dev image-check",
        description=(
            "Verify the container image without a container daemon: replay the Dockerfile's "
            "COPY/RUN lines into a temporary root (clean venvs, installs from "
            "deploy/requirements.lock), run its exact CMD with PORT set on 127.0.0.1 and check "
            f"{HEALTH_PATH} answers 200. Needs PyPI; takes about a minute."
        ),
    )
    parser.add_argument("--timeout", type=float, default=60.0, help="seconds to wait for health")
    parser.add_argument("--keep", action="store_true", help="keep the temporary root")
    args = parser.parse_args(argv)
    started = time.monotonic()
    try:
        report = image_check(args.timeout, args.keep)
    except (LockError, OSError) as error:
        print(f"image-check: error: {error}", file=sys.stderr)
        return 1
    for line in report:
        print(line)
    print(f"image-check: ok in {time.monotonic() - started:.0f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
