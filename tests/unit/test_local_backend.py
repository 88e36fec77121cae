"""Local-backend specifics: files and modes, bad data directories, durability after a crash."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from adapters.backend import open_backend
from adapters.catalog import Secret
from adapters.errors import Misconfigured


def test_files_are_private(tmp_path: Path) -> None:
    backend = open_backend(f"local://{tmp_path / 'd'}")
    backend.keys.encrypt(b"x", b"y")
    backend.close()
    data = tmp_path / "d"
    assert stat.S_IMODE(data.stat().st_mode) == 0o700
    for name in ("master.key", "durable.db", "ephemeral.db"):
        assert stat.S_IMODE((data / name).stat().st_mode) == 0o600, name
    assert (data / "master.key").stat().st_size == 32


def test_data_dir_that_is_a_file_is_misconfigured(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    with pytest.raises(Misconfigured, match="cannot create the local data directory"):
        open_backend(f"local://{blocker / 'sub'}")


def test_damaged_key_file_is_reported_not_silently_replaced(tmp_path: Path) -> None:
    backend = open_backend(f"local://{tmp_path}")
    sealed = backend.keys.encrypt(b"secret", b"aad")
    backend.close()
    (tmp_path / "master.key").write_bytes(b"short")
    with pytest.raises(Misconfigured, match="restore it from backup"):
        open_backend(f"local://{tmp_path}")
    assert (tmp_path / "master.key").read_bytes() == b"short"
    assert sealed  # the data stays; only the key is missing


def test_doctor_flags_loose_permissions(tmp_path: Path) -> None:
    backend = open_backend(f"local://{tmp_path / 'd'}")
    backend.keys.encrypt(b"x", b"y")
    os.chmod(tmp_path / "d" / "master.key", 0o644)
    failed = {c.name: c.fix for c in backend.doctor() if not c.ok}
    backend.close()
    assert failed == {"key file": f"chmod 600 {tmp_path / 'd' / 'master.key'}"}


def test_acknowledged_writes_survive_a_hard_crash(tmp_path: Path) -> None:
    """A child process writes, gets the acknowledgement, then dies without any cleanup."""
    code = f"""
import os
from adapters.backend import open_backend
from adapters.catalog import Secret
b = open_backend('local://{tmp_path}')
b.secrets.put(Secret.ANONYMIZER_SALT, 'f' * 64)
b.baselines.put('k', b'baseline')
b.dedup.claim('dk', 'ev', ttl=__import__('datetime').timedelta(hours=1), at=b.clock.now())
print('acknowledged', flush=True)
os._exit(9)
"""
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.returncode == 9 and "acknowledged" in out.stdout
    backend = open_backend(f"local://{tmp_path}")
    try:
        assert backend.secrets.current(Secret.ANONYMIZER_SALT).value == "f" * 64
        assert backend.baselines.get("k").data == b"baseline"
    finally:
        backend.close()


def test_backend_survives_fork_with_fresh_connections(tmp_path: Path) -> None:
    backend = open_backend(f"local://{tmp_path}")
    backend.block_counter.increment("R", "a/b", at=backend.clock.now())
    pid = os.fork()
    if pid == 0:  # child: must not reuse the parent's SQLite connection
        try:
            backend.block_counter.increment("R", "a/b", at=backend.clock.now())
        finally:
            os._exit(0)
    os.waitpid(pid, 0)
    assert backend.block_counter.count("R", "a/b", at=backend.clock.now()) == 2
    backend.close()
