"""The AWS operator: bootstrap (provision.py, alarms.py), verify-pitr and verify-alarms
(verify.py), all reading the stack's spec (spec.py)."""

from __future__ import annotations

from ..clock import Clock
from ..errors import Misconfigured
from ..operations import Check
from .alarms import AlarmProvisioner
from .doctor import AwsDoctor
from .provision import Provisioner
from .session import AwsTarget, Clients
from .verify import AwsVerifier


class AwsOperator:
    def __init__(self, clients: Clients, target: AwsTarget, clock: Clock) -> None:
        self._clients = clients
        self._target = target
        self._clock = clock
        self._verifier = AwsVerifier(clients, target)

    def bootstrap(self, verify_only: bool = False) -> list[Check]:
        """Create the stack's resources, then check them; only where no table exists yet."""
        doctor = AwsDoctor(self._clients, self._target)
        if verify_only:
            return doctor.run()
        provisioner = Provisioner(self._clients, self._target, self._clock)
        existing = provisioner.existing_tables()
        if existing:
            raise Misconfigured(
                f"refusing to bootstrap: {len(existing)} catalog table(s) with prefix "
                f"{self._target.prefix!r} already exist in {self._target.where()} (e.g. "
                f"{existing[0]}); this stack is provisioned already. Check it with "
                "'phase-mirror bootstrap --verify-only' (or 'phase-mirror doctor'), change it "
                "with 'pulumi up', or pick another prefix="
            )
        return (
            provisioner.create_all()
            + AlarmProvisioner(self._clients, self._target).create_all()
            + doctor.run()
        )

    def provision(self) -> list[Check]:
        """Create whatever is missing, keeping what exists (tests and benchmarks)."""
        return Provisioner(self._clients, self._target, self._clock).create_all()

    def verify_pitr(self) -> list[Check]:
        """`phase-mirror verify-pitr`: point-in-time recovery on every durable table."""
        return self._verifier.verify_pitr()

    def verify_alarms(self, simulate: bool = False, timeout: float = 120.0) -> list[Check]:
        """`phase-mirror verify-alarms`: every alarm of the spec present, quiet and notifying."""
        return self._verifier.verify_alarms(simulate, timeout)
