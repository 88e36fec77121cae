"""The `Table` driver contract on DynamoDB: one class for every catalog store.

Atomicity comes from DynamoDB's conditional writes, never from read-then-write:
- put-if-absent: `attribute_not_exists(hash) OR ttl <= now` (an expired item is absent);
- add: `UPDATE ... ADD` conditioned on a live item (and on the limit); when the item is absent
  or expired, a conditional put of the fresh item instead, and retry if another writer won;
- take: `DeleteItem` conditioned on a live item, `ReturnValues=ALL_OLD`.

Expiry is judged with the driver's clock at read time (DynamoDB's TTL deletes lazily, within
days), so reads filter expired items and conditions compare `ttl` to the clock's `now`.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from ..catalog import TTL_ATTRIBUTE, StoreSpec
from ..clock import Clock
from ..errors import Conflict, NotFound, Throttled
from ..table import Item, Key, is_expired, key_of, range_matches
from .codec import decode_item, encode_item, encode_value
from .errors import Resource, error_code, mapped
from .session import AwsTarget, Clients

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.type_defs import AttributeValueTypeDef

#: add(): rounds of (update live item, else create fresh) before giving up under contention.
_ADD_ROUNDS = 16


class _Expr:
    """Placeholders for attribute names and values (many of ours are reserved words:
    count, ttl, value, state...)."""

    def __init__(self) -> None:
        self.names: dict[str, str] = {}
        self.values: dict[str, AttributeValueTypeDef] = {}

    def name(self, attribute: str) -> str:
        for placeholder, existing in self.names.items():
            if existing == attribute:
                return placeholder
        placeholder = f"#n{len(self.names)}"
        self.names[placeholder] = attribute
        return placeholder

    def value(self, value: Any) -> str:
        placeholder = f":v{len(self.values)}"
        self.values[placeholder] = encode_value(value)
        return placeholder

    def kwargs(self) -> dict[str, Any]:
        result: dict[str, Any] = {}
        if self.names:
            result["ExpressionAttributeNames"] = self.names
        if self.values:
            result["ExpressionAttributeValues"] = self.values
        return result


class DynamoTable:
    def __init__(self, spec: StoreSpec, clients: Clients, target: AwsTarget, clock: Clock) -> None:
        self.spec = spec
        self.name = spec.physical_name(target.prefix)
        self._clients = clients
        self._target = target
        self._clock = clock
        self._hash = spec.hash_key.name
        self._resource = Resource("DynamoDB table", self.name, spec.name)

    # -- helpers

    def _now(self) -> float:
        return self._clock.now().timestamp()

    def _key(self, key: Key) -> dict[str, AttributeValueTypeDef]:
        return encode_item(key_of(self.spec, key))

    def _live(self, expr: _Expr) -> str:
        """Condition: the item exists and has not expired by the clock."""
        ttl = expr.name(TTL_ATTRIBUTE)
        return (
            f"attribute_exists({expr.name(self._hash)}) AND "
            f"(attribute_not_exists({ttl}) OR {ttl} > {expr.value(self._now())})"
        )

    def _absent(self, expr: _Expr) -> str:
        """Condition: no item, or an expired one (which counts as absent)."""
        return (
            f"attribute_not_exists({expr.name(self._hash)}) OR "
            f"{expr.name(TTL_ATTRIBUTE)} <= {expr.value(self._now())}"
        )

    def _mapped(self, key: object = None) -> Any:
        return mapped(self._target, self._resource, key)

    # -- Table contract

    def get(self, key: Key) -> Item | None:
        with self._mapped(dict(key)):
            response = self._clients.dynamodb.get_item(
                TableName=self.name, Key=self._key(key), ConsistentRead=True
            )
        attributes = response.get("Item")
        if attributes is None:
            return None
        item = decode_item(attributes)
        return None if is_expired(item, self._now()) else item

    def put(self, item: Item, *, if_absent: bool = False) -> None:
        key = key_of(self.spec, item)
        request: dict[str, Any] = {"TableName": self.name, "Item": encode_item(item)}
        if if_absent:
            expr = _Expr()
            request["ConditionExpression"] = self._absent(expr)
            request.update(expr.kwargs())
        with self._mapped(key):
            try:
                self._clients.dynamodb.put_item(**request)
            except ClientError as error:
                if error_code(error) == "ConditionalCheckFailedException":
                    raise Conflict("item already exists", store=self.spec.name, key=key) from None
                raise

    def add(
        self,
        key: Key,
        deltas: Mapping[str, int],
        *,
        expires_at: float | None = None,
        limit: tuple[str, int] | None = None,
    ) -> Item:
        key = key_of(self.spec, key)
        for _ in range(_ADD_ROUNDS):
            # No deltas: nothing to ADD (an empty UpdateExpression is invalid); just ensure
            # the item exists, as the other backends do.
            item = self._add_to_live(key, deltas, limit) if deltas else self.get(key)
            if item is not None:
                return item
            item = self._create_fresh(key, deltas, expires_at, limit)
            if item is not None:
                return item
        raise Throttled(
            "too much contention on one counter: retry shortly", store=self.spec.name, key=key
        )

    def _add_to_live(
        self, key: dict[str, Any], deltas: Mapping[str, int], limit: tuple[str, int] | None
    ) -> Item | None:
        """ADD to a live item. None if there is no live item; `Conflict` if over the limit."""
        expr = _Expr()
        update = "ADD " + ", ".join(f"{expr.name(f)} {expr.value(d)}" for f, d in deltas.items())
        condition = self._live(expr)
        if limit is not None:
            field, maximum = limit
            room = maximum - deltas.get(field, 0)  # the stored value may be at most this
            bounded = f"{expr.name(field)} <= {expr.value(room)}"
            if deltas.get(field, 0) <= maximum:  # a missing field counts as 0
                bounded = f"(attribute_not_exists({expr.name(field)}) OR {bounded})"
            condition = f"({condition}) AND {bounded}"
        with self._mapped(key):
            try:
                response = self._clients.dynamodb.update_item(
                    TableName=self.name,
                    Key=encode_item(key),
                    UpdateExpression=update,
                    ConditionExpression=condition,
                    ReturnValues="ALL_NEW",
                    ReturnValuesOnConditionCheckFailure="ALL_OLD",
                    **expr.kwargs(),
                )
            except ClientError as error:
                if error_code(error) != "ConditionalCheckFailedException":
                    raise
                old: Any = error.response.get("Item")
                live = old is not None and not is_expired(decode_item(old), self._now())
                if live and limit is not None:
                    raise Conflict(
                        f"limit {limit[1]} reached", store=self.spec.name, key=key
                    ) from None
                return None
        return decode_item(response["Attributes"])

    def _create_fresh(
        self,
        key: dict[str, Any],
        deltas: Mapping[str, int],
        expires_at: float | None,
        limit: tuple[str, int] | None,
    ) -> Item | None:
        """Write the counter afresh over an absent or expired item; None if a racer won."""
        item: Item = {**key, **deltas}
        if limit is not None and item.get(limit[0], 0) > limit[1]:
            raise Conflict(f"limit {limit[1]} reached", store=self.spec.name, key=key)
        if expires_at is not None:
            item[TTL_ATTRIBUTE] = int(expires_at)
        try:
            self.put(item, if_absent=True)
        except Conflict:
            return None
        return item

    def update(self, key: Key, changes: Mapping[str, Any]) -> Item:
        key = key_of(self.spec, key)
        expr = _Expr()
        condition = self._live(expr)
        if not changes:
            item = self.get(key)
            if item is None:
                raise NotFound("no such item", store=self.spec.name, key=key)
            return item
        update = "SET " + ", ".join(
            f"{expr.name(field)} = {expr.value(value)}" for field, value in changes.items()
        )
        with self._mapped(key):
            try:
                response = self._clients.dynamodb.update_item(
                    TableName=self.name,
                    Key=encode_item(key),
                    UpdateExpression=update,
                    ConditionExpression=condition,
                    ReturnValues="ALL_NEW",
                    **expr.kwargs(),
                )
            except ClientError as error:
                if error_code(error) == "ConditionalCheckFailedException":
                    raise NotFound("no such item", store=self.spec.name, key=key) from None
                raise
        return decode_item(response["Attributes"])

    def take(self, key: Key) -> Item:
        key = key_of(self.spec, key)
        expr = _Expr()
        with self._mapped(key):
            try:
                response = self._clients.dynamodb.delete_item(
                    TableName=self.name,
                    Key=encode_item(key),
                    ConditionExpression=self._live(expr),
                    ReturnValues="ALL_OLD",
                    **expr.kwargs(),
                )
            except ClientError as error:
                if error_code(error) == "ConditionalCheckFailedException":
                    raise NotFound("no such item", store=self.spec.name, key=key) from None
                raise
        attributes = response.get("Attributes")
        if not attributes:  # deleted by a racer between the condition and the delete
            raise NotFound("no such item", store=self.spec.name, key=key)
        return decode_item(attributes)

    def delete(self, key: Key) -> None:
        key = key_of(self.spec, key)
        with self._mapped(key):
            self._clients.dynamodb.delete_item(TableName=self.name, Key=encode_item(key))

    def query(
        self,
        hash_value: Any,
        *,
        index: str | None = None,
        range_between: tuple[Any, Any] | None = None,
        range_prefix: str | None = None,
        descending: bool = False,
        limit: int | None = None,
    ) -> list[Item]:
        hash_attr, range_attr = self.spec.query_keys(index)
        hash_name = hash_attr.name
        expr = _Expr()
        key_condition = f"{expr.name(hash_name)} = {expr.value(hash_value)}"
        prefix_left = range_prefix
        if range_attr is not None and range_between is not None:
            low, high = range_between
            key_condition += f" AND {expr.name(range_attr.name)} BETWEEN {expr.value(low)} AND {expr.value(high)}"
        elif range_attr is not None and range_prefix is not None:
            key_condition += (
                f" AND begins_with({expr.name(range_attr.name)}, {expr.value(range_prefix)})"
            )
            prefix_left = None
        ttl = expr.name(TTL_ATTRIBUTE)
        now = self._now()
        request: dict[str, Any] = {
            "TableName": self.name,
            "KeyConditionExpression": key_condition,
            "FilterExpression": f"attribute_not_exists({ttl}) OR {ttl} > {expr.value(now)}",
            "ScanIndexForward": not descending,
            **expr.kwargs(),
        }
        if index is None:
            request["ConsistentRead"] = True  # global secondary indexes cannot be read so
        else:
            request["IndexName"] = index
        items: list[Item] = []
        with self._mapped(hash_value):
            while limit is None or len(items) < limit:
                if limit is not None:
                    request["Limit"] = limit - len(items)
                page = self._clients.dynamodb.query(**request)
                for attributes in page.get("Items", []):
                    item = decode_item(attributes)
                    value = item.get(range_attr.name) if range_attr else None
                    if is_expired(item, now) or not range_matches(value, None, prefix_left):
                        continue
                    items.append(item)
                last = page.get("LastEvaluatedKey")
                if not last:
                    break
                request["ExclusiveStartKey"] = last
        return items if limit is None else items[:limit]

    def scan(self) -> Iterator[Item]:
        expr = _Expr()
        ttl = expr.name(TTL_ATTRIBUTE)
        now = self._now()
        request: dict[str, Any] = {
            "TableName": self.name,
            "ConsistentRead": True,
            "FilterExpression": f"attribute_not_exists({ttl}) OR {ttl} > {expr.value(now)}",
            **expr.kwargs(),
        }
        while True:
            with self._mapped():
                page = self._clients.dynamodb.scan(**request)
            for attributes in page.get("Items", []):
                item = decode_item(attributes)
                if not is_expired(item, now):
                    yield item
            last = page.get("LastEvaluatedKey")
            if not last:
                return
            request["ExclusiveStartKey"] = last
