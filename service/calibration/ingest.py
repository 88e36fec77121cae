"""The ingest pipeline: authenticate, validate, check consent, rate-limit, de-duplicate, encrypt
and store durably. `ingest` returns only after the raw event's write has returned (the local
backend's durable database syncs every commit; DynamoDB and Firestore acknowledge durable writes),
so a 202 always means the event is stored.

Order matters:
1. authenticate first, so unauthenticated callers learn nothing, not even the schema;
2. consent before anything is written;
3. rate limits before the dedup claim, so a throttled request leaves no claim behind;
4. the dedup claim before the raw write, and released again if that write fails, so accepted
   data is never lost and a client's retry is not mistaken for a duplicate. A claim whose raw
   event never appeared (its release failed too, e.g. the backend went away) is answered with
   429 + Retry-After while the first request may still be writing, and taken over after
   `STALE_CLAIM`; a 409 DUPLICATE is only ever sent when the prior event really is stored.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from contextlib import suppress
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from pydantic import ValidationError

from adapters.backend import Backend
from adapters.errors import NotFound, StoreError
from adapters.ports import ApiKey, RawEvent

from .anonymizer import Pseudonymizer
from .apikeys import ApiKeyService
from .config import CalibrationConfig
from .consent import decide
from .schema import FieldError, IngestRequest, field_errors, timestamp_errors

_HOUR = timedelta(hours=1)
#: A dedup claim older than this whose raw event does not exist belongs to a failed request.
STALE_CLAIM = timedelta(seconds=30)


class Code(StrEnum):
    INVALID_SCHEMA = "INVALID_SCHEMA"
    INVALID_AUTH = "INVALID_AUTH"
    KEY_NOT_FOR_ORG = "KEY_NOT_FOR_ORG"
    CONSENT_REVOKED = "CONSENT_REVOKED"
    CONSENT_EXPIRED = "CONSENT_EXPIRED"
    DUPLICATE = "DUPLICATE"
    THROTTLED = "THROTTLED"


@dataclass
class Rejection(Exception):
    code: Code
    message: str
    errors: list[FieldError] = field(default_factory=list)
    prior_eventid: str | None = None
    retry_after: float = 0.0

    def __str__(self) -> str:
        return f"{self.code.value}: {self.message}"


@dataclass(frozen=True)
class Accepted:
    event_id: str
    stored_at: datetime
    consent_basis: str


def claim_digest(claim: dict[str, Any]) -> str:
    canonical = json.dumps(claim, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def dedup_key(pseudonym: str, rule_id: str, claim_hash: str) -> str:
    # Hashed again so the dedup store sees neither the pseudonym nor the claim hash.
    return hashlib.sha256(f"{pseudonym}\x00{rule_id}\x00{claim_hash}".encode()).hexdigest()


class IngestService:
    def __init__(
        self,
        backend: Backend,
        keys: ApiKeyService,
        pseudonyms: Pseudonymizer,
        config: CalibrationConfig,
    ) -> None:
        self._backend = backend
        self._keys = keys
        self._pseudonyms = pseudonyms
        self._config = config
        self._admitted: set[tuple[str, str, int]] = set()

    def authenticate(self, body: dict[str, Any]) -> ApiKey:
        key = self._keys.authenticate(body.get("token"))
        if key is None:
            raise Rejection(Code.INVALID_AUTH, "missing, unknown or revoked API key in 'token'")
        return key

    def validate(self, body: dict[str, Any], now: datetime) -> IngestRequest:
        try:
            event = IngestRequest.model_validate(body)
        except ValidationError as error:
            raise Rejection(
                Code.INVALID_SCHEMA, "the event does not match the schema", field_errors(error)
            ) from None
        late = timestamp_errors(
            event.timestamp,
            now=now,
            skew=timedelta(seconds=self._config.clock_skew_seconds),
            max_age=self._config.raw_event_ttl,
        )
        if late:
            raise Rejection(Code.INVALID_SCHEMA, "the event does not match the schema", late)
        return event

    def ingest(self, body: object) -> Accepted:
        if not isinstance(body, dict):
            raise Rejection(
                Code.INVALID_SCHEMA,
                "the body must be a JSON object",
                [FieldError(field="(body)", message="expected a JSON object")],
            )
        key = self.authenticate(body)
        now = self._backend.clock.now()
        event = self.validate(body, now)
        if not key.may_act_for(event.orgid):
            raise Rejection(Code.KEY_NOT_FOR_ORG, "this API key may only submit for its own org")
        consent = decide(self._backend.consent, event.orgid, repo=event.repo, at=now)
        if not consent.allowed:
            code = Code.CONSENT_REVOKED if consent.basis == "revoked" else Code.CONSENT_EXPIRED
            raise Rejection(code, f"the org's consent is {consent.basis}; nothing was stored")
        names = self._pseudonyms.candidates(event.orgid)
        self._rate_limit(key, names[0], now)
        event_id = str(uuid.uuid4())
        claim = event.claim.model_dump(exclude_none=True)
        claimed = self._claim(names, event.ruleid, claim_digest(claim), event_id, now)
        try:
            self._store(event, claim, event_id, consent.basis, now)
        except BaseException:
            for name in claimed:
                with suppress(StoreError):
                    self._backend.dedup.release(name)
            raise
        return Accepted(event_id, now, consent.basis)

    def _rate_limit(self, key: ApiKey, pseudonym: str, now: datetime) -> None:
        limits = self._backend.rate_limits
        hour = int(now.timestamp() // 3600)
        admitted = (key.key_id, pseudonym, hour)
        if admitted not in self._admitted:
            orgs = limits.admit_member(
                f"ingest-orgs#{key.key_id}",
                pseudonym,
                limit=self._config.orgs_per_key_per_hour,
                window=_HOUR,
                at=now,
            )
            if not orgs.allowed:
                raise Rejection(
                    Code.THROTTLED,
                    f"this API key introduced {orgs.limit} distinct orgs this hour; "
                    "events for orgs already seen this hour are still accepted",
                    retry_after=orgs.retry_after,
                )
            # Admission within a window never reverts, so this process need not ask again.
            if len(self._admitted) > 100_000:
                self._admitted.clear()
            self._admitted.add(admitted)
        events = limits.hit(
            f"ingest-events#{key.key_id}#{pseudonym}",
            limit=self._config.events_per_org_per_hour,
            window=_HOUR,
            at=now,
        )
        if not events.allowed:
            raise Rejection(
                Code.THROTTLED,
                f"at most {events.limit} events per org per hour for one API key",
                retry_after=events.retry_after,
            )

    def _claim(
        self, names: list[str], rule_id: str, claim_hash: str, event_id: str, now: datetime
    ) -> list[str]:
        """Claim the dedup key under every live pseudonym; `Rejection` if any is taken."""
        value = f"{event_id} {int(now.timestamp() * 1000)}"
        claimed: list[str] = []
        for name in names:
            key = dedup_key(name, rule_id, claim_hash)
            prior = self._backend.dedup.claim(key, value, ttl=self._config.dedup_window, at=now)
            state = "free" if prior is None else self._prior_state(prior, now)
            if state == "stale":
                self._backend.dedup.release(key)
                prior = self._backend.dedup.claim(key, value, ttl=self._config.dedup_window, at=now)
                state = "free" if prior is None else self._prior_state(prior, now)
            if state != "free":
                for mine in claimed:
                    with suppress(StoreError):
                        self._backend.dedup.release(mine)
                raise self._duplicate(state, str(prior), now)
            claimed.append(key)
        return claimed

    def _prior_state(self, prior: str, now: datetime) -> str:
        """ "stored" (a real duplicate), "pending" (the first request may still be writing) or
        "stale" (its write failed and so did the release of its claim)."""
        prior_id, _, claimed_ms = prior.partition(" ")
        try:
            self._backend.raw_events.get(prior_id)
        except NotFound:
            age_ms = now.timestamp() * 1000 - int(claimed_ms or 0)
            return "stale" if age_ms >= STALE_CLAIM.total_seconds() * 1000 else "pending"
        return "stored"

    def _duplicate(self, state: str, prior: str, now: datetime) -> Rejection:
        prior_id, _, claimed_ms = prior.partition(" ")
        if state == "pending":
            # Not a 409: the first copy is not stored (yet), so the client must not drop this one.
            wait = STALE_CLAIM.total_seconds() - (now.timestamp() - int(claimed_ms or 0) / 1000)
            return Rejection(
                Code.THROTTLED,
                "an identical event is still being stored (or its storage failed); retry after "
                "the indicated delay",
                retry_after=max(wait, 1.0),
            )
        return Rejection(
            Code.DUPLICATE,
            "the same claim for this org and rule was accepted in the last "
            f"{self._config.dedup_window_seconds // 3600} h",
            prior_eventid=prior_id,
        )

    def _store(
        self,
        event: IngestRequest,
        claim: dict[str, Any],
        event_id: str,
        basis: str,
        now: datetime,
    ) -> None:
        keys = self._backend.keys
        aad = event_id.encode("ascii")
        claim_json = json.dumps(claim, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
        self._backend.raw_events.put(
            RawEvent(
                event_id=event_id,
                org_id_encrypted=keys.encrypt(event.orgid.encode("utf-8"), aad),
                claim_encrypted=keys.encrypt(claim_json.encode("utf-8"), aad),
                rule_id=event.ruleid,
                rule_version=event.ruleversion,
                outcome=event.outcome,
                actual_outcome=event.actualOutcome,
                confidence=event.confidence,
                timestamp=datetime.fromtimestamp(event.timestamp / 1000, now.tzinfo),
                environment=event.environment,
                consent_basis=basis,
                stored_at=now,
                expires_at=now + self._config.raw_event_ttl,
            )
        )
