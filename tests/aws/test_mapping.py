"""Unit tests without a server: item codec round trips and the botocore error mapping.

The errors are botocore's own exception classes, built as botocore builds them from a
response; nothing of the SDK is mocked.
"""

from __future__ import annotations

from typing import Any

import pytest
from botocore.exceptions import (
    ClientError,
    ConnectTimeoutError,
    EndpointConnectionError,
    NoCredentialsError,
    ReadTimeoutError,
)
from hypothesis import given
from hypothesis import strategies as st

from adapters.aws.codec import decode_item, encode_item
from adapters.aws.errors import Resource, map_botocore_error, map_client_error
from adapters.aws.session import resolve_target
from adapters.config import parse_backend_url
from adapters.errors import (
    Conflict,
    IntegrityError,
    Misconfigured,
    NotFound,
    StoreError,
    Throttled,
    Unavailable,
)

TARGET = resolve_target(
    parse_backend_url("aws://?region=eu-west-1&prefix=pm-unit&endpoint=http://127.0.0.1:9")
)
TABLE = Resource("DynamoDB table", "pm-unit-consent", "consent")

scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(10**37), max_value=10**37)
    # Beyond 2**53 an integral float reads back as the int its shortest repr spells (see codec).
    | st.floats(
        allow_nan=False, allow_infinity=False, min_value=-(2.0**53), max_value=2.0**53
    ).filter(lambda f: f == 0 or abs(f) > 1e-100)
    | st.text(max_size=20)
)
values = st.recursive(
    scalars,
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=12,
)


@given(st.dictionaries(st.text(min_size=1, max_size=10), values, max_size=6))
def test_items_round_trip(item: dict[str, Any]) -> None:
    assert decode_item(encode_item(item)) == item


def test_floats_are_stored_as_their_shortest_decimal() -> None:
    assert encode_item({"f": 0.1}) == {"f": {"N": "0.1"}}
    decoded = decode_item({"n": {"N": "3"}, "f": {"N": "0.25"}})
    assert decoded == {"n": 3, "f": 0.25}
    assert type(decoded["n"]) is int and type(decoded["f"]) is float


def client_error(
    code: str, status: int = 400, message: str = "boom", op: str = "PutItem"
) -> ClientError:
    response: Any = {
        "Error": {"Code": code, "Message": message},
        "ResponseMetadata": {"HTTPStatusCode": status},
    }
    return ClientError(response, op)


@pytest.mark.parametrize(
    ("code", "status", "expected", "fragment"),
    [
        ("ConditionalCheckFailedException", 400, Conflict, "condition"),
        ("ProvisionedThroughputExceededException", 400, Throttled, "throttled"),
        ("ThrottlingException", 400, Throttled, "retry shortly"),
        ("ResourceNotFoundException", 400, Misconfigured, "phase-mirror bootstrap"),
        ("UnrecognizedClientException", 400, Misconfigured, "AWS_ACCESS_KEY_ID"),
        ("AccessDeniedException", 400, Misconfigured, "IAM permissions"),
        ("InvalidCiphertextException", 400, IntegrityError, "unwrap"),
        ("NoSuchVersion", 404, NotFound, "NoSuchVersion"),
        ("InternalServerError", 500, Unavailable, "retry later"),
        ("ValidationException", 400, Misconfigured, "phase-mirror doctor"),
    ],
)
def test_client_errors_map_to_the_taxonomy(
    code: str, status: int, expected: type[StoreError], fragment: str
) -> None:
    mapped = map_client_error(client_error(code, status), TARGET, TABLE, key="k")
    assert type(mapped) is expected
    assert fragment in str(mapped)
    if expected in (Throttled, NotFound, Unavailable) or code.startswith(("Resource", "Access")):
        assert "pm-unit-consent" in str(mapped)
    assert mapped.store == "consent"


def test_throttled_carries_a_retry_hint() -> None:
    mapped = map_client_error(client_error("ThrottlingException"), TARGET, TABLE)
    assert isinstance(mapped, Throttled) and mapped.retry_after > 0


def test_an_xml_error_body_on_a_json_api_is_read_for_its_code() -> None:
    body = "<ErrorResponse><Error><Code>InvalidClientTokenId</Code><Message>bad token</Message></Error></ErrorResponse>"
    mapped = map_client_error(client_error("403", 403, body), TARGET, TABLE)
    assert isinstance(mapped, Misconfigured)
    assert "rejected the credentials" in str(mapped) and "bad token" in str(mapped)
    assert "<Error" not in str(mapped)


@pytest.mark.parametrize(
    ("error", "expected", "fragment"),
    [
        (EndpointConnectionError(endpoint_url="http://127.0.0.1:9"), Unavailable, "endpoint="),
        (ConnectTimeoutError(endpoint_url="http://127.0.0.1:9"), Unavailable, "cannot reach"),
        (ReadTimeoutError(endpoint_url="http://127.0.0.1:9"), Unavailable, "cannot reach"),
        (NoCredentialsError(), Misconfigured, "AWS_PROFILE"),
    ],
)
def test_botocore_errors_map_to_the_taxonomy(
    error: Exception, expected: type[StoreError], fragment: str
) -> None:
    mapped = map_botocore_error(error, TARGET, TABLE)  # type: ignore[arg-type]
    assert type(mapped) is expected
    assert fragment in str(mapped) and "eu-west-1" in str(mapped)
