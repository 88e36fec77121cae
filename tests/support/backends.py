"""Backend factories for the conformance suite.

Each backend contributes a session fixture named `{kind}_backend_factory`: a callable taking a
clock and returning a *fresh, isolated* `Backend` (its own data directory, table prefix or
project namespace) whose `setting.url` another process can open to share its state.
`BACKEND_KINDS` lists the kinds the suite runs on; a kind joins by adding its factory module to
`pytest_plugins` in the root `conftest.py` and its name here.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator

import pytest

from adapters.backend import Backend, open_backend
from adapters.clock import Clock, FakeClock

BACKEND_KINDS: tuple[str, ...] = ("local", "aws", "gcp")

BackendFactory = Callable[[Clock], Backend]


@pytest.fixture(scope="session")
def local_backend_factory(tmp_path_factory: pytest.TempPathFactory) -> BackendFactory:
    root = tmp_path_factory.mktemp("local-backends")
    counter = itertools.count()

    def make(clock: Clock) -> Backend:
        return open_backend(f"local://{root / f'b{next(counter)}'}", clock=clock)

    return make


@pytest.fixture(params=BACKEND_KINDS)
def backend_kind(request: pytest.FixtureRequest) -> str:
    kind: str = request.param
    return kind


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def backend(
    request: pytest.FixtureRequest, backend_kind: str, clock: FakeClock
) -> Iterator[Backend]:
    factory: BackendFactory = request.getfixturevalue(f"{backend_kind}_backend_factory")
    opened = factory(clock)
    yield opened
    opened.close()


@pytest.fixture
def local_backend(local_backend_factory: BackendFactory, clock: FakeClock) -> Iterator[Backend]:
    """The embedded backend alone, for service-level tests that need storage but no cloud."""
    opened = local_backend_factory(clock)
    yield opened
    opened.close()
