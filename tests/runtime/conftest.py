"""Fixtures of the runtime tests: a fresh AWS backend on the session's moto server."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from adapters.backend import Backend
from adapters.clock import FakeClock
from tests.support.backends import BackendFactory


@pytest.fixture
def aws(aws_backend_factory: BackendFactory, clock: FakeClock) -> Iterator[Backend]:
    backend = aws_backend_factory(clock)
    yield backend
    backend.close()
