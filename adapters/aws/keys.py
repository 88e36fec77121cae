"""KMS as the envelope key service: `GenerateDataKey` and `Decrypt` with the stack's key.

The AES-256-GCM work and the data-key cache live in `adapters.envelope` (shared by every
backend). KMS only wraps data keys, under a *fixed* encryption context: the per-message
associated data (an event id, say) is bound by AES-GCM to each message, so it need not, and
could not without one KMS call per message, be part of the KMS context. The fixed context
still means a data key wrapped for another purpose with the same CMK does not unwrap here, and
it shows up in CloudTrail, where IAM conditions (`kms:EncryptionContext:app`) can require it.
"""

from __future__ import annotations

from botocore.exceptions import ClientError

from ..errors import IntegrityError
from .errors import ACCESS_DENIED, Resource, error_code, error_message, mapped
from .session import AwsTarget, Clients

ENCRYPTION_CONTEXT = {"app": "phase-mirror", "purpose": "envelope-data-key"}


class KmsKeyWrapper:
    def __init__(self, clients: Clients, target: AwsTarget) -> None:
        self.key_id = target.key_id
        self._clients = clients
        self._target = target
        self._resource = Resource("KMS key", target.key_id, "keys")

    def generate(self) -> tuple[bytes, bytes]:
        with mapped(self._target, self._resource):
            response = self._clients.kms.generate_data_key(
                KeyId=self.key_id, KeySpec="AES_256", EncryptionContext=ENCRYPTION_CONTEXT
            )
        return response["Plaintext"], response["CiphertextBlob"]

    def unwrap(self, wrapped: bytes) -> bytes:
        with mapped(self._target, self._resource):
            try:
                response = self._clients.kms.decrypt(
                    CiphertextBlob=wrapped, KeyId=self.key_id, EncryptionContext=ENCRYPTION_CONTEXT
                )
            except ClientError as error:
                # KMS answers a blob naming a key we cannot use (another account's, or bytes
                # altered in the key id) with AccessDenied ("The ciphertext refers to a customer
                # master key that does not exist..."; moto sends no message at all). An IAM
                # denial says "... is not authorized to perform: kms:Decrypt": Misconfigured.
                message = error_message(error)
                if error_code(error) in ACCESS_DENIED and "not authorized" not in message:
                    raise IntegrityError(
                        f"the wrapped data key refers to a KMS key other than {self.key_id!r} "
                        "(not ours, or altered)",
                        store=self._resource.store,
                    ) from None
                raise
        return response["Plaintext"]
