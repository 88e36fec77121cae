"""Ports: the typed contracts the service talks to. No SDK is imported here.

Each docstring states the guarantee the conformance suite (`tests/conformance/`) checks on every
backend. Times are timezone-aware UTC datetimes.
"""

from __future__ import annotations

import hmac
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from enum import StrEnum
from typing import Protocol

from .catalog import Metric, Secret

# --------------------------------------------------------------------------- FP events


class Review(StrEnum):
    PENDING = "pending"
    FALSE_POSITIVE = "false_positive"
    CONFIRMED = "confirmed"


@dataclass(frozen=True)
class FpEvent:
    """One finding the oracle acted on (block or warn), and its review state."""

    event_id: str
    rule_id: str
    rule_version: str
    finding_id: str  # the finding's stable fingerprint, never a rule id
    repo: str
    decision: str  # "block" | "warn"
    timestamp: datetime
    review: Review = Review.PENDING
    reviewer: str | None = None
    reason: str | None = None
    reviewed_at: datetime | None = None
    context: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class FpStats:
    rule_id: str
    total: int
    false_positives: int
    confirmed: int
    pending: int


class FpEventStore(Protocol):
    def record(self, event: FpEvent) -> None:
        """Conditional create: `Conflict` if an event with this id already exists."""
        ...

    def get(self, event_id: str) -> FpEvent:
        """`NotFound` if unknown."""
        ...

    def review(
        self, event_id: str, verdict: Review, *, reviewer: str, reason: str, at: datetime
    ) -> FpEvent:
        """Set the review verdict of an event by its event id; `NotFound` if unknown."""
        ...

    def window(
        self, rule_id: str, *, last: int | None = None, since: datetime | None = None
    ) -> list[FpEvent]:
        """A rule's events, newest first: the last `last` ones and/or those at or after `since`."""
        ...

    def by_finding(self, finding_id: str) -> list[FpEvent]:
        """Every event recorded for this finding fingerprint, newest first."""
        ...

    def is_false_positive(self, finding_id: str) -> bool:
        """True if any event of this finding fingerprint was reviewed as a false positive."""
        ...

    def stats(
        self, rule_id: str, *, last: int | None = None, since: datetime | None = None
    ) -> FpStats:
        """Counts over the same window as `window`."""
        ...

    def scan(self) -> Iterator[FpEvent]:
        """Every event (export)."""
        ...


# --------------------------------------------------------------------------- consent


class ConsentState(StrEnum):
    GRANTED = "granted"
    REVOKED = "revoked"
    EXPIRED = "expired"
    NONE = "none"


ORG_SCOPE = "org"


@dataclass(frozen=True)
class ConsentRecord:
    org_id: str
    scope: str  # ORG_SCOPE or "repo:owner/name"
    state: ConsentState
    actor: str
    at: datetime
    expires_at: datetime | None = None


class ConsentStore(Protocol):
    def grant(
        self,
        org_id: str,
        *,
        scope: str = ORG_SCOPE,
        actor: str,
        at: datetime,
        expires_at: datetime | None = None,
    ) -> ConsentRecord:
        """Grant consent for the org or one repository; appended to the history."""
        ...

    def revoke(
        self, org_id: str, *, scope: str = ORG_SCOPE, actor: str, at: datetime
    ) -> ConsentRecord:
        """Revoke consent; appended to the history."""
        ...

    def check(self, org_id: str, *, repo: str | None = None, at: datetime) -> ConsentRecord:
        """The effective consent. An org-level revocation beats everything; otherwise a
        repo-scoped record beats the org-scoped one. Expired grants report `EXPIRED`; no
        record at all reports `NONE` (scope `org`, actor empty)."""
        ...

    def history(self, org_id: str) -> list[ConsentRecord]:
        """Every grant and revocation of the org, oldest first."""
        ...


# --------------------------------------------------------------------------- counters


class BlockCounter(Protocol):
    def increment(self, rule_id: str, repo: str, *, at: datetime) -> int:
        """Atomically count one block in the (rule, repo, UTC hour of `at`) bucket; new count."""
        ...

    def count(self, rule_id: str, repo: str, *, at: datetime) -> int:
        """Blocks in the bucket of `at` (0 if none or expired)."""
        ...


@dataclass(frozen=True)
class RateDecision:
    allowed: bool
    count: int
    limit: int
    retry_after: float  # seconds until the window resets (0 when allowed)


class RateLimiter(Protocol):
    def hit(
        self, key: str, *, limit: int, window: timedelta, at: datetime, cost: int = 1
    ) -> RateDecision:
        """Atomically take `cost` from the fixed window containing `at`, unless that would
        exceed `limit` (then nothing is taken and `allowed` is False)."""
        ...

    def admit_member(
        self, key: str, member: str, *, limit: int, window: timedelta, at: datetime
    ) -> RateDecision:
        """Distinct members per window: a member already admitted in this window is always
        allowed; a new one only while fewer than `limit` distinct members were admitted.
        Under a race, the count may overshoot by the number of racing *new* members that lost,
        never admit more than `limit`."""
        ...


# --------------------------------------------------------------------------- tokens, dedup


class TokenStore(Protocol):
    def issue(
        self, token_hash: str, payload: Mapping[str, str], *, ttl: timedelta, at: datetime
    ) -> datetime:
        """Store a single-use token (by hash) with a payload; returns its expiry.
        `Conflict` if the hash is already live."""
        ...

    def consume(self, token_hash: str) -> dict[str, str]:
        """Atomically consume the token and return its payload. Of N concurrent consumers
        (threads or processes) exactly one wins; the others, and any caller after expiry,
        get `NotFound`."""
        ...


class DedupIndex(Protocol):
    def claim(self, key: str, value: str, *, ttl: timedelta, at: datetime) -> str | None:
        """Conditional put with TTL: None if this call claimed the key, else the value of the
        live claim that already holds it."""
        ...

    def release(self, key: str) -> None:
        """Drop a claim (used when the write it guarded failed, so a retry is not a duplicate)."""
        ...


# --------------------------------------------------------------------------- secrets, keys


@dataclass(frozen=True)
class SecretVersion:
    secret: Secret
    version: str
    value: str
    created_at: datetime
    enabled: bool = True


class SecretStore(Protocol):
    def put(self, secret: Secret, value: str) -> SecretVersion:
        """Add a new version; it becomes current and the old current becomes previous."""
        ...

    def current(self, secret: Secret) -> SecretVersion:
        """The newest enabled version; `NotFound` if the secret has none."""
        ...

    def previous(self, secret: Secret) -> SecretVersion | None:
        """The enabled version just before current, if any (valid during the grace window)."""
        ...

    def versions(self, secret: Secret) -> list[SecretVersion]:
        """Every version, newest first, enabled or not. A disabled version's value may be
        empty where the secret service refuses to reveal it (Secret Manager does)."""
        ...

    def disable(self, secret: Secret, version: str) -> None:
        """Retire a version (grace window over): no longer current or previous, not destroyed."""
        ...


class KeyManager(Protocol):
    def encrypt(self, plaintext: bytes, associated_data: bytes) -> bytes:
        """Envelope-encrypt: a data key from the key service, AES-256-GCM binding `associated_data`."""
        ...

    def decrypt(self, ciphertext: bytes, associated_data: bytes) -> bytes:
        """Inverse of `encrypt`; `IntegrityError` on wrong associated data or any tampering."""
        ...


# --------------------------------------------------------------------------- objects


@dataclass(frozen=True)
class ObjectVersion:
    key: str
    version_id: str
    size: int
    created_at: datetime


@dataclass(frozen=True)
class StoredObject:
    data: bytes
    version: ObjectVersion


class ObjectStore(Protocol):
    def put(self, key: str, data: bytes) -> ObjectVersion:
        """Store a new version of `key`; earlier versions stay readable."""
        ...

    def get(self, key: str, version_id: str | None = None) -> StoredObject:
        """The latest version, or a given one; `NotFound` if absent."""
        ...

    def versions(self, key: str) -> list[ObjectVersion]:
        """Every version of `key`, newest first (empty if none)."""
        ...


# --------------------------------------------------------------------------- calibration


@dataclass(frozen=True)
class AggregateKey:
    rule_id: str
    rule_version: str
    outcome: str
    day: date
    org_pseudonym: str


@dataclass(frozen=True)
class Aggregate:
    key: AggregateKey
    counts: Mapping[str, int]


class CalibrationStore(Protocol):
    def contribute(self, key: AggregateKey, counts: Mapping[str, int], *, event_id: str) -> bool:
        """Add one event's counts to its aggregate, at most once per `event_id` (idempotent
        re-runs). False if this event was already counted."""
        ...

    def query(
        self, rule_id: str, rule_version: str, outcome: str, *, start: date, end: date
    ) -> list[Aggregate]:
        """Aggregates of one rule/version/outcome for days in [start, end]."""
        ...


@dataclass(frozen=True)
class RawEvent:
    """An ingested calibration event. Org id and claim are envelope-encrypted by the caller."""

    event_id: str
    org_id_encrypted: bytes
    claim_encrypted: bytes
    rule_id: str
    rule_version: str
    outcome: str
    actual_outcome: str
    confidence: float
    timestamp: datetime
    environment: str
    consent_basis: str
    stored_at: datetime
    expires_at: datetime


class RawEventStore(Protocol):
    def put(self, event: RawEvent) -> None:
        """Conditional create by `event_id` (`Conflict` if present); durable when it returns."""
        ...

    def get(self, event_id: str) -> RawEvent:
        """`NotFound` if unknown or expired."""
        ...

    def scan(self) -> Iterator[RawEvent]:
        """Every live event."""
        ...


# --------------------------------------------------------------------------- API keys


@dataclass(frozen=True)
class ApiKey:
    """A registered API key. Only the key's SHA-256 (`key_hash`) is stored, never the key."""

    key_hash: str
    key_id: str  # the first characters of the hash: safe to show and to revoke by
    name: str
    org: str  # the org that owns the key (the implementation's operator)
    created_at: datetime
    restrict_org: bool = False  # the key may act only for `org`
    revoked_at: datetime | None = None

    @property
    def active(self) -> bool:
        return self.revoked_at is None

    def may_act_for(self, org_id: str) -> bool:
        return not self.restrict_org or hmac.compare_digest(self.org, org_id)


class ApiKeyStore(Protocol):
    def add(self, key: ApiKey) -> ApiKey:
        """Conditional create by `key_hash` (`Conflict` if that hash is registered, even
        revoked); returns the record as stored (times kept to the millisecond)."""
        ...

    def get(self, key_hash: str) -> ApiKey | None:
        """The key with this hash, active or revoked, or None. Strongly consistent."""
        ...

    def list(self) -> list[ApiKey]:
        """Every key, active or revoked, oldest first."""
        ...

    def revoke(self, key_hash: str, *, at: datetime) -> ApiKey:
        """Mark the key revoked at `at` and return it; `NotFound` if unknown."""
        ...


# --------------------------------------------------------------------------- metrics


class MetricsSink(Protocol):
    def emit(self, metric: Metric, value: float = 1, **dimensions: str) -> None:
        """Record one data point of a catalog metric (structured log line on the clouds)."""
        ...
