"""The backend goes away in the middle of a load: 503s with Retry-After, never a 500, and every
event acknowledged with 202 is stored and readable afterwards; retries are then accepted."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from pathlib import Path

import httpx
import pytest

from adapters.clock import FakeClock
from service.api.app import create_app
from service.calibration.bootstrap import bootstrap
from service.calibration.config import CalibrationConfig

from .conftest import API_KEY
from .faults import Outage, faulty_local_backend
from .servers import in_thread

THREADS = 16
PER_THREAD = 40


@pytest.mark.slow
def test_outage_mid_load(tmp_path: Path, clock: FakeClock) -> None:
    outage = Outage()
    backend = faulty_local_backend(str(tmp_path / "data"), clock, outage)
    app = create_app(backend, CalibrationConfig(), access_log=False)
    bootstrap(backend, app.state.calibration.keys)
    app.state.calibration.keys.import_key(API_KEY, "load", "impl")

    sent = 0
    lock = threading.Lock()
    results: list[tuple[dict[str, object], int, dict[str, object], dict[str, str]]] = []

    def event(n: int) -> dict[str, object]:
        return {
            "orgid": f"org-{n % 50}",
            "token": API_KEY,
            "ruleid": "MD-002",
            "ruleversion": "1.0",
            "claim": {"input": f"claim-{n}"},
            "outcome": "matched",
            "actualOutcome": "should_not_have_matched",
            "confidence": 0.7,
            "timestamp": int(clock.now().timestamp() * 1000),
            "environment": "load",
        }

    def worker(index: int, url: str) -> None:
        nonlocal sent
        with httpx.Client(base_url=url, timeout=30) as client:
            for i in range(PER_THREAD):
                body = event(index * PER_THREAD + i)
                with lock:
                    sent += 1
                    if sent == THREADS * PER_THREAD // 3:
                        outage.down()
                    elif sent == 2 * THREADS * PER_THREAD // 3:
                        outage.up()
                response = client.post("/api/v1/events/ingest", json=body)
                with lock:
                    results.append(
                        (body, response.status_code, response.json(), dict(response.headers))
                    )

    try:
        with in_thread(app) as url:
            with ThreadPoolExecutor(THREADS) as pool:
                for future in [pool.submit(worker, n, url) for n in range(THREADS)]:
                    future.result()
            statuses = [status for _, status, _, _ in results]
            assert 500 not in statuses
            assert set(statuses) <= {202, 503}, sorted(set(statuses))
            failed = [(body, headers) for body, status, _, headers in results if status == 503]
            accepted = [payload["eventid"] for _, status, payload, _ in results if status == 202]
            assert failed and accepted
            assert all(int(headers["retry-after"]) >= 1 for _, headers in failed)

            # Every acknowledged event is stored, and decrypts.
            for eventid in accepted:
                stored = backend.raw_events.get(str(eventid))
                backend.keys.decrypt(stored.org_id_encrypted, str(eventid).encode())

            # Clients retry after the outage: accepted, not refused as duplicates.
            clock.advance(timedelta(seconds=31))
            with httpx.Client(base_url=url, timeout=30) as client:
                for body, _ in failed:
                    body["timestamp"] = int(clock.now().timestamp() * 1000)
                    retried = client.post("/api/v1/events/ingest", json=body)
                    assert retried.status_code == 202, retried.text
            assert sum(1 for _ in backend.raw_events.scan()) == THREADS * PER_THREAD
    finally:
        backend.close()
