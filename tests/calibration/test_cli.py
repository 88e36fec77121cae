"""The calibration CLI commands: keys, consent, anonymize (stdout is the report only)."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

from service.cli.main import main


def run(capsys: pytest.CaptureFixture[str], backend: str, *argv: str) -> tuple[int, str, str]:
    code = main(["--backend", backend, *argv])
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def url(tmp_path: Path) -> str:
    return f"local://{tmp_path / 'data'}"


def test_keys_lifecycle(
    capsys: pytest.CaptureFixture[str], url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    code, out, err = run(capsys, url, "keys", "create", "--name", "impl-a", "--org", "acme")
    assert code == 0
    value = out.strip()
    assert value.startswith("pmk_") and "only time" in err
    code, out, _ = run(capsys, url, "keys", "list", "--json")
    listed = json.loads(out)
    assert [k["name"] for k in listed] == ["impl-a"] and value not in out
    monkeypatch.setattr("sys.stdin", io.StringIO("test-key-123\n"))
    code, out, _ = run(capsys, url, "keys", "import", "--name", "seed", "--org", "seed")
    assert code == 0 and "imported key" in out
    code, out, _ = run(capsys, url, "keys", "revoke", listed[0]["key_id"])
    assert code == 0
    code, out, _ = run(capsys, url, "keys", "list")
    assert "revoked" in out and "active" in out


def test_keys_bad_input_is_a_clear_usage_error(
    capsys: pytest.CaptureFixture[str], url: str
) -> None:
    code, _, err = run(capsys, url, "keys", "create", "--name", "bad name!")
    assert code == 64 and "invalid key name" in err
    code, _, err = run(capsys, url, "keys", "revoke", "nope")
    assert code == 66 and "keys list" in err
    code, _, err = run(capsys, url, "keys", "import", "--name", "x", "--value", "short")
    assert code == 64 and "Traceback" not in err


def test_consent_grant_revoke_show(capsys: pytest.CaptureFixture[str], url: str) -> None:
    code, out, _ = run(capsys, url, "consent", "show", "--org", "acme")
    assert code == 0 and "implicit" in out
    code, out, _ = run(
        capsys,
        url,
        "consent",
        "grant",
        "--org",
        "acme",
        "--expires-in-days",
        "30",
        "--actor",
        "ops",
    )
    assert code == 0 and "explicit:org" in out
    code, out, _ = run(capsys, url, "consent", "revoke", "--org", "acme", "--repo", "acme/app")
    assert code == 0
    code, out, _ = run(
        capsys, url, "consent", "show", "--org", "acme", "--repo", "acme/app", "--json"
    )
    shown = json.loads(out)
    assert shown["basis"] == "revoked"
    assert [r["state"] for r in shown["history"]] == ["granted", "revoked"]
    code, _, err = run(capsys, url, "consent", "grant", "--org", "acme", "--repo", "not a repo")
    assert code == 64 and "owner/name" in err


def test_anonymize_reports_json_and_rotates_the_salt(
    capsys: pytest.CaptureFixture[str], url: str
) -> None:
    code, out, err = run(capsys, url, "anonymize")
    assert code == 0
    report = json.loads(out)
    assert report["scanned"] == 0
    first = int(report["salt_version"])
    code, out, err = run(capsys, url, "anonymize", "--rotate-salt", "--quiet")
    assert int(json.loads(out)["salt_version"]) == first + 1 and "rotated" in err
    code, out, err = run(capsys, url, "anonymize", "--retire-previous-salt", "--quiet")
    assert code == 0 and "retired" in err
    code, _, err = run(capsys, url, "anonymize", "--retire-previous-salt")
    assert code == 64 and "no previous salt" in err
    code, _, err = run(capsys, url, "anonymize", "--max-runs", "2")
    assert code == 64


def test_serve_refuses_a_port_in_use(capsys: pytest.CaptureFixture[str], url: str) -> None:
    import socket

    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        with pytest.raises(SystemExit) as exit_info:
            main(["--backend", url, "serve", "--port", str(port)])
    assert exit_info.value.code == 64
    assert "cannot listen" in capsys.readouterr().err
