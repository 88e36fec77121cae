"""The GCP driver: Firestore tables, Cloud KMS, Secret Manager, Cloud Storage, log-based metrics."""

from __future__ import annotations

from pathlib import Path

from ..backend import Feature
from ..catalog import BucketSpec, StoreSpec
from ..clock import Clock
from ..config import BackendSetting
from ..errors import Unsupported
from ..metrics import LogMetricsSink, cloud_logging_line
from ..operations import Check
from ..stores.secrets import VersionedSecretStore
from . import doctor
from .clients import GcpClients
from .kms import CloudKmsKeyWrapper
from .objects import GcsObjectStore
from .operator import GcpOperator
from .secrets import SecretManagerVersions
from .settings import GcpSettings, parse_settings
from .table import FirestoreTable


class GcpDriver:
    name = "gcp"
    # Expiry is Firestore's TTL policy, so there is no sweeper.
    features: frozenset[Feature] = frozenset()
    # Storage calls wait on the network: many threads per worker keep requests flowing.
    storage_threads = 16
    data_dir: Path | None = None

    def __init__(self, settings: GcpSettings, clock: Clock) -> None:
        self.settings = settings
        self.clock = clock
        self.clients = GcpClients(settings)
        self._tables: dict[str, FirestoreTable] = {}

    def table(self, spec: StoreSpec) -> FirestoreTable:
        if spec.name not in self._tables:
            self._tables[spec.name] = FirestoreTable(spec, self.clients, self.clock)
        return self._tables[spec.name]

    def key_wrapper(self) -> CloudKmsKeyWrapper:
        return CloudKmsKeyWrapper(self.clients)

    def secret_store(self) -> VersionedSecretStore:
        return VersionedSecretStore(SecretManagerVersions(self.clients))

    def object_store(self, bucket: BucketSpec) -> GcsObjectStore:
        return GcsObjectStore(self.clients, bucket)

    def metrics_sink(self) -> LogMetricsSink:
        # Structured JSON lines on stderr: Cloud Logging parses them into jsonPayload, and the
        # platform's log-based metrics count them (`adapters.gcp.spec.log_metric_name`).
        return LogMetricsSink(cloud_logging_line, clock=self.clock)

    def doctor(self) -> list[Check]:
        return doctor.doctor(self.clients)

    @property
    def operator(self) -> GcpOperator:
        """bootstrap, verify-pitr and verify-alarms (adapters/gcp/operator.py)."""
        return GcpOperator(self.clients)

    def sweep_expired(self) -> int:
        raise Unsupported("Firestore deletes expired items itself (TTL policy on expireAt)")

    def close(self) -> None:
        self.clients.close()


def open_driver(setting: BackendSetting, clock: Clock) -> GcpDriver:
    return GcpDriver(parse_settings(setting), clock)
