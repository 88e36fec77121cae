"""A backend whose storage can be switched off: an outage at the `Table` contract.

The real local driver does the work; `Outage.down()` makes every table, secret-store and
key-wrapper call raise `Unavailable`, exactly what the cloud drivers raise when DynamoDB,
Firestore or the emulator stops answering. It wraps our own contract, not an SDK.
"""

from __future__ import annotations

import threading
from typing import Any

from adapters.backend import Backend, assemble
from adapters.catalog import BucketSpec, StoreSpec
from adapters.clock import Clock
from adapters.config import parse_backend_url
from adapters.errors import Throttled, Unavailable
from adapters.local.driver import open_driver


class Outage:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._error: Exception | None = None

    def down(self, error: Exception | None = None) -> None:
        with self._lock:
            self._error = error or Unavailable("injected outage: backend stopped")

    def throttle(self) -> None:
        self.down(Throttled("injected: backend throttling", retry_after=2.0))

    def up(self) -> None:
        with self._lock:
            self._error = None

    def check(self) -> None:
        with self._lock:
            error = self._error
        if error is not None:
            raise error


class _Guarded:
    def __init__(self, inner: Any, outage: Outage) -> None:
        self._inner = inner
        self._outage = outage

    def __getattr__(self, name: str) -> Any:
        attribute = getattr(self._inner, name)
        if not callable(attribute):
            return attribute

        def guarded(*args: Any, **kwargs: Any) -> Any:
            self._outage.check()
            return attribute(*args, **kwargs)

        return guarded


class _FaultyDriver:
    def __init__(self, driver: Any, outage: Outage) -> None:
        self._driver = driver
        self._outage = outage
        self.name = driver.name
        self.features = driver.features
        self.storage_threads = driver.storage_threads
        self.data_dir = driver.data_dir

    def table(self, spec: StoreSpec) -> Any:
        return _Guarded(self._driver.table(spec), self._outage)

    def key_wrapper(self) -> Any:
        return _Guarded(self._driver.key_wrapper(), self._outage)

    def secret_store(self) -> Any:
        return _Guarded(self._driver.secret_store(), self._outage)

    def object_store(self, bucket: BucketSpec) -> Any:
        return _Guarded(self._driver.object_store(bucket), self._outage)

    def metrics_sink(self) -> Any:
        return self._driver.metrics_sink()

    def doctor(self) -> Any:
        return self._driver.doctor()

    def sweep_expired(self) -> int:
        return int(self._driver.sweep_expired())

    def close(self) -> None:
        self._driver.close()


def faulty_local_backend(data_dir: str, clock: Clock, outage: Outage) -> Backend:
    setting = parse_backend_url(f"local://{data_dir}")
    return assemble(setting, _FaultyDriver(open_driver(setting, clock), outage), clock)
