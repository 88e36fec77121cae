"""The GCP operator: bootstrap (provision.py), verify-pitr and verify-alarms (verify.py), all
reading the stack's spec (spec.py)."""

from __future__ import annotations

from ..operations import Check
from . import provision
from .clients import GcpClients
from .verify import GcpVerifier


class GcpOperator:
    def __init__(self, clients: GcpClients) -> None:
        self._clients = clients

    def bootstrap(self, verify_only: bool = False) -> list[Check]:
        """Create what the spec needs (on emulators only), then check it; `verify_only` only
        checks."""
        return provision.bootstrap(self._clients, verify_only=verify_only)

    def verify_pitr(self) -> list[Check]:
        """`phase-mirror verify-pitr`: point-in-time recovery on the Firestore database."""
        return GcpVerifier(self._clients).verify_pitr()

    def verify_alarms(self, simulate: bool = False, timeout: float = 120.0) -> list[Check]:
        """`phase-mirror verify-alarms`: every alert policy of the spec present and quiet."""
        return GcpVerifier(self._clients).verify_alarms(simulate, timeout)
