"""Single-use tokens on Firestore across processes: every token has exactly one winner."""

from __future__ import annotations

import multiprocessing
from datetime import timedelta

import pytest

from adapters.backend import Backend
from adapters.clock import SystemClock

from . import _workers

pytestmark = pytest.mark.gcp

PROCESSES = 4
TOKENS = 24


def test_each_token_is_consumed_by_exactly_one_process(gcp_backend: Backend) -> None:
    tokens = [f"xproc-{n:02d}" for n in range(TOKENS)]
    now = SystemClock().now()  # the children read expiry with the system clock
    for token in tokens:
        gcp_backend.nonces.issue(token, {"n": token}, ttl=timedelta(hours=1), at=now)
    context = multiprocessing.get_context("spawn")
    with context.Manager() as manager:
        barrier = manager.Barrier(PROCESSES)
        with context.Pool(PROCESSES) as pool:
            won = pool.starmap(
                _workers.consume_all, [(gcp_backend.setting.url, tokens, barrier)] * PROCESSES
            )
    every_win = [token for wins in won for token in wins]
    assert sorted(every_win) == tokens  # each token won once, none lost, none twice
