"""Each backend's feature declaration is checked both ways, for every feature (as Dapr's
conformance suite does): a declared feature works, an undeclared one raises `Unsupported`."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pytest

from adapters.backend import Backend, Feature
from adapters.catalog import Store
from adapters.clock import FakeClock
from adapters.errors import Unsupported


def _sweep_expired(backend: Backend, clock: FakeClock) -> None:
    table = backend.table(Store.DEDUP)
    now = int(clock.now().timestamp())
    table.put({"dedupkey": "gone", "ttl": now + 1})
    table.put({"dedupkey": "kept", "ttl": now + 1000})
    clock.advance(timedelta(seconds=5))
    assert backend.sweep_expired() >= 1
    assert backend.sweep_expired() == 0  # nothing left to sweep
    assert table.get({"dedupkey": "kept"}) is not None


#: One probe per feature: it passes where the feature is declared and raises `Unsupported` where
#: it is not. A new `Feature` without a probe fails `test_every_feature_has_a_probe`.
PROBES: dict[Feature, Callable[[Backend, FakeClock], None]] = {
    Feature.SWEEP_EXPIRED: _sweep_expired,
}


@pytest.mark.parametrize("feature", list(Feature))
def test_feature_declaration_holds_both_ways(
    backend: Backend, clock: FakeClock, feature: Feature
) -> None:
    probe = PROBES[feature]
    if feature in backend.features:
        probe(backend, clock)
    else:
        with pytest.raises(Unsupported):
            probe(backend, clock)


def test_every_feature_has_a_probe() -> None:
    assert set(PROBES) == set(Feature)


def test_no_feature_is_declared_by_every_backend() -> None:
    """A capability every backend has is no option: the suite tests it unconditionally."""
    from adapters.aws.driver import AwsDriver
    from adapters.gcp.driver import GcpDriver
    from adapters.local.driver import LocalDriver

    declared = [driver.features for driver in (LocalDriver, AwsDriver, GcpDriver)]
    assert frozenset.intersection(*declared) == frozenset()


def test_features_are_known_values(backend: Backend) -> None:
    assert backend.features <= set(Feature)
    assert backend.name in {"local", "aws", "gcp"}


def test_doctor_passes_on_a_fresh_backend(backend: Backend) -> None:
    failed = [check for check in backend.doctor() if not check.ok]
    assert failed == []
