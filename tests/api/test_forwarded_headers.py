"""The per-client query limit counts the TCP peer: a spoofed `X-Forwarded-For` does not give a
client a fresh allowance unless the peer is a configured proxy (`--forwarded-allow-ips` /
`FORWARDED_ALLOW_IPS`, default none)."""

from __future__ import annotations

import argparse
from pathlib import Path

import httpx
import pytest

from service.cli.serve import trusted_proxies

from .servers import serve_subprocess

PARAMS = {
    "ruleid": "MD-002",
    "ruleversion": "1.0",
    "outcome": "matched",
    "start_ms": "1767225600000",
    "end_ms": "1767312000000",
}
LIMIT = {"PHASE_MIRROR_QUERIES_PER_CLIENT_PER_MINUTE": "2"}


def _spoofed_codes(url: str) -> list[int]:
    with httpx.Client(base_url=url, timeout=30) as client:
        return [
            client.get(
                "/api/v1/calibration/query",
                params=PARAMS,
                headers={"X-Forwarded-For": f"203.0.113.{n}"},
            ).status_code
            for n in range(1, 5)
        ]


@pytest.mark.slow
def test_a_spoofed_forwarded_for_does_not_reset_the_limit(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("FORWARDED_ALLOW_IPS", raising=False)  # the default: nothing configured
    with serve_subprocess(tmp_path / "home", env=LIMIT) as (url, _):
        codes = _spoofed_codes(url)
    assert codes[:2] == [403, 403]  # allowed (k too small on an empty service)
    assert codes[2:] == [429, 429], codes


@pytest.mark.slow
def test_a_configured_proxy_is_trusted(tmp_path: Path) -> None:
    env = {**LIMIT, "FORWARDED_ALLOW_IPS": "127.0.0.1"}  # the test client plays the proxy
    with serve_subprocess(tmp_path / "home", env=env) as (url, _):
        assert _spoofed_codes(url) == [403] * 4  # four clients behind the proxy, one query each


def _args(value: str | None) -> argparse.Namespace:
    return argparse.Namespace(forwarded_allow_ips=value)


def test_trusted_proxies_default_to_none(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("FORWARDED_ALLOW_IPS", raising=False)
    assert trusted_proxies(_args(None)) == ""
    monkeypatch.setenv("FORWARDED_ALLOW_IPS", " 169.254.0.0/16, ::1 ")
    assert trusted_proxies(_args(None)) == "169.254.0.0/16,::1"
    assert trusted_proxies(_args("10.0.0.5")) == "10.0.0.5"  # the option wins


@pytest.mark.parametrize("value", ["*", "proxy.internal", "10.0.0.0/33"])
def test_a_bad_or_wildcard_proxy_list_is_a_usage_error(
    value: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as stopped:
        trusted_proxies(_args(value))
    assert stopped.value.code == 64
    assert "--forwarded-allow-ips" in capsys.readouterr().err
