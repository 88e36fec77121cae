"""Operations on a backend, apart from its data plane: checks and the operator protocol.

Every backend answers `doctor` (its data plane checks itself: reachable, shaped as the catalog
says). A cloud backend also has an **operator**: `bootstrap` (create the catalog's resources
on an emulator or a dev account), `verify_pitr` and `verify_alarms`. The embedded local backend
has no operator: there is nothing to provision, back up point-in-time or alarm on.

Each step reports a `Check` with an explicit status. An emulator that cannot answer a question
(the Firestore emulator has no Admin API, moto has no composite alarms) yields NOT_REPORTED,
which is neither a pass nor a failure, and the CLI says so.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Protocol

#: The phrase that starts the detail of a check an endpoint could not answer.
NOT_REPORTED = "not reported by this endpoint"


class CheckStatus(StrEnum):
    OK = "ok"
    FAILED = "failed"
    #: The endpoint (an emulator) cannot answer; not a failure, not a verification either.
    NOT_REPORTED = "not-reported"


@dataclass(frozen=True)
class Check:
    """One finding of doctor, bootstrap or verify: what was checked, its status, and how to
    fix it when it failed."""

    name: str
    status: CheckStatus
    detail: str
    fix: str = ""

    @classmethod
    def passed(cls, name: str, detail: str) -> Check:
        return cls(name, CheckStatus.OK, detail)

    @classmethod
    def failed(cls, name: str, detail: str, fix: str = "") -> Check:
        return cls(name, CheckStatus.FAILED, detail, fix)

    @classmethod
    def verdict(cls, name: str, ok: bool, detail: str, fix: str = "") -> Check:
        """Passed or failed by `ok`; the fix is kept only for a failure's sake."""
        return cls(name, CheckStatus.OK if ok else CheckStatus.FAILED, detail, fix)

    @classmethod
    def unreported(cls, name: str, reason: str) -> Check:
        """The endpoint cannot answer; `reason` says why (and where the answer would come from)."""
        return cls(name, CheckStatus.NOT_REPORTED, f"{NOT_REPORTED}: {reason}")

    @property
    def ok(self) -> bool:
        """Not a failure (an unreported check does not fail a run)."""
        return self.status is not CheckStatus.FAILED

    def as_dict(self) -> dict[str, object]:
        """The JSON shape of doctor and bootstrap steps."""
        return {"name": self.name, "ok": self.ok, "detail": self.detail, "fix": self.fix}


class Operator(Protocol):
    """Cloud operations of a backend (absent for the embedded local backend)."""

    def bootstrap(self, verify_only: bool = False) -> list[Check]:
        """Create the catalog's resources where none exist yet, then check them like doctor;
        `verify_only` only checks."""
        ...

    def verify_pitr(self) -> list[Check]:
        """Point-in-time recovery on every durable store."""
        ...

    def verify_alarms(self, simulate: bool = False, timeout: float = 120.0) -> list[Check]:
        """Every alarm of the stack's spec present, quiet, notifying; `simulate` drills one."""
        ...
