"""The AWS driver: DynamoDB tables, KMS data keys, SSM secrets, S3 baselines, EMF metrics."""

from __future__ import annotations

from pathlib import Path

from ..backend import Check, Feature
from ..catalog import BucketSpec, StoreSpec
from ..clock import Clock
from ..config import BackendSetting
from ..errors import Misconfigured, Unsupported
from ..metrics import LogMetricsSink, emf_line
from .doctor import AwsDoctor
from .keys import KmsKeyWrapper
from .objects import S3ObjectStore
from .ops import AwsOps
from .provision import Provisioner
from .secrets import SsmSecretStore
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

    def secret_store(self) -> SsmSecretStore:
        return SsmSecretStore(self.clients, self.target, self.clock)

    def object_store(self, bucket: BucketSpec) -> S3ObjectStore:
        return S3ObjectStore(self.clients, self.target, self.clock, bucket)

    def metrics_sink(self) -> LogMetricsSink:
        # Embedded Metric Format on stderr: Lambda ships it to CloudWatch Logs, which turns it
        # into metrics without a PutMetricData call on the request path.
        return LogMetricsSink(emf_line, clock=self.clock)

    def doctor(self) -> list[Check]:
        return AwsDoctor(self.clients, self.target).run()

    def bootstrap(self, verify_only: bool = False) -> list[Check]:
        """Create the catalog's resources, then check them; only where no table exists yet."""
        if verify_only:
            return self.doctor()
        provisioner = Provisioner(self.clients, self.target, self.clock)
        existing = provisioner.existing_tables()
        if existing:
            raise Misconfigured(
                f"refusing to bootstrap: {len(existing)} catalog table(s) with prefix "
                f"{self.target.prefix!r} already exist in {self.target.where()} (e.g. "
                f"{existing[0]}); this stack is provisioned already. Check it with "
                "'phase-mirror bootstrap --verify-only' (or 'phase-mirror doctor'), change it "
                "with 'pulumi up', or pick another prefix="
            )
        return (
            provisioner.create_all()
            + AwsOps(self.clients, self.target).create_alarms()
            + self.doctor()
        )

    def provision(self) -> list[Check]:
        """Create whatever is missing, keeping what exists (tests and benchmarks)."""
        return Provisioner(self.clients, self.target, self.clock).create_all()

    def verify_pitr(self) -> list[Check]:
        """`phase-mirror verify-pitr`: point-in-time recovery on every durable table."""
        return AwsOps(self.clients, self.target).verify_pitr()

    def verify_alarms(self, simulate: bool = False, timeout: float = 120.0) -> list[Check]:
        """`phase-mirror verify-alarms`: every catalog alarm present, quiet and notifying."""
        return AwsOps(self.clients, self.target).verify_alarms(simulate, timeout)

    def sweep_expired(self) -> int:
        raise Unsupported("the aws backend deletes expired items with DynamoDB's native TTL")

    def close(self) -> None:
        self.clients.close()


def open_driver(setting: BackendSetting, clock: Clock) -> AwsDriver:
    return AwsDriver(setting, clock)
