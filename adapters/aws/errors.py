"""botocore failures mapped onto the adapter error taxonomy.

Every AWS call of the driver runs inside `mapped(...)`, which names the resource it touched
(table, key, parameter, bucket) so a message says what to fix: a missing table says to run
`phase-mirror bootstrap` or `pulumi up`; refused credentials name the region and the setting;
an unreachable endpoint names the endpoint. Throttling that outlived botocore's retries becomes
`Throttled`; network failures become `Unavailable`.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    ConnectionError,
    CredentialRetrievalError,
    HTTPClientError,
    NoCredentialsError,
    ParamValidationError,
    PartialCredentialsError,
)

from ..errors import (
    Conflict,
    IntegrityError,
    Misconfigured,
    NotFound,
    StoreError,
    Throttled,
    Unavailable,
)
from .session import AwsTarget

THROTTLING = frozenset(
    {
        "ProvisionedThroughputExceededException",
        "ThrottlingException",
        "Throttling",
        "RequestLimitExceeded",
        "TooManyRequestsException",
        "SlowDown",
        "ThrottledException",
        "LimitExceededException",
        "TransactionConflictException",
    }
)
CREDENTIALS = frozenset(
    {
        "UnrecognizedClientException",
        "InvalidClientTokenId",
        "InvalidSignatureException",
        "SignatureDoesNotMatch",
        "InvalidAccessKeyId",
        "ExpiredTokenException",
        "ExpiredToken",
        "AuthFailure",
        "MissingAuthenticationToken",
    }
)
ACCESS_DENIED = frozenset({"AccessDeniedException", "AccessDenied", "Forbidden"})
MISSING = frozenset(
    {
        "ResourceNotFoundException",  # DynamoDB table or index
        "NotFoundException",  # KMS key or alias
        "NoSuchBucket",
        "ParameterNotFound",
    }
)
KEY_UNUSABLE = frozenset(
    {"DisabledException", "KMSInvalidStateException", "KeyUnavailableException"}
)
BAD_CIPHERTEXT = frozenset({"InvalidCiphertextException", "IncorrectKeyException"})
ABSENT_ITEM = frozenset({"NoSuchKey", "NoSuchVersion", "ParameterVersionNotFound"})

BOOTSTRAP_HINT = (
    "run 'phase-mirror bootstrap' (emulator or dev account) or 'pulumi up' for the stack, "
    "or fix prefix=/region= in the backend setting"
)


@dataclass(frozen=True)
class Resource:
    """What a call touched: `kind` ('DynamoDB table', 'KMS key'...), its physical name, and the
    logical store name reported in `StoreError.store`."""

    kind: str
    name: str
    store: str


_XML_CODE = re.compile(r"<Code>([A-Za-z]+)</Code>")


def error_code(error: ClientError) -> str:
    """The AWS error code. When a JSON-protocol client got an XML error body (an emulator's,
    or a proxy's), botocore reports the HTTP status as the code; the real one is in the body."""
    code = str(error.response.get("Error", {}).get("Code", ""))
    if code.isascii() and code.isdigit():
        found = _XML_CODE.search(str(error.response.get("Error", {}).get("Message", "")))
        if found:
            return found.group(1)
    return code


def error_message(error: ClientError) -> str:
    message = str(error.response.get("Error", {}).get("Message", ""))
    found = re.search(r"<Message>(.*?)</Message>", message, re.DOTALL)
    return found.group(1) if found else message


def map_client_error(
    error: ClientError, target: AwsTarget, resource: Resource, key: object = None
) -> StoreError:
    code = error_code(error)
    message = error_message(error) or code
    operation = error.operation_name
    what = f"{resource.kind} {resource.name!r} in {target.where()}"
    store = resource.store
    if code == "ConditionalCheckFailedException":
        return Conflict("condition failed", store=store, key=key)
    if code in THROTTLING:
        return Throttled(
            f"AWS throttled {operation} on {what} after retries ({code}); retry shortly or "
            "raise the table's capacity",
            store=store,
            key=key,
            retry_after=1.0,
        )
    if code in CREDENTIALS:
        return Misconfigured(
            f"AWS rejected the credentials for {operation} in {target.where()} ({code}: "
            f"{message}); check AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY / AWS_PROFILE or "
            f"profile= in the backend setting from {target.source}, and that region= is right",
            store=store,
            key=key,
        )
    if code in ACCESS_DENIED:
        return Misconfigured(
            f"not allowed to {operation} on {what} ({message}); grant the service role the IAM "
            "permissions listed in docs/backends/aws.md",
            store=store,
            key=key,
        )
    if code in MISSING:
        return Misconfigured(
            f"{what} does not exist ({code}); {BOOTSTRAP_HINT}", store=store, key=key
        )
    if code in KEY_UNUSABLE:
        return Misconfigured(
            f"KMS key {target.key_id!r} in {target.where()} cannot be used ({code}: {message}); "
            "enable it (aws kms enable-key) or set kms_key= to the stack's key",
            store=store,
            key=key,
        )
    if code in BAD_CIPHERTEXT:
        return IntegrityError(
            f"KMS refused to unwrap the data key ({code}): it was not wrapped by "
            f"{target.key_id!r} with Phase Mirror's encryption context, or it was altered",
            store=store,
            key=key,
        )
    if code in ABSENT_ITEM:
        return NotFound(f"{code} in {what}", store=store, key=key)
    status = int(error.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0) or 0)
    if status >= 500 or code in ("InternalServerError", "ServiceUnavailable", "InternalFailure"):
        return Unavailable(
            f"AWS failed {operation} on {what} ({code}: {message}); retry later",
            store=store,
            key=key,
        )
    return Misconfigured(
        f"AWS refused {operation} on {what} ({code}: {message}); if the resource differs from "
        "the store catalog, run 'phase-mirror doctor'",
        store=store,
        key=key,
    )


def map_botocore_error(
    error: BotoCoreError, target: AwsTarget, resource: Resource, key: object = None
) -> StoreError:
    if isinstance(error, NoCredentialsError | PartialCredentialsError | CredentialRetrievalError):
        return Misconfigured(
            f"no usable AWS credentials for {target.where()} ({error}); set AWS_ACCESS_KEY_ID "
            "and AWS_SECRET_ACCESS_KEY, AWS_PROFILE or profile= in the backend setting from "
            f"{target.source}, or run with an IAM role",
            store=resource.store,
            key=key,
        )
    if isinstance(error, ParamValidationError):
        return Misconfigured(
            f"invalid request for {resource.kind} {resource.name!r}: {error}",
            store=resource.store,
            key=key,
        )
    if isinstance(error, ConnectionError | HTTPClientError):
        endpoint = target.endpoint or f"the AWS {resource.kind.split()[0]} endpoint"
        return Unavailable(
            f"cannot reach {endpoint} ({target.region}) for {resource.kind} {resource.name!r}: "
            f"{error}; check the network or endpoint= in the backend setting from {target.source}",
            store=resource.store,
            key=key,
        )
    return Unavailable(
        f"AWS call on {resource.kind} {resource.name!r} failed: {error}",
        store=resource.store,
        key=key,
    )


@contextmanager
def mapped(target: AwsTarget, resource: Resource, key: object = None) -> Iterator[None]:
    """Run AWS calls, turning botocore failures into adapter errors (never a traceback)."""
    try:
        yield
    except StoreError:
        raise
    except ClientError as error:
        raise map_client_error(error, target, resource, key) from None
    except BotoCoreError as error:
        raise map_botocore_error(error, target, resource, key) from None
