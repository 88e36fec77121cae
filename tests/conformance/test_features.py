"""Each backend's feature declaration is checked both ways: declared works, undeclared refuses."""

from __future__ import annotations

from datetime import timedelta

import pytest

from adapters.backend import Backend, Feature
from adapters.catalog import Store
from adapters.clock import FakeClock
from adapters.errors import Unsupported


def test_sweep_expired_matches_declaration(backend: Backend, clock: FakeClock) -> None:
    table = backend.table(Store.DEDUP)
    now = int(clock.now().timestamp())
    table.put({"dedupkey": "gone", "ttl": now + 1})
    table.put({"dedupkey": "kept", "ttl": now + 1000})
    clock.advance(timedelta(seconds=5))
    if Feature.SWEEP_EXPIRED in backend.features:
        assert backend.sweep_expired() >= 1
        assert backend.sweep_expired() == 0  # nothing left to sweep
        assert table.get({"dedupkey": "kept"}) is not None
    else:
        with pytest.raises(Unsupported):
            backend.sweep_expired()


def test_features_are_known_values(backend: Backend) -> None:
    assert backend.features <= set(Feature)
    assert backend.name in {"local", "aws", "gcp"}


def test_doctor_passes_on_a_fresh_backend(backend: Backend) -> None:
    failed = [check for check in backend.doctor() if not check.ok]
    assert failed == []
