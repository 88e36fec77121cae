"""Atomicity under concurrency: threads in one process, and separate processes.

Of N concurrent consumers of one token exactly one wins; N x K concurrent increments give N x K.
"""

from __future__ import annotations

import multiprocessing
import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

from adapters.backend import Backend
from adapters.clock import SystemClock
from adapters.errors import NotFound

from . import _workers

THREADS = 16
PROCESSES = 4


def test_threads_exactly_one_consumer_wins(backend: Backend) -> None:
    for round_ in range(3):
        token = f"thread-token-{round_}"
        backend.nonces.issue(token, {"o": "1"}, ttl=timedelta(hours=1), at=backend.clock.now())
        barrier = threading.Barrier(THREADS)

        def consume(_: int, token: str = token, barrier: threading.Barrier = barrier) -> bool:
            barrier.wait()
            try:
                backend.nonces.consume(token)
            except NotFound:
                return False
            return True

        with ThreadPoolExecutor(THREADS) as pool:
            results = list(pool.map(consume, range(THREADS)))
        assert results.count(True) == 1


def test_threads_counter_increments_are_not_lost(backend: Backend) -> None:
    per_thread = 10

    def bump(_: int) -> None:
        for _ in range(per_thread):
            backend.block_counter.increment("MD-001", "acme/app", at=backend.clock.now())

    with ThreadPoolExecutor(8) as pool:
        list(pool.map(bump, range(8)))
    assert backend.block_counter.count("MD-001", "acme/app", at=backend.clock.now()) == 80


def test_threads_rate_limit_never_over_admits(backend: Backend) -> None:
    at = backend.clock.now()

    def hit(i: int) -> bool:
        return backend.rate_limits.hit("burst", limit=10, window=timedelta(hours=1), at=at).allowed

    with ThreadPoolExecutor(8) as pool:
        allowed = list(pool.map(hit, range(40)))
    assert allowed.count(True) == 10


def test_processes_exactly_one_consumer_wins(backend: Backend) -> None:
    context = multiprocessing.get_context("spawn")
    token = "process-token"
    # Children use the system clock, so issue the token against real time.
    backend.nonces.issue(token, {"o": "1"}, ttl=timedelta(hours=1), at=SystemClock().now())
    with context.Manager() as manager:
        barrier = manager.Barrier(PROCESSES)
        with context.Pool(PROCESSES) as pool:
            results = pool.starmap(
                _workers.consume_token, [(backend.setting.url, token, barrier)] * PROCESSES
            )
    assert sorted(results) == ["lost"] * (PROCESSES - 1) + ["won"]


def test_processes_counter_increments_are_not_lost(backend: Backend) -> None:
    context = multiprocessing.get_context("spawn")
    times = 15
    with context.Manager() as manager:
        barrier = manager.Barrier(PROCESSES)
        with context.Pool(PROCESSES) as pool:
            finals = pool.starmap(
                _workers.increment_counter,
                [(backend.setting.url, "MD-XPROC", times, barrier)] * PROCESSES,
            )
    assert max(finals) == PROCESSES * times
    now = SystemClock().now()
    assert backend.block_counter.count("MD-XPROC", "acme/app", at=now) == PROCESSES * times
