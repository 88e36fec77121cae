"""Child-process worker of the cross-process tests (spawned, so importable)."""

from __future__ import annotations

import random
from multiprocessing.synchronize import Barrier

from adapters.backend import open_backend
from adapters.errors import NotFound


def consume_all(url: str, tokens: list[str], barrier: Barrier) -> list[str]:
    """Try to consume every token, in this process's own random order; return the ones won."""
    backend = open_backend(url)
    try:
        order = random.sample(tokens, len(tokens))
        barrier.wait(timeout=60)
        won = []
        for token in order:
            try:
                backend.nonces.consume(token)
            except NotFound:
                continue
            won.append(token)
        return won
    finally:
        backend.close()
