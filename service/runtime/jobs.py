"""The scheduled anonymizer, as a Lambda function and as a Cloud Run job.

Both run exactly what `phase-mirror anonymize` runs once (create the salt's first version if it
has none, then `service.calibration.aggregate.run_anonymizer` with an uncached salt) on the
backend from the normal configuration (`PHASE_MIRROR_BACKEND`, ...). The job is idempotent: each
raw event is added to its aggregate once, so a retried or overlapping run changes nothing twice.

* `anonymize_handler(event, context)`: the AWS Lambda entry point. EventBridge Scheduler invokes
  it with the schedule's `Input`, which the platform sets to `SCHEDULE_INPUT`
  (`{"job": "anonymize", "source": "phase-mirror.schedule"}`); an empty event (a manual
  test invoke) is accepted too, anything naming another job is refused. It returns the JSON
  summary; a failure raises `JobFailed` so that the invocation counts as an error (the
  scheduler's retry policy and dead-letter queue, and the errors alarm, see it).
* `main()` / `python -m service.runtime.jobs`: the Cloud Run job's command. Prints the JSON
  summary on stdout, logs on stderr, exits 0, or non-zero with the CLI's exit codes (69 backend
  unavailable, 78 misconfigured, 1 other failure) and one line saying why.
"""

from __future__ import annotations

import json
import logging
import sys
import time
from collections.abc import Mapping
from typing import Any

from adapters.catalog import SCHEDULE_INPUT
from adapters.errors import StoreError

#: The job this module runs; `SCHEDULE_INPUT` (the catalog's, which the platform puts in the
#: EventBridge schedule) names it.
JOB = SCHEDULE_INPUT["job"]

_log = logging.getLogger("phase_mirror.jobs")


class JobFailed(RuntimeError):
    """The anonymizer run failed; the message says why (no traceback needed)."""


def run_anonymize_job() -> dict[str, Any]:
    """One anonymizer run on the configured backend; the summary of `phase-mirror anonymize`
    plus the job name, the backend and the duration."""
    from adapters.backend import open_backend
    from adapters.catalog import Secret
    from service.calibration.aggregate import run_anonymizer
    from service.calibration.anonymizer import Pseudonymizer
    from service.calibration.bootstrap import ensure_secret

    started = time.perf_counter()
    backend = open_backend()
    try:
        if ensure_secret(backend, Secret.ANONYMIZER_SALT):
            _log.info("created the first anonymizer salt")
        pseudonyms = Pseudonymizer(backend.secrets, backend.clock, cache_seconds=0)
        report = run_anonymizer(backend, pseudonyms)
        name = backend.name
    finally:
        backend.close()
    return {
        "job": JOB,
        "backend": name,
        **report.as_dict(),
        "duration_ms": round((time.perf_counter() - started) * 1000, 1),
    }


def anonymize_handler(event: Mapping[str, Any] | None, context: Any) -> dict[str, Any]:
    """AWS Lambda entry point of the scheduled anonymizer."""
    _configure_logs()
    payload: Mapping[str, Any] = {} if event is None else event
    job = payload.get("job", JOB) if isinstance(payload, Mapping) else payload
    if job != JOB:
        message = f"this function runs the '{JOB}' job; the event asks for {job!r}"
        _log.error(message)
        raise JobFailed(message)
    _log.info("anonymizer job started", extra={"trigger": payload.get("source", "manual")})
    try:
        summary = run_anonymize_job()
    except StoreError as error:
        message = f"anonymizer job failed: {type(error).__name__}: {error}"
        _log.error(message)
        raise JobFailed(message) from None
    _log.info("anonymizer job done", extra={"anonymizer": summary})
    return summary


def main(argv: list[str] | None = None) -> int:
    """Cloud Run job entry point: one run, JSON summary on stdout, exit code for the outcome."""
    from service.cli.common import exit_code_for

    if argv:
        print(
            "usage: python -m service.runtime.jobs (no arguments: the backend and settings "
            "come from PHASE_MIRROR_* variables; see docs/runtime.md)",
            file=sys.stderr,
        )
        return 64
    _configure_logs()
    _log.info("anonymizer job started", extra={"trigger": "job"})
    try:
        summary = run_anonymize_job()
    except StoreError as error:
        _log.error(f"anonymizer job failed: {type(error).__name__}: {error}")
        return exit_code_for(error)
    print(json.dumps(summary), flush=True)
    _log.info("anonymizer job done", extra={"anonymizer": summary})
    return 0


def _configure_logs() -> None:
    """JSON lines on stderr, the API's format (`phase_mirror.*` loggers), level from
    `PHASE_MIRROR_LOG_LEVEL` (`service.api.logs` only: the job needs no web stack)."""
    from service.api import logs

    logs.configure_from_env()


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
