"""Envelope encryption, written once for every backend.

A backend supplies a `KeyWrapper` (KMS, Cloud KMS or a local key file) that produces and unwraps
256-bit data keys; this module does the AES-256-GCM work locally, binding the caller's associated
data, so tamper and wrong-AAD detection never depend on the key service (drongo's KMS emulator,
for one, does no cryptography at all).

Data keys are cached for a bounded lifetime and number of messages, so one request does not cost
one KMS call: at most one `generate` per `max_age` or `max_messages`, and unwrapped keys are kept
in a small LRU for the same lifetime.

Format: b"PM1" | u16 len(wrapped) | wrapped data key | 12-byte nonce | ciphertext+tag.
The header (format tag and wrapped key) is part of the GCM associated data, so swapping the
wrapped key of a message is detected too.
"""

from __future__ import annotations

import os
import struct
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass
from typing import Protocol

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from .errors import IntegrityError

_MAGIC = b"PM1"
_NONCE = 12


class KeyWrapper(Protocol):
    """A backend's key service."""

    key_id: str

    def generate(self) -> tuple[bytes, bytes]:
        """A fresh 32-byte data key: (plaintext, wrapped)."""
        ...

    def unwrap(self, wrapped: bytes) -> bytes:
        """The plaintext of a wrapped data key; `IntegrityError` if it is not ours."""
        ...


@dataclass
class _CachedKey:
    plaintext: bytes
    wrapped: bytes
    created: float
    uses: int = 0


class EnvelopeKeyManager:
    def __init__(
        self,
        wrapper: KeyWrapper,
        *,
        max_age: float = 300.0,
        max_messages: int = 100_000,
        unwrap_cache_size: int = 256,
    ) -> None:
        self.wrapper = wrapper
        self.max_age = max_age
        self.max_messages = max_messages
        self._unwrap_cache_size = unwrap_cache_size
        self._current: _CachedKey | None = None
        self._unwrapped: OrderedDict[bytes, tuple[bytes, float]] = OrderedDict()
        self._lock = threading.Lock()
        #: Calls made to the key service (generate + unwrap), for the bench and for tests.
        self.key_service_calls = 0

    def encrypt(self, plaintext: bytes, associated_data: bytes) -> bytes:
        key = self._data_key()
        header = _MAGIC + struct.pack(">H", len(key.wrapped)) + key.wrapped
        nonce = os.urandom(_NONCE)
        sealed = AESGCM(key.plaintext).encrypt(nonce, plaintext, header + associated_data)
        return header + nonce + sealed

    def decrypt(self, ciphertext: bytes, associated_data: bytes) -> bytes:
        if len(ciphertext) < len(_MAGIC) + 2 or not ciphertext.startswith(_MAGIC):
            raise IntegrityError("not a Phase Mirror envelope (bad format tag)")
        (wrapped_len,) = struct.unpack(">H", ciphertext[3:5])
        body = 5 + wrapped_len
        if len(ciphertext) < body + _NONCE + 16:
            raise IntegrityError("truncated envelope")
        wrapped = ciphertext[5:body]
        plaintext_key = self._unwrap(wrapped)
        nonce = ciphertext[body : body + _NONCE]
        try:
            return AESGCM(plaintext_key).decrypt(
                nonce, ciphertext[body + _NONCE :], ciphertext[:body] + associated_data
            )
        except InvalidTag:
            raise IntegrityError(
                "envelope failed authentication: wrong associated data, tampered or wrong key"
            ) from None

    def _data_key(self) -> _CachedKey:
        now = time.monotonic()
        with self._lock:
            key = self._current
            if key is None or now - key.created > self.max_age or key.uses >= self.max_messages:
                plaintext, wrapped = self.wrapper.generate()
                self.key_service_calls += 1
                if len(plaintext) != 32:
                    raise IntegrityError("key service returned a data key that is not 256 bits")
                key = self._current = _CachedKey(plaintext, wrapped, now)
                self._remember(wrapped, plaintext, now)
            key.uses += 1
            return key

    def _unwrap(self, wrapped: bytes) -> bytes:
        now = time.monotonic()
        with self._lock:
            cached = self._unwrapped.get(wrapped)
            if cached is not None and now - cached[1] <= self.max_age:
                self._unwrapped.move_to_end(wrapped)
                return cached[0]
        plaintext = self.wrapper.unwrap(wrapped)
        with self._lock:
            self.key_service_calls += 1
            self._remember(wrapped, plaintext, now)
        return plaintext

    def _remember(self, wrapped: bytes, plaintext: bytes, now: float) -> None:
        self._unwrapped[wrapped] = (plaintext, now)
        self._unwrapped.move_to_end(wrapped)
        while len(self._unwrapped) > self._unwrap_cache_size:
            self._unwrapped.popitem(last=False)
