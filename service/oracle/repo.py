"""A repository checkout as the oracle reads it: file list, workflows, CODEOWNERS, git identity.

Everything is read lazily and at most once per analysis. Paths are POSIX and repository-relative
(reports never carry absolute paths of the machine that ran the oracle). Git metadata is read
from `.git` directly, so no `git` binary is needed.

Every read goes through one guarded reader (`confined.Confined`): a link that leaves the
repository root is refused and recorded in `refusals` (MD-004 reports them), never followed. Git
metadata is read through the same guard rooted at the git directory, which a `.git` file
(worktrees, submodules) may legitimately place outside the checkout; the checkout's content can
never be a `.git` entry, so that pointer comes from git, not from the code under review.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from functools import cached_property
from pathlib import Path

from .codeowners import LOCATIONS, CodeOwners, parse_codeowners
from .confined import Confined, Refusal, Refused
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
        self.reader = Confined(root)

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
        """A regular file inside the repository (a link out of it is refused, not followed)."""
        return self.reader.is_file(path)

    def read_text(self, path: str) -> str:
        """The file's text; `Refused` (an OSError) for a path that leaves the repository."""
        return self.reader.read_text(path, limit=MAX_FILE_BYTES)

    def sha256(self, path: str) -> str:
        return self.reader.sha256(path)

    @property
    def refusals(self) -> tuple[Refusal, ...]:
        """Paths the oracle wanted to read and refused so far, by link path."""
        return tuple(self.reader.refusals[link] for link in sorted(self.reader.refusals))

    # ---------------------------------------------------------------- workflows

    @cached_property
    def workflow_paths(self) -> tuple[str, ...]:
        return tuple(
            path
            for name in self.reader.list_dir(WORKFLOW_DIR)
            if name.endswith((".yml", ".yaml"))
            and self.reader.is_file(path := f"{WORKFLOW_DIR}/{name}")
        )

    @cached_property
    def workflows(self) -> tuple[Workflow, ...]:
        paths = self.workflow_paths
        loaded = []
        for done, path in enumerate(paths, start=1):
            try:
                text = self.read_text(path)
            except Refused:
                continue  # swapped for a link since it was listed: recorded, never read
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
                try:
                    return parse_codeowners(location, self.read_text(location))
                except Refused:
                    return None
        return None

    # ---------------------------------------------------------------- git identity

    @cached_property
    def git_dir(self) -> Path | None:
        if self.reader.is_dir(".git"):
            return self.reader.locate(".git")
        if self.reader.is_file(".git"):  # worktrees and submodules: "gitdir: <path>"
            try:
                pointer = self.reader.read_text(".git", limit=4096).strip()
            except (OSError, ValueError):
                return None
            match = re.match(r"gitdir:\s*(.+)", pointer)
            if match:
                target = Path(match.group(1))
                return target if target.is_absolute() else (self.root / target).resolve()
        return None

    @cached_property
    def _git(self) -> tuple[Confined, ...]:
        """The git directory and, for a worktree, its common directory: each a guarded root."""
        git = self.git_dir
        if git is None:
            return ()
        own = Confined(git)
        common = _small_text(own, "commondir")
        if common is None:
            return (own,)
        return (own, Confined((git / common.strip()).resolve()))

    @cached_property
    def head_sha(self) -> str | None:
        if not self._git:
            return None
        head = _small_text(self._git[0], "HEAD")
        if head is None:
            return None
        head = head.strip()
        if _SHA.fullmatch(head):
            return head
        if not head.startswith("ref: "):
            return None
        return _resolve_ref(self._git, head[5:].strip())

    @cached_property
    def remote_name(self) -> str | None:
        """`owner/name` from the `origin` remote URL, if there is one."""
        text = next(
            (found for git in self._git if (found := _small_text(git, "config")) is not None),
            None,
        )
        if text is None:
            return None
        section = re.search(r'\[remote "origin"\]([^\[]*)', text)
        if not section:
            return None
        url = re.search(r"^\s*url\s*=\s*(\S+)", section.group(1), re.M)
        if not url:
            return None
        match = re.search(r"[:/]([^/:]+)/([^/]+?)(?:\.git)?/?$", url.group(1))
        return f"{match.group(1)}/{match.group(2)}" if match else None


_SHA = re.compile(r"[0-9a-f]{40}")
#: Git metadata files are small; anything bigger is not what git wrote.
_GIT_FILE_LIMIT = 64 * 1024 * 1024


def _small_text(store: Confined, path: str) -> str | None:
    try:
        return store.read_text(path, limit=_GIT_FILE_LIMIT)
    except (OSError, ValueError):
        return None


def _resolve_ref(stores: tuple[Confined, ...], ref: str) -> str | None:
    for store in stores:
        loose = _small_text(store, ref) if store.is_file(ref) else None
        if loose is not None:
            value = loose.strip()
            return value if _SHA.fullmatch(value) else None
        packed = _small_text(store, "packed-refs")
        for line in (packed or "").splitlines():
            parts = line.split()
            if len(parts) == 2 and parts[1] == ref and _SHA.fullmatch(parts[0]):
                return parts[0]
    return None
