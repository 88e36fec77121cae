"""Resource types that hold state a deletion or replacement would destroy.

One table for both gates: the production-protection rule (every such resource carries Pulumi's
`protect` option in production) and the deletion gate (no delete/replace of these in production).
"""

from __future__ import annotations

from typing import Final

#: type token -> what it is, as the reports say it.
STATEFUL_TYPES: Final[dict[str, str]] = {
    "aws:dynamodb/table:Table": "table",
    "aws:kms/key:Key": "key",
    "aws:ssm/parameter:Parameter": "parameter",
    "aws:secretsmanager/secret:Secret": "secret",
    "aws:s3/bucket:Bucket": "bucket",
    "aws:s3/bucketV2:BucketV2": "bucket",
    "gcp:firestore/database:Database": "database",
    "gcp:kms/cryptoKey:CryptoKey": "key",
    "gcp:kms/keyRing:KeyRing": "key ring",
    "gcp:secretmanager/secret:Secret": "secret",
    "gcp:storage/bucket:Bucket": "bucket",
}

#: Cloud KMS key rings can never be deleted (only forgotten by the state), so `protect` adds
#: nothing there; the deletion gate still refuses to drop one from the state.
PROTECT_EXEMPT: Final = frozenset({"gcp:kms/keyRing:KeyRing"})


def stateful_kind(resource_type: str) -> str | None:
    return STATEFUL_TYPES.get(resource_type)
