"""Fixtures of the gcp-only tests: backends on the session's emulators, bootstrapped or bare."""

from __future__ import annotations

import secrets
from collections.abc import Iterator

import pytest

from adapters.backend import Backend, open_backend
from adapters.clock import FakeClock
from adapters.gcp.driver import GcpDriver
from tests.support.backends import BackendFactory
from tests.support.gcp_backend import GcpEmulators


@pytest.fixture
def bare_url(gcp_emulators: GcpEmulators) -> str:
    """A fresh prefix on the emulators, with nothing created for it yet."""
    return gcp_emulators.url(f"pmx{secrets.token_hex(3)}")


@pytest.fixture
def bare_backend(bare_url: str, clock: FakeClock) -> Iterator[Backend]:
    backend = open_backend(bare_url, clock=clock)
    yield backend
    backend.close()


@pytest.fixture
def gcp_backend(gcp_backend_factory: BackendFactory, clock: FakeClock) -> Iterator[Backend]:
    backend = gcp_backend_factory(clock)
    yield backend
    backend.close()


def driver_of(backend: Backend) -> GcpDriver:
    assert isinstance(backend.driver, GcpDriver)
    return backend.driver
