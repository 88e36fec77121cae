"""Child-process workers for the multi-process conformance tests (spawned, so importable)."""

from __future__ import annotations

from multiprocessing.synchronize import Barrier

from adapters.backend import open_backend
from adapters.errors import NotFound


def consume_token(url: str, token_hash: str, barrier: Barrier) -> str:
    backend = open_backend(url)
    try:
        barrier.wait(timeout=60)
        try:
            backend.nonces.consume(token_hash)
        except NotFound:
            return "lost"
        return "won"
    finally:
        backend.close()


def increment_counter(url: str, rule: str, times: int, barrier: Barrier) -> int:
    backend = open_backend(url)
    try:
        barrier.wait(timeout=60)
        last = 0
        for _ in range(times):
            last = backend.block_counter.increment(rule, "acme/app", at=backend.clock.now())
        return last
    finally:
        backend.close()
