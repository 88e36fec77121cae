"""A backend: a driver (tables, key wrapper, secrets, objects, metrics) turned into ports.

`open_backend` imports the selected driver lazily, so the embedded default never imports boto3
or google-cloud. Every backend gets the same table-backed port implementations.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Protocol

from .catalog import BASELINES_BUCKET, STORES, BucketSpec, Store, StoreSpec
from .clock import Clock, SystemClock
from .config import URL_SPECS, BackendSetting, resolve_setting
from .envelope import EnvelopeKeyManager, KeyWrapper
from .errors import Misconfigured, Unsupported
from .operations import Check, Operator
from .ports import (
    ApiKeyStore,
    BlockCounter,
    CalibrationStore,
    ConsentStore,
    DedupIndex,
    FpEventStore,
    KeyManager,
    MetricsSink,
    ObjectStore,
    RateLimiter,
    RawEventStore,
    SecretStore,
    TokenStore,
)
from .stores.api_keys import TableApiKeyStore
from .stores.calibration import TableCalibrationStore, TableRawEventStore
from .stores.consent import TableConsentStore
from .stores.counters import TableBlockCounter, TableRateLimiter
from .stores.fp_events import TableFpEventStore
from .stores.tokens import TableDedupIndex, TableTokenStore
from .table import Table


class Feature(StrEnum):
    """Optional capabilities. The conformance suite checks each declaration both ways: a
    declared feature works, an undeclared one raises `Unsupported`."""

    #: `sweep_expired()` physically deletes expired items (local; the clouds use native TTL).
    SWEEP_EXPIRED = "sweep_expired"


class Driver(Protocol):
    name: str
    features: frozenset[Feature]
    #: Threads a worker process should give storage calls: few where they are CPU work under
    #: the GIL (SQLite), many where they wait on the network (the clouds).
    storage_threads: int

    @property
    def data_dir(self) -> Path | None:
        """A directory on this machine that belongs to the backend, where the service may keep
        files such as the first-start API key; None where there is none (the clouds)."""
        ...

    def table(self, spec: StoreSpec) -> Table: ...

    def key_wrapper(self) -> KeyWrapper: ...

    def secret_store(self) -> SecretStore: ...

    def object_store(self, bucket: BucketSpec) -> ObjectStore: ...

    def metrics_sink(self) -> MetricsSink: ...

    def doctor(self) -> list[Check]:
        """The data plane checks itself: reachable and shaped as the catalog says."""
        ...

    @property
    def operator(self) -> Operator | None:
        """Cloud operations (bootstrap, verify-pitr, verify-alarms); None where there are
        none (the embedded local backend)."""
        ...

    def sweep_expired(self) -> int: ...

    def close(self) -> None: ...


@dataclass
class Backend:
    setting: BackendSetting
    driver: Driver
    clock: Clock
    fp_events: FpEventStore
    consent: ConsentStore
    block_counter: BlockCounter
    nonces: TokenStore
    dedup: DedupIndex
    rate_limits: RateLimiter
    calibration: CalibrationStore
    raw_events: RawEventStore
    api_keys: ApiKeyStore
    secrets: SecretStore
    keys: KeyManager
    baselines: ObjectStore
    metrics: MetricsSink
    tables: dict[Store, Table] = field(default_factory=dict)

    @property
    def name(self) -> str:
        return self.driver.name

    @property
    def features(self) -> frozenset[Feature]:
        return self.driver.features

    @property
    def storage_threads(self) -> int:
        return self.driver.storage_threads

    @property
    def data_dir(self) -> Path | None:
        return self.driver.data_dir

    def table(self, store: Store) -> Table:
        """The raw table of a catalog store (driver-level tests and tools; the service uses ports)."""
        if store not in self.tables:
            self.tables[store] = self.driver.table(STORES[store])
        return self.tables[store]

    def doctor(self) -> list[Check]:
        return self.driver.doctor()

    @property
    def operator(self) -> Operator | None:
        return self.driver.operator

    def sweep_expired(self) -> int:
        if Feature.SWEEP_EXPIRED not in self.features:
            raise Unsupported(f"the {self.name} backend deletes expired items itself (native TTL)")
        return self.driver.sweep_expired()

    def close(self) -> None:
        self.driver.close()


def assemble(setting: BackendSetting, driver: Driver, clock: Clock) -> Backend:
    tables = {store: driver.table(spec) for store, spec in STORES.items()}
    return Backend(
        setting=setting,
        driver=driver,
        clock=clock,
        fp_events=TableFpEventStore(tables[Store.FP_EVENTS]),
        consent=TableConsentStore(tables[Store.CONSENT]),
        block_counter=TableBlockCounter(tables[Store.BLOCK_COUNTER]),
        nonces=TableTokenStore(tables[Store.NONCES]),
        dedup=TableDedupIndex(tables[Store.DEDUP]),
        rate_limits=TableRateLimiter(tables[Store.RATE_LIMITS]),
        calibration=TableCalibrationStore(tables[Store.CALIBRATION]),
        raw_events=TableRawEventStore(tables[Store.RAW_EVENTS]),
        api_keys=TableApiKeyStore(tables[Store.API_KEYS]),
        secrets=driver.secret_store(),
        keys=EnvelopeKeyManager(driver.key_wrapper()),
        baselines=driver.object_store(BASELINES_BUCKET),
        metrics=driver.metrics_sink(),
        tables=tables,
    )


DriverOpener = Callable[[BackendSetting, Clock], Driver]


#: scheme -> (module, optional-dependency extra that provides its SDK)
def open_backend(
    setting: BackendSetting | str | None = None, *, clock: Clock | None = None
) -> Backend:
    """Open the configured backend (see `adapters.config` for the resolution order)."""
    if setting is None or isinstance(setting, str):
        setting = resolve_setting(setting)
    spec = URL_SPECS[setting.scheme]
    try:
        module = importlib.import_module(spec.driver_module)
    except ImportError as error:
        extra = spec.sdk_extra
        hint = f"pip install 'phase-mirror[{extra}]'" if extra else "reinstall phase-mirror"
        raise Misconfigured(
            f"backend {setting.scheme}:// (from {setting.source}) cannot load: {error}; {hint}"
        ) from None
    clock = clock or SystemClock()
    opener: DriverOpener = module.open_driver
    return assemble(setting, opener(setting, clock), clock)
