"""Single-use request nonces: 32 random bytes, handed out once, stored only as SHA-256.

A leaked copy of the nonce store cannot be replayed (it holds hashes), and the org the nonce was
issued to is stored envelope-encrypted with the hash as associated data, so a row cannot be moved
to another nonce either. Validation *consumes* the stored record atomically (`TokenStore.consume`
deletes-and-returns in one step): of any number of concurrent validations, exactly one succeeds.
"""

from __future__ import annotations

import base64
import hashlib
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from adapters.errors import NotFound
from adapters.ports import ApiKey, KeyManager, TokenStore

_NONCE = re.compile(r"^[0-9a-f]{64}$")


@dataclass(frozen=True)
class IssuedNonce:
    nonce: str
    expires_at: datetime
    ttl_seconds: int


class NonceRejected(Exception):
    """Unknown, expired or already used: the caller cannot tell which, on purpose."""


def nonce_hash(nonce: str) -> str:
    return hashlib.sha256(nonce.encode("ascii")).hexdigest()


class NonceService:
    def __init__(self, tokens: TokenStore, keys: KeyManager, *, ttl: timedelta) -> None:
        self._tokens = tokens
        self._keys = keys
        self._ttl = ttl

    def issue(self, org_id: str, key: ApiKey, *, at: datetime) -> IssuedNonce:
        nonce = secrets.token_hex(32)
        digest = nonce_hash(nonce)
        sealed = self._keys.encrypt(org_id.encode("utf-8"), digest.encode("ascii"))
        payload = {"org": base64.b64encode(sealed).decode("ascii"), "keyid": key.key_id}
        expires = self._tokens.issue(digest, payload, ttl=self._ttl, at=at)
        return IssuedNonce(nonce, expires, int(self._ttl.total_seconds()))

    def validate(self, nonce: str) -> str:
        """Consume the nonce and return the org it was issued to."""
        candidate = nonce.strip().lower()
        if not _NONCE.match(candidate):
            raise NonceRejected("nonce is not 64 hexadecimal characters")
        digest = nonce_hash(candidate)
        try:
            payload = self._tokens.consume(digest)
        except NotFound:
            raise NonceRejected("nonce unknown, expired or already used") from None
        sealed = base64.b64decode(payload["org"])
        return self._keys.decrypt(sealed, digest.encode("ascii")).decode("utf-8")
