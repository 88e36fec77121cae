"""The anonymizer, run periodically inside the server.

Every worker process runs this loop, but a lease taken from the rate limiter (one admission per
interval, atomic on every backend) lets only one worker per interval do the work. The job is
idempotent anyway, so a lost lease or a crash mid-run costs time, not correctness.
"""

from __future__ import annotations

import threading
from datetime import timedelta

from adapters.errors import StoreError
from service.calibration.aggregate import run_anonymizer
from service.calibration.bootstrap import Calibration

from .logs import get_logger

LEASE_KEY = "anonymizer-lease"


class AnonymizerLoop:
    def __init__(self, service: Calibration, every_seconds: int) -> None:
        self._service = service
        self._every = every_seconds
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="anonymizer", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=10)

    def run_once(self) -> bool:
        """Run if this process wins the interval's lease; True if it ran."""
        backend = self._service.backend
        lease = backend.rate_limits.hit(
            LEASE_KEY, limit=1, window=timedelta(seconds=self._every), at=backend.clock.now()
        )
        if not lease.allowed:
            return False
        report = run_anonymizer(backend, self._service.pseudonyms)
        get_logger().info("anonymizer run", extra={"anonymizer": report.as_dict()})
        return True

    def _run(self) -> None:
        while not self._stop.wait(self._every):
            try:
                self.run_once()
            except StoreError as error:
                get_logger().warning(
                    "anonymizer run failed; retrying next interval", extra={"detail": str(error)}
                )
            except Exception as error:  # keep the loop alive; the failure is logged as a bug
                get_logger().error("anonymizer run crashed", exc_info=error)
