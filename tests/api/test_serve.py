"""`phase-mirror serve` as a real subprocess on loopback: zero-configuration start, single-use
nonces across two worker processes, and the seed's rate-limit scenario."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest

from .servers import serve_process

pytestmark = pytest.mark.slow


def _event(token: str, org: str, n: int) -> dict[str, object]:
    return {
        "orgid": org,
        "token": token,
        "ruleid": f"R-RATE-{n}",
        "ruleversion": "1.0",
        "claim": {"input": f"data-{n}"},
        "outcome": "matched",
        "actualOutcome": "should_not_have_matched",
        "confidence": 0.8,
        "timestamp": int(time.time() * 1000),
        "environment": "production",
    }


def test_two_workers_zero_config_and_single_use_nonces(tmp_path: Path) -> None:
    home = tmp_path / "home"
    with serve_process(home, workers=2) as url:
        key_file = home / "bootstrap-api-key"
        assert key_file.stat().st_mode & 0o077 == 0
        token = key_file.read_text().strip()
        assert token.startswith("pmk_")
        with httpx.Client(base_url=url, timeout=30) as client:
            assert client.get("/healthz").json() == {"status": "ok"}
            accepted = client.post("/api/v1/events/ingest", json=_event(token, "org-1", 1))
            assert accepted.status_code == 202, accepted.text

            for _ in range(3):
                issued = client.post(
                    "/api/v1/nonce/request", json={"orgid": "org-1", "token": token}
                ).json()
                barrier = threading.Barrier(32)

                def validate(
                    nonce: str = issued["nonce"], barrier: threading.Barrier = barrier
                ) -> int:
                    with httpx.Client(base_url=url, timeout=30) as own:
                        barrier.wait()
                        return own.post("/api/v1/nonce/validate", json={"nonce": nonce}).status_code

                with ThreadPoolExecutor(32) as pool:
                    codes = list(pool.map(lambda _: validate(), range(32)))
                assert sorted(codes) == [200] + [401] * 31

            metrics = client.get("/metrics")
            assert "phase_mirror_worker_pid" in metrics.text


def test_distinct_org_limit_under_a_concurrent_burst(tmp_path: Path) -> None:
    """The seed's scenario: 1,001 new orgs at once from one key -> some 429s, and an org
    admitted earlier in the hour is still accepted afterwards."""
    home = tmp_path / "home"
    with serve_process(home, workers=2, env={"PHASE_MIRROR_ORGS_PER_KEY_PER_HOUR": "200"}) as url:
        token = (home / "bootstrap-api-key").read_text().strip()
        with httpx.Client(base_url=url, timeout=60) as client:
            assert (
                client.post("/api/v1/events/ingest", json=_event(token, "early-org", 0)).status_code
                == 202
            )

        def send(n: int) -> int:
            with httpx.Client(base_url=url, timeout=60) as own:
                return own.post(
                    "/api/v1/events/ingest", json=_event(token, f"org-{n}", n)
                ).status_code

        with ThreadPoolExecutor(32) as pool:
            codes = list(pool.map(send, range(1, 251)))
        assert 500 not in codes
        assert codes.count(429) >= 50
        assert set(codes) <= {202, 429}
        with httpx.Client(base_url=url, timeout=60) as client:
            again = client.post("/api/v1/events/ingest", json=_event(token, "early-org", 9999))
            assert again.status_code == 202, again.text
