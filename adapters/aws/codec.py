"""Items <-> DynamoDB attribute values.

DynamoDB numbers are decimals: floats go in as `Decimal(repr(f))` (exact round trip of the
shortest repr, where `Decimal(f)` would carry binary noise), and come back as `int` when
integral, `float` otherwise, so items read back equal to what was written. (DynamoDB keeps no
int/float distinction: an integral float such as 2.0 reads back as the equal int 2; beyond
2**53 it reads back as the int its shortest repr spells, which may differ in the last digits.)
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from boto3.dynamodb.types import TypeDeserializer, TypeSerializer

from ..table import Item

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.type_defs import AttributeValueTypeDef

_SERIALIZER = TypeSerializer()
_DESERIALIZER = TypeDeserializer()


def _to_decimals(value: Any) -> Any:
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, float):
        return Decimal(repr(value))
    if isinstance(value, Mapping):
        return {str(k): _to_decimals(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_to_decimals(v) for v in value]
    return value


def _to_plain(value: Any) -> Any:
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, dict):
        return {k: _to_plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_to_plain(v) for v in value]
    if isinstance(value, set):  # never written by us; read as a sorted list
        return sorted(_to_plain(v) for v in value)
    if isinstance(value, bytes | bytearray):
        return bytes(value)
    return value


def encode_value(value: Any) -> AttributeValueTypeDef:
    encoded: AttributeValueTypeDef = _SERIALIZER.serialize(_to_decimals(value))
    return encoded


def encode_item(item: Mapping[str, Any]) -> dict[str, AttributeValueTypeDef]:
    return {name: encode_value(value) for name, value in item.items()}


def decode_item(attributes: Mapping[str, Any]) -> Item:
    return {name: _to_plain(_DESERIALIZER.deserialize(value)) for name, value in attributes.items()}
