"""Service settings, with defaults that match the contract and overrides from the environment.

Every setting can be given as `PHASE_MIRROR_<NAME>` (e.g. `PHASE_MIRROR_NONCE_TTL_SECONDS=600`);
a malformed value is a `Misconfigured` error naming the variable, never a silent default.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, fields, replace
from datetime import timedelta

from adapters.catalog import STORES, Store
from adapters.errors import Misconfigured

ENV_PREFIX = "PHASE_MIRROR_"

_RAW_TTL = STORES[Store.RAW_EVENTS].default_ttl or timedelta(days=30)
_DEDUP_TTL = STORES[Store.DEDUP].default_ttl or timedelta(hours=24)


@dataclass(frozen=True)
class CalibrationConfig:
    #: Lifetime of a single-use nonce (the seed's clients expect 3600).
    nonce_ttl_seconds: int = 3600
    #: Smallest cohort (distinct pseudonymous orgs) a calibration query may reveal.
    k_minimum: int = 10
    #: Most events one org may weigh in a query's rate, so no single org dominates it.
    contribution_cap: int = 100
    #: Distinct orgs one API key may introduce per hour (bounds Sybil cohorts).
    orgs_per_key_per_hour: int = 1000
    #: Events one API key may submit for one org per hour.
    events_per_org_per_hour: int = 1000
    #: Nonces one API key may request per minute.
    nonces_per_key_per_minute: int = 6000
    #: Anonymous calibration queries per client address per minute.
    queries_per_client_per_minute: int = 120
    #: How far in the future an event timestamp may be (client clock skew).
    clock_skew_seconds: int = 300
    #: Raw events live this long (the catalog's consent-store TTL); older timestamps are refused.
    raw_event_ttl_seconds: int = int(_RAW_TTL.total_seconds())
    #: Window in which an identical claim from the same org is a duplicate.
    dedup_window_seconds: int = int(_DEDUP_TTL.total_seconds())
    #: Threads per worker process that run storage calls (see `service.api.plumbing.offload`);
    #: 0 takes the backend's own number (`Backend.storage_threads`).
    storage_threads: int = 0
    #: Refuse (429) a request that waited longer than this for a storage thread (0: never).
    max_queue_wait_ms: int = 1000
    #: Largest accepted request body.
    max_body_bytes: int = 64 * 1024
    #: How long a verified API key stays cached in a worker (revocation latency).
    key_cache_seconds: float = 5.0
    #: How long the anonymizer salt stays cached in a worker (rotation pick-up latency).
    salt_cache_seconds: float = 30.0
    #: Run the anonymizer inside the server every this many seconds (0 disables it).
    anonymize_every_seconds: int = 300

    def threads_for(self, backend_threads: int) -> int:
        """Storage threads: the setting if given, else the number the backend states it needs
        (`Backend.storage_threads`)."""
        return self.storage_threads or backend_threads

    @property
    def nonce_ttl(self) -> timedelta:
        return timedelta(seconds=self.nonce_ttl_seconds)

    @property
    def raw_event_ttl(self) -> timedelta:
        return timedelta(seconds=self.raw_event_ttl_seconds)

    @property
    def dedup_window(self) -> timedelta:
        return timedelta(seconds=self.dedup_window_seconds)

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> CalibrationConfig:
        env = os.environ if environ is None else environ
        changes: dict[str, int | float] = {}
        for spec in fields(cls):
            name = ENV_PREFIX + spec.name.upper()
            raw = env.get(name)
            if raw is None or raw == "":
                continue
            try:
                value: int | float = float(raw) if spec.type == "float" else int(raw)
            except ValueError:
                raise Misconfigured(
                    f"{name}={raw!r} is not a number; unset it or give e.g. "
                    f"{name}={getattr(cls, spec.name)}"
                ) from None
            changes[spec.name] = value
        return cls().with_changes(**changes)

    def with_changes(self, **changes: int | float) -> CalibrationConfig:
        config = replace(self, **changes)  # type: ignore[arg-type]
        config.check()
        return config

    def check(self) -> None:
        for spec in fields(self):
            value = getattr(self, spec.name)
            minimum = 0 if spec.name in _MAY_BE_ZERO else 1
            if value < minimum:
                raise Misconfigured(
                    f"{ENV_PREFIX}{spec.name.upper()}={value} must be at least {minimum}"
                )

    def as_env(self) -> dict[str, str]:
        """The settings as environment variables, to hand to server worker processes."""
        return {ENV_PREFIX + f.name.upper(): str(getattr(self, f.name)) for f in fields(self)}


_MAY_BE_ZERO = frozenset(
    {
        "storage_threads",
        "key_cache_seconds",
        "salt_cache_seconds",
        "anonymize_every_seconds",
        "max_queue_wait_ms",
    }
)
