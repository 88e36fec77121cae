"""Fixtures of the aws-only tests: a fresh bootstrapped backend on the session's moto server,
and private moto servers for tests that kill, pause or lock down their server."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from adapters.aws.driver import AwsDriver
from adapters.backend import Backend
from adapters.clock import FakeClock
from tests.support.aws_backend import start_moto
from tests.support.backends import BackendFactory
from tests.support.emulators import Emulator


@pytest.fixture
def aws(aws_backend_factory: BackendFactory, clock: FakeClock) -> Iterator[Backend]:
    backend = aws_backend_factory(clock)
    yield backend
    backend.close()


@pytest.fixture
def driver(aws: Backend) -> AwsDriver:
    """The backend's driver, whose boto3 clients the tests use to break things on purpose."""
    assert isinstance(aws.driver, AwsDriver)
    return aws.driver


@pytest.fixture
def private_moto(moto_server: Emulator, emulator_logs: Path) -> Iterator[Emulator]:
    """A moto server of this test alone (stock `moto_server` command), stopped by PID after.
    Depends on the session server so the process environment has the dummy credentials."""
    emulator = start_moto(emulator_logs, name="moto-private", serialized=False)
    yield emulator
    emulator.stop()
