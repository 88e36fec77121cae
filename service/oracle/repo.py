"""A repository checkout as the oracle reads it: file list, workflows, CODEOWNERS, git identity.

Everything is read lazily and at most once per analysis. Paths are POSIX and repository-relative
(reports never carry absolute paths of the machine that ran the oracle). Git metadata is read
from `.git` directly, so no `git` binary is needed.
"""

from __future__ import annotations

import hashlib
import os
import re
from collections.abc import Callable
from functools import cached_property
from pathlib import Path

from .codeowners import LOCATIONS, CodeOwners, parse_codeowners
from .workflows import WORKFLOW_DIR, Problem, Workflow, load_workflow

#: Directories that never hold governed files and can be huge.
SKIP_DIRS = frozenset(
    {
        ".git",
        "node_modules",
        ".venv",
        "venv",
        "__pycache__",
        ".tox",
        ".mypy_cache",
        ".ruff_cache",
        ".pytest_cache",
        "dist",
        "build",
        ".terraform",
    }
)
MAX_FILE_BYTES = 2 * 1024 * 1024

Progress = Callable[[int, int], None]


class Repository:
    def __init__(self, root: Path, *, progress: Progress | None = None) -> None:
        self.root = root
        self._progress = progress

    # ---------------------------------------------------------------- files

    @cached_property
    def files(self) -> tuple[str, ...]:
        """Every file below the root (skipping VCS and dependency folders), sorted."""
        found: list[str] = []
        for directory, subdirs, names in os.walk(self.root):
            subdirs[:] = sorted(d for d in subdirs if d not in SKIP_DIRS)
            relative = os.path.relpath(directory, self.root)
            prefix = "" if relative == "." else relative.replace(os.sep, "/") + "/"
            found.extend(prefix + name for name in names)
        return tuple(sorted(found))

    def exists(self, path: str) -> bool:
        return (self.root / path).is_file()

    def read_text(self, path: str) -> str:
        with (self.root / path).open("rb") as handle:
            data = handle.read(MAX_FILE_BYTES + 1)
        if len(data) > MAX_FILE_BYTES:
            raise ValueError(f"{path} is larger than {MAX_FILE_BYTES} bytes")
        return data.decode("utf-8", errors="replace")

    def sha256(self, path: str) -> str:
        digest = hashlib.sha256()
        with (self.root / path).open("rb") as handle:
            for chunk in iter(lambda: handle.read(1 << 16), b""):
                digest.update(chunk)
        return digest.hexdigest()

    # ---------------------------------------------------------------- workflows

    @cached_property
    def workflow_paths(self) -> tuple[str, ...]:
        directory = self.root / WORKFLOW_DIR
        if not directory.is_dir():
            return ()
        return tuple(
            sorted(
                f"{WORKFLOW_DIR}/{entry.name}"
                for entry in directory.iterdir()
                if entry.is_file() and entry.suffix in (".yml", ".yaml")
            )
        )

    @cached_property
    def workflows(self) -> tuple[Workflow, ...]:
        paths = self.workflow_paths
        loaded = []
        for done, path in enumerate(paths, start=1):
            try:
                text = self.read_text(path)
            except (OSError, ValueError) as error:
                text = ""
                workflow = load_workflow(path, text)
                workflow.problem = Problem(1, f"cannot read the workflow: {error}", True)
            else:
                workflow = load_workflow(path, text)
            loaded.append(workflow)
            if self._progress is not None:
                self._progress(done, len(paths))
        return tuple(loaded)

    # ---------------------------------------------------------------- CODEOWNERS

    @cached_property
    def codeowners(self) -> CodeOwners | None:
        for location in LOCATIONS:
            if self.exists(location):
                return parse_codeowners(location, self.read_text(location))
        return None

    # ---------------------------------------------------------------- git identity

    @cached_property
    def git_dir(self) -> Path | None:
        dot_git = self.root / ".git"
        if dot_git.is_dir():
            return dot_git
        if dot_git.is_file():  # worktrees and submodules: "gitdir: <path>"
            match = re.match(r"gitdir:\s*(.+)", dot_git.read_text(errors="replace").strip())
            if match:
                target = Path(match.group(1))
                return target if target.is_absolute() else (self.root / target).resolve()
        return None

    @cached_property
    def head_sha(self) -> str | None:
        git = self.git_dir
        if git is None:
            return None
        try:
            head = (git / "HEAD").read_text().strip()
        except OSError:
            return None
        if re.fullmatch(r"[0-9a-f]{40}", head):
            return head
        if not head.startswith("ref: "):
            return None
        return _resolve_ref(git, head[5:].strip())

    @cached_property
    def remote_name(self) -> str | None:
        """`owner/name` from the `origin` remote URL, if there is one."""
        git = self.git_dir
        if git is None:
            return None
        config = git / "config"
        common = git / "commondir"
        if not config.exists() and common.exists():
            config = (git / common.read_text().strip()).resolve() / "config"
        try:
            text = config.read_text(errors="replace")
        except OSError:
            return None
        section = re.search(r'\[remote "origin"\]([^\[]*)', text)
        if not section:
            return None
        url = re.search(r"^\s*url\s*=\s*(\S+)", section.group(1), re.M)
        if not url:
            return None
        match = re.search(r"[:/]([^/:]+)/([^/]+?)(?:\.git)?/?$", url.group(1))
        return f"{match.group(1)}/{match.group(2)}" if match else None


def _resolve_ref(git: Path, ref: str) -> str | None:
    candidates = [git]
    common = git / "commondir"
    if common.exists():
        candidates.append((git / common.read_text().strip()).resolve())
    for base in candidates:
        loose = base / ref
        if loose.is_file():
            value = loose.read_text().strip()
            return value if re.fullmatch(r"[0-9a-f]{40}", value) else None
        packed = base / "packed-refs"
        if packed.is_file():
            for line in packed.read_text().splitlines():
                parts = line.split()
                if len(parts) == 2 and parts[1] == ref and re.fullmatch(r"[0-9a-f]{40}", parts[0]):
                    return parts[0]
    return None
