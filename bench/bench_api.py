"""Load on a real `phase-mirror serve` (local backend, loopback): ingest and nonce throughput.

A bounded load generator: a fixed number of requests per scenario, over keep-alive connections
(`concurrency` of them, each one request at a time), with an overall time limit. The client is a
minimal asyncio HTTP/1.1 writer/reader so that it costs the shared 2 cores as little as possible.
Every event is distinct (no 409s); the service's per-key limits are raised for the run, since
they would otherwise throttle a single-key benchmark by design.

    python -m bench api            # the full table
    BENCH_API_QUICK=1 python -m bench api
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Callable, Coroutine, Generator
from dataclasses import dataclass
from pathlib import Path

from .report import Stats, print_table

#: One exchange on a connection: yields requests, receives each response body.
Exchange = Generator[tuple[str, bytes], bytes, None]
Steps = Callable[[int], Exchange]
Runner = Callable[[Coroutine[object, object, "Result"]], "Result"]

TIME_LIMIT = 60.0  # seconds per scenario, whatever happens
LIMITS = {
    "PHASE_MIRROR_ORGS_PER_KEY_PER_HOUR": "100000000",
    "PHASE_MIRROR_EVENTS_PER_ORG_PER_HOUR": "100000000",
    "PHASE_MIRROR_NONCES_PER_KEY_PER_MINUTE": "100000000",
}


@dataclass
class Result:
    seconds: float
    latency: Stats
    statuses: dict[int, int]

    @property
    def requests(self) -> int:
        return self.latency.n

    @property
    def rate(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0

    @property
    def errors(self) -> int:
        return sum(n for status, n in self.statuses.items() if status >= 300)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class Server:
    def __init__(self, workers: int) -> None:
        self.home = Path(tempfile.mkdtemp(prefix="pm-bench-"))
        self.port = _free_port()
        env = {**os.environ, "PHASE_MIRROR_HOME": str(self.home), **LIMITS}
        env.pop("PHASE_MIRROR_BACKEND", None)
        self.log = (self.home / "serve.log").open("wb")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "service.cli.main", "serve", "--port", str(self.port),
             "--workers", str(workers), "--no-access-log", "--anonymize-every", "0"],
            env=env, stdout=self.log, stderr=subprocess.STDOUT,
        )  # fmt: skip
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/readyz", timeout=1):
                    break
            except OSError:
                time.sleep(0.1)
        else:
            self.stop()
            raise RuntimeError(f"server did not start; see {self.home / 'serve.log'}")
        self.token = (self.home / "bootstrap-api-key").read_text().strip()

    def stop(self) -> None:
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self.log.close()


def _request(path: str, body: bytes) -> bytes:
    head = (
        f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(body)}\r\n\r\n"
    )
    return head.encode() + body


async def _read_response(reader: asyncio.StreamReader) -> tuple[int, bytes]:
    head = await reader.readuntil(b"\r\n\r\n")
    status = int(head[9:12])
    length = 0
    for line in head.split(b"\r\n"):
        if line[:15].lower() == b"content-length:":
            length = int(line[15:])
    body = await reader.readexactly(length) if length else b""
    return status, body


async def _run(port: int, concurrency: int, total: int, make_pair: Steps) -> Result:
    """`make_pair(i)` is a generator of (path, body) requests sent back to back on one
    connection, receiving each response body; the latency recorded is that of the whole exchange
    (one ingest, or one nonce request + validate)."""
    counter = iter(range(total))
    latencies: list[int] = []
    statuses: dict[int, int] = {}
    deadline = time.monotonic() + TIME_LIMIT

    async def connection() -> None:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        try:
            for i in counter:
                if time.monotonic() > deadline:
                    return
                started = time.perf_counter_ns()
                steps = make_pair(i)
                path, body = next(steps)
                while True:
                    writer.write(_request(path, body))
                    status, answer = await _read_response(reader)
                    statuses[status] = statuses.get(status, 0) + 1
                    try:
                        path, body = steps.send(answer)
                    except StopIteration:
                        break
                latencies.append(time.perf_counter_ns() - started)
        finally:
            writer.close()

    started = time.perf_counter()
    await asyncio.gather(*(connection() for _ in range(concurrency)))
    return Result(time.perf_counter() - started, Stats.of(latencies), statuses)


def _ingest_bodies(token: str, run_id: str) -> Steps:
    now = int(time.time() * 1000)

    def make(i: int) -> Exchange:
        event = {
            "orgid": f"bench-org-{i % 1000}",
            "token": token,
            "ruleid": "MD-002",
            "ruleversion": "1.0",
            "claim": {"input": f"{run_id}-{i}", "findingid": f"f-{i}"},
            "outcome": "matched",
            "actualOutcome": "should_not_have_matched" if i % 4 == 0 else "correct",
            "confidence": 0.9,
            "timestamp": now,
            "environment": "bench",
        }
        yield "/api/v1/events/ingest", json.dumps(event).encode()

    return make


def _nonce_pairs(token: str) -> Steps:
    request = json.dumps({"orgid": "bench-org", "token": token}).encode()

    def make(i: int) -> Exchange:
        issued = yield "/api/v1/nonce/request", request
        nonce = json.loads(issued)["nonce"]
        yield "/api/v1/nonce/validate", json.dumps({"nonce": nonce}).encode()

    return make


def _loop_runner() -> Runner:
    try:
        import uvloop
    except ImportError:
        return asyncio.run
    run: Runner = uvloop.run
    return run


def run() -> None:
    quick = os.environ.get("BENCH_API_QUICK") == "1"
    n_ingest = 2000 if quick else 8000
    n_nonce = 1000 if quick else 3000
    runner = _loop_runner()
    ingest_rows: list[list[object]] = []
    nonce_rows: list[list[object]] = []
    for workers in (1, 2):
        server = Server(workers)
        try:
            # Warm-up: connections, data-key cache, SQLite pages.
            runner(_run(server.port, 8, 200, _ingest_bodies(server.token, f"warm{workers}")))
            for concurrency in (32, 256):
                result: Result = runner(
                    _run(
                        server.port,
                        concurrency,
                        n_ingest,
                        _ingest_bodies(server.token, f"w{workers}c{concurrency}"),
                    )
                )
                ingest_rows.append(_row(workers, concurrency, result))
            result = runner(_run(server.port, 32, n_nonce, _nonce_pairs(server.token)))
            nonce_rows.append(_row(workers, 32, result))
        finally:
            server.stop()
    headers = [
        "workers",
        "concurrency",
        "requests",
        "req/s",
        "p50 ms",
        "p99 ms",
        "errors",
        "statuses",
    ]
    print_table("ingest (POST /api/v1/events/ingest, local backend)", headers, ingest_rows)
    nonce_headers = [
        "workers",
        "concurrency",
        "pairs",
        "pairs/s",
        "p50 ms",
        "p99 ms",
        "errors",
        "statuses",
    ]
    print_table("nonce request + validate pairs", nonce_headers, nonce_rows)
    print(
        "\ntarget: >= 1,700 events/s with p99 < 50 ms at concurrency 32 (100x the seed's "
        "go-live load of 1,000 events/minute); machine: "
        f"{os.cpu_count()} cores shared with everything else running"
    )


def _row(workers: int, concurrency: int, result: Result) -> list[object]:
    statuses = " ".join(f"{k}:{v}" for k, v in sorted(result.statuses.items()))
    return [
        workers,
        concurrency,
        result.requests,
        round(result.rate, 1),
        round(result.latency.p50_ns / 1e6, 2),
        round(result.latency.p99_ns / 1e6, 2),
        result.errors,
        statuses,
    ]


if __name__ == "__main__":
    run()
