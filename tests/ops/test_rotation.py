"""Secret rotation with a grace window, on every backend, and its CLI on the local backend."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest

from adapters.backend import Backend
from adapters.catalog import SECRETS, Secret
from adapters.clock import FakeClock
from service.ops.rotation import InvalidSecretValue, retire_expired, rotate

GRACE = SECRETS[Secret.REDACTION_KEY].grace_period


def test_rotation_keeps_previous_for_the_grace_window_then_retires_it(
    backend: Backend, clock: FakeClock
) -> None:
    store = backend.secrets
    first = rotate(store, Secret.REDACTION_KEY, now=clock.now(), value="1" * 64)
    second = rotate(store, Secret.REDACTION_KEY, now=clock.now(), value="2" * 64)
    assert second.rotated
    assert second.previous_version == first.current_version
    # Version timestamps come from the backend (a cloud's server clock), so reason from them.
    rotated_at = store.current(Secret.REDACTION_KEY).created_at
    # Inside the grace window both versions are valid.
    inside = rotated_at + GRACE - timedelta(minutes=1)
    assert retire_expired(store, Secret.REDACTION_KEY, now=inside) == []
    previous = store.previous(Secret.REDACTION_KEY)
    assert previous is not None and previous.value == "1" * 64
    # Once the window is over, the old version is retired (disabled, not destroyed).
    after = rotated_at + GRACE + timedelta(minutes=1)
    assert retire_expired(store, Secret.REDACTION_KEY, now=after) == [first.current_version]
    assert store.previous(Secret.REDACTION_KEY) is None
    assert any(
        v.version == first.current_version and not v.enabled
        for v in store.versions(Secret.REDACTION_KEY)
    )


def test_rotation_is_idempotent_for_the_current_value(backend: Backend, clock: FakeClock) -> None:
    rotate(backend.secrets, Secret.ANONYMIZER_SALT, now=clock.now(), value="a" * 64)
    again = rotate(backend.secrets, Secret.ANONYMIZER_SALT, now=clock.now(), value="a" * 64)
    assert not again.rotated
    values = [v.value for v in backend.secrets.versions(Secret.ANONYMIZER_SALT)]
    assert values.count("a" * 64) == 1


def test_three_quick_rotations_leave_two_valid_versions(backend: Backend, clock: FakeClock) -> None:
    for digit in "345":
        result = rotate(backend.secrets, Secret.REDACTION_KEY, now=clock.now(), value=digit * 64)
    enabled = [v.value for v in backend.secrets.versions(Secret.REDACTION_KEY) if v.enabled]
    assert enabled == ["5" * 64, "4" * 64]
    assert result.retired  # the third rotation retired the oldest


@pytest.mark.parametrize("bad", ["abc", "G" * 64, "A" * 64, "a" * 63, "a" * 65, ""])
def test_values_that_are_not_64_hex_are_refused(
    backend: Backend, clock: FakeClock, bad: str
) -> None:
    before = backend.secrets.versions(Secret.REDACTION_KEY)
    with pytest.raises(InvalidSecretValue, match="64 lowercase hex"):
        rotate(backend.secrets, Secret.REDACTION_KEY, now=clock.now(), value=bad)
    assert backend.secrets.versions(Secret.REDACTION_KEY) == before


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "service.cli.main", *args],
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_rotate_nonce_cli(tmp_path: Path) -> None:
    backend = f"local://{tmp_path}"
    first = _cli("--backend", backend, "rotate-nonce", "--value", "c" * 64, "--json")
    assert first.returncode == 0, first.stderr
    result = json.loads(first.stdout)
    assert result["rotated"] and result["secret"] == "redaction-key"
    assert result["previous_version"] is not None  # the provisioned initial key stays valid
    again = json.loads(
        _cli("--backend", backend, "rotate-nonce", "--value", "c" * 64, "--json").stdout
    )
    assert not again["rotated"] and again["current_version"] == result["current_version"]
    bad = _cli("--backend", backend, "rotate-nonce", "--value", "xyz")
    assert bad.returncode == 64
    assert "64 lowercase hex" in bad.stderr and "Traceback" not in bad.stderr


def test_rotate_secret_from_stack_outputs(tmp_path: Path) -> None:
    outputs = tmp_path / "outputs.json"
    outputs.write_text(json.dumps({"backendUrl": f"local://{tmp_path / 'data'}"}))
    done = _cli("rotate-secret", "anonymizer-salt", "--stack", str(outputs))
    assert done.returncode == 0, done.stderr
    assert "anonymizer-salt: rotated" in done.stdout
    missing = _cli("rotate-secret", "anonymizer-salt", "--stack", str(tmp_path / "nope.json"))
    assert missing.returncode == 78 and "pulumi stack output --json" in missing.stderr


def test_retire_only_writes_nothing(tmp_path: Path) -> None:
    backend = f"local://{tmp_path}"
    assert _cli("--backend", backend, "rotate-nonce", "--json").returncode == 0
    retired = _cli("--backend", backend, "rotate-nonce", "--retire-only", "--json")
    assert retired.returncode == 0, retired.stderr
    result = json.loads(retired.stdout)
    assert not result["rotated"]
    assert result["retired"] == []  # the previous key is still inside its grace window
    assert result["previous_version"] is not None
    both = _cli("--backend", backend, "rotate-nonce", "--retire-only", "--value", "a" * 64)
    assert both.returncode == 64
    assert "drop --value" in both.stderr
