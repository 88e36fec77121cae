"""The AWS driver: DynamoDB tables, KMS data keys, SSM secrets, S3 baselines, EMF metrics."""

from __future__ import annotations

from pathlib import Path

from ..backend import Feature
from ..catalog import BucketSpec, StoreSpec
from ..clock import Clock
from ..config import BackendSetting
from ..errors import Unsupported
from ..metrics import LogMetricsSink, emf_line
from ..operations import Check
from ..stores.secrets import VersionedSecretStore
from .doctor import AwsDoctor
from .keys import KmsKeyWrapper
from .objects import S3ObjectStore
from .operator import AwsOperator
from .secrets import SsmSecretVersions
from .session import AwsTarget, Clients, Tuning, resolve_target
from .table import DynamoTable


class AwsDriver:
    name = "aws"
    # DynamoDB expires items with its own TTL, so there is no sweeper.
    features: frozenset[Feature] = frozenset()
    # Storage calls wait on the network: many threads per worker keep requests flowing.
    storage_threads = 16
    data_dir: Path | None = None

    def __init__(self, setting: BackendSetting, clock: Clock, tuning: Tuning | None = None) -> None:
        self.setting = setting
        self.clock = clock
        self.target: AwsTarget = resolve_target(setting)
        self.clients = Clients(self.target, tuning or Tuning())
        self._tables: dict[str, DynamoTable] = {}

    def table(self, spec: StoreSpec) -> DynamoTable:
        if spec.name not in self._tables:
            self._tables[spec.name] = DynamoTable(spec, self.clients, self.target, self.clock)
        return self._tables[spec.name]

    def key_wrapper(self) -> KmsKeyWrapper:
        return KmsKeyWrapper(self.clients, self.target)

    def secret_store(self) -> VersionedSecretStore:
        return VersionedSecretStore(SsmSecretVersions(self.clients, self.target, self.clock))

    def object_store(self, bucket: BucketSpec) -> S3ObjectStore:
        return S3ObjectStore(self.clients, self.target, self.clock, bucket)

    def metrics_sink(self) -> LogMetricsSink:
        # Embedded Metric Format on stderr: Lambda ships it to CloudWatch Logs, which turns it
        # into metrics without a PutMetricData call on the request path.
        return LogMetricsSink(emf_line, clock=self.clock)

    def doctor(self) -> list[Check]:
        return AwsDoctor(self.clients, self.target).run()

    @property
    def operator(self) -> AwsOperator:
        """bootstrap, verify-pitr and verify-alarms (adapters/aws/operator.py)."""
        return AwsOperator(self.clients, self.target, self.clock)

    def sweep_expired(self) -> int:
        raise Unsupported("the aws backend deletes expired items with DynamoDB's native TTL")

    def close(self) -> None:
        self.clients.close()


def open_driver(setting: BackendSetting, clock: Clock) -> AwsDriver:
    return AwsDriver(setting, clock)
