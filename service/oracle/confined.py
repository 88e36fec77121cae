"""The one guarded reader: every byte the oracle reads from a checkout comes through `Confined`.

A checkout is untrusted input. A symbolic link in it (a workflow, CODEOWNERS, `.phase-mirror.yml`,
a governed file, or a whole `.github` directory) may point anywhere on the machine that runs the
oracle, and whatever the oracle reads can end up in a report uploaded to code scanning. So a path
is resolved one component at a time from the real root, every link on the way must land inside
the root, and a path that escapes (or loops, or is not a regular file) is refused: the caller
gets `Refused`, the refusal is recorded (the link's own path and its target as written, never
the target's content) and the analysis turns it into a finding.

The file is then opened by its resolved path with `O_NOFOLLOW | O_NONBLOCK` (a last-moment link
swap fails instead of being followed, a FIFO cannot hang the oracle), must be a regular file, and
on Linux the opened descriptor's own path is checked against the root once more.
"""

from __future__ import annotations

import errno
import hashlib
import os
import stat
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

_OPEN_FLAGS = (
    os.O_RDONLY
    | getattr(os, "O_NOFOLLOW", 0)
    | getattr(os, "O_NONBLOCK", 0)
    | getattr(os, "O_CLOEXEC", 0)
)
_CHUNK = 1 << 16


@dataclass(frozen=True)
class Refusal:
    """Why a repository path was not read. `link` is the repository-relative path of the link
    (or file) at fault, `target` what the link says (its text, not what it points to)."""

    link: str
    reason: str  # "outside" | "loop" | "not-a-file" | "invalid-path"
    target: str = ""

    def describe(self) -> str:
        if self.reason == "outside":
            return (
                f"{self.link} is a symbolic link to {self.target!r}, outside the repository "
                "root; the oracle did not read it"
            )
        if self.reason == "loop":
            return f"{self.link} is a symbolic link loop; the oracle did not read it"
        if self.reason == "not-a-file":
            return f"{self.link} is not a regular file (a FIFO, socket or device); not read"
        return f"{self.link} is not a path inside the repository; not read"


class Refused(OSError):
    """A path was refused by the guard; `refusal` says which link and why."""

    def __init__(self, refusal: Refusal) -> None:
        super().__init__(errno.EACCES, refusal.describe())
        self.refusal = refusal


class Confined:
    """Reads below `root` and nowhere else. Paths are POSIX and relative to the root."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.real_root = Path(os.path.realpath(root))
        #: Every refusal so far, keyed by the offending link's path (one per link).
        self.refusals: dict[str, Refusal] = {}

    # ------------------------------------------------------------ resolution

    def locate(self, path: str) -> Path | None:
        """The real location of `path`, None when it does not exist; `Refused` when it
        escapes the root, loops, or is not a plain relative path."""
        pure = PurePosixPath(path)
        if pure.is_absolute() or ".." in pure.parts or "\x00" in path:
            raise self._refuse(Refusal(path, "invalid-path"))
        current = self.real_root
        walked: list[str] = []
        for part in pure.parts:
            if part == ".":
                continue
            walked.append(part)
            candidate = current / part
            try:
                mode = candidate.lstat().st_mode
            except OSError:
                return None
            if not stat.S_ISLNK(mode):
                current = candidate
                continue
            link = "/".join(walked)
            target = _readlink(candidate)
            try:
                real = Path(os.path.realpath(candidate, strict=True))
            except OSError as error:
                if error.errno == errno.ELOOP:
                    raise self._refuse(Refusal(link, "loop", target)) from None
                # Dangling: it names nothing, so there is nothing to read; still never
                # report a path outside the root as present.
                return None
            if not real.is_relative_to(self.real_root):
                raise self._refuse(Refusal(link, "outside", target))
            current = real
        return current

    def _found(self, path: str) -> Path | None:
        """`locate`, with a refusal (recorded) answered as "not there"."""
        try:
            return self.locate(path)
        except Refused:
            return None

    def is_file(self, path: str) -> bool:
        """A regular file inside the root (False, with the refusal recorded, if it escapes)."""
        found = self._found(path)
        return found is not None and found.is_file()

    def is_dir(self, path: str) -> bool:
        found = self._found(path)
        return found is not None and found.is_dir()

    def list_dir(self, path: str) -> list[str]:
        """Names in a directory inside the root; [] when missing or refused."""
        found = self._found(path)
        if found is None or not found.is_dir():
            return []
        try:
            return sorted(entry.name for entry in os.scandir(found))
        except OSError:
            return []

    # ------------------------------------------------------------ reading

    def read_bytes(self, path: str, *, limit: int | None = None) -> bytes:
        """The file's bytes; `ValueError` when larger than `limit`, `Refused` when refused,
        `FileNotFoundError` when missing."""
        fd = self._open(path)
        with os.fdopen(fd, "rb") as handle:
            data = handle.read(-1 if limit is None else limit + 1)
        if limit is not None and len(data) > limit:
            raise ValueError(f"{path} is larger than {limit} bytes")
        return data

    def read_text(self, path: str, *, limit: int | None = None) -> str:
        return self.read_bytes(path, limit=limit).decode("utf-8", errors="replace")

    def sha256(self, path: str) -> str:
        digest = hashlib.sha256()
        with os.fdopen(self._open(path), "rb") as handle:
            for chunk in iter(lambda: handle.read(_CHUNK), b""):
                digest.update(chunk)
        return digest.hexdigest()

    def _open(self, path: str) -> int:
        found = self.locate(path)
        if found is None:
            raise FileNotFoundError(errno.ENOENT, "no such file in the repository", path)
        try:
            fd = os.open(found, _OPEN_FLAGS)
        except OSError as error:
            if error.errno == errno.ELOOP:  # swapped for a link since it was resolved
                raise self._refuse(Refusal(path, "loop", _readlink(found))) from None
            raise
        try:
            info = os.fstat(fd)
            if not stat.S_ISREG(info.st_mode):
                raise self._refuse(Refusal(path, "not-a-file"))
            opened = _descriptor_path(fd)
            if opened is not None and not opened.is_relative_to(self.real_root):
                raise self._refuse(Refusal(path, "outside", str(opened)))
            os.set_blocking(fd, True)
        except BaseException:
            os.close(fd)
            raise
        return fd

    def _refuse(self, refusal: Refusal) -> Refused:
        self.refusals.setdefault(refusal.link, refusal)
        return Refused(refusal)


def _readlink(path: Path) -> str:
    try:
        return os.readlink(path)
    except OSError:
        return ""


def _descriptor_path(fd: int) -> Path | None:
    """Where an open descriptor really is (Linux /proc), to catch a directory swapped between
    resolution and open; None where the platform cannot tell."""
    try:
        return Path(os.readlink(f"/proc/self/fd/{fd}"))
    except OSError:
        return None
