"""Cloud KMS as the envelope key service: data keys made locally, wrapped by the stack's key.

Cloud KMS has no "generate data key" call, so the 256-bit data key comes from `os.urandom` and
Cloud KMS encrypts it (with fixed associated data, so a wrapped key cannot be replayed as
another kind of ciphertext). The AES-GCM work on the payload happens in `adapters.envelope`,
which is why tamper detection holds even against an emulator that does no cryptography.

Integrity in transit follows Google's guidance: the request carries the CRC32C of what it sends,
and the response's checksums are verified before a wrapped or unwrapped key is trusted.
"""

from __future__ import annotations

import os

import google_crc32c
from google.api_core import exceptions as gx

from ..errors import IntegrityError, Unavailable
from .clients import CALL_TIMEOUT, GcpClients
from .errors import mapped

_WRAP_AAD = b"phase-mirror data key"
_STORE = "keys"


def _crc(data: bytes) -> int:
    return int(google_crc32c.value(data))


class CloudKmsKeyWrapper:
    def __init__(self, clients: GcpClients) -> None:
        self._clients = clients
        self.key_id = clients.settings.crypto_key_path

    def _missing(self) -> str:
        settings = self._clients.settings
        return (
            f"Cloud KMS key {self.key_id} (key ring {settings.key_ring_id!r} in "
            f"{settings.location!r})"
        )

    def generate(self) -> tuple[bytes, bytes]:
        data_key = os.urandom(32)
        with mapped(_STORE, self.key_id, missing=self._missing()):
            response = self._clients.kms.encrypt(
                request={
                    "name": self.key_id,
                    "plaintext": data_key,
                    "additional_authenticated_data": _WRAP_AAD,
                    "plaintext_crc32c": _crc(data_key),
                    "additional_authenticated_data_crc32c": _crc(_WRAP_AAD),
                },
                retry=self._clients.reads,
                timeout=CALL_TIMEOUT,
            )
        wrapped = bytes(response.ciphertext)
        if not response.verified_plaintext_crc32c or (
            response.ciphertext_crc32c is not None and response.ciphertext_crc32c != _crc(wrapped)
        ):
            raise Unavailable("Cloud KMS encrypt response corrupted in transit", store=_STORE)
        return data_key, wrapped

    def unwrap(self, wrapped: bytes) -> bytes:
        with mapped(_STORE, self.key_id, missing=self._missing()):
            try:
                response = self._clients.kms.decrypt(
                    request={
                        "name": self.key_id,
                        "ciphertext": wrapped,
                        "additional_authenticated_data": _WRAP_AAD,
                        "ciphertext_crc32c": _crc(wrapped),
                        "additional_authenticated_data_crc32c": _crc(_WRAP_AAD),
                    },
                    retry=self._clients.reads,
                    timeout=CALL_TIMEOUT,
                )
            except (gx.InvalidArgument, gx.BadRequest) as error:
                # Cloud KMS refuses ciphertext it did not produce (or that was altered).
                raise IntegrityError(
                    f"data key was not wrapped by this Cloud KMS key ({error.message})",
                    store=_STORE,
                    key=self.key_id,
                ) from None
        plaintext = bytes(response.plaintext)
        if response.plaintext_crc32c is not None and response.plaintext_crc32c != _crc(plaintext):
            raise Unavailable("Cloud KMS decrypt response corrupted in transit", store=_STORE)
        if len(plaintext) != 32:
            raise IntegrityError(
                "Cloud KMS returned a data key that is not 256 bits", store=_STORE, key=self.key_id
            )
        return plaintext
