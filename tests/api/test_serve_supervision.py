"""`phase-mirror serve --workers 2` killed with SIGKILL: its workers exit within a bounded time
(no orphan keeps the port and keeps accepting writes), and a restart on the same port works."""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

import httpx
import pytest

from tests.support.emulators import free_port

from .servers import serve_subprocess

pytestmark = [pytest.mark.slow, pytest.mark.timeout(120)]

#: How long the workers may outlive their supervisor.
BOUND_SECONDS = 15.0


def _children(pid: int) -> set[int]:
    """Live (non-zombie) processes whose parent is `pid`, from /proc."""
    found = set()
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            stat = _stat(int(entry))
            if stat is not None and stat[1] == pid:
                found.add(int(entry))
    return found


def _stat(pid: int) -> tuple[str, int] | None:
    """(state, parent pid) of a process, or None once it is gone."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    state, ppid = text.rsplit(")", 1)[1].split()[:2]
    return state, int(ppid)


def _alive(pid: int) -> bool:
    stat = _stat(pid)
    return stat is not None and stat[0] not in ("Z", "X")


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="needs /proc (Linux)")
def test_workers_exit_when_serve_is_killed_and_the_port_is_free_again(tmp_path: Path) -> None:
    home = tmp_path / "home"
    port = free_port()
    workers: set[int] = set()
    try:
        with serve_subprocess(home, workers=2, port=port) as (url, supervisor):
            deadline = time.monotonic() + 30
            while len(workers) < 2 and time.monotonic() < deadline:
                workers = {pid for pid in _children(supervisor.pid) if _is_worker(pid)}
                time.sleep(0.2)
            assert len(workers) == 2, f"expected 2 workers of {supervisor.pid}, saw {workers}"

            supervisor.send_signal(signal.SIGKILL)
            supervisor.wait(timeout=10)
            deadline = time.monotonic() + BOUND_SECONDS
            while any(_alive(pid) for pid in workers) and time.monotonic() < deadline:
                time.sleep(0.2)
            survivors = {pid for pid in workers if _alive(pid)}
            assert not survivors, f"workers {survivors} outlived serve by {BOUND_SECONDS} s"
            with pytest.raises(httpx.TransportError):
                httpx.get(f"{url}/healthz", timeout=2)

        with serve_subprocess(home, workers=2, port=port) as (url, _):
            assert httpx.get(f"{url}/healthz", timeout=5).json() == {"status": "ok"}
    finally:
        for pid in workers:  # never leave an orphan behind, even when the test fails
            if _alive(pid):
                os.kill(pid, signal.SIGKILL)


def _is_worker(pid: int) -> bool:
    """Whether `pid` is a uvicorn worker (a spawned multiprocessing child)."""
    try:
        command = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return False
    return b"multiprocessing" in command and b"resource_tracker" not in command
