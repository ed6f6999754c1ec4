"""DynamoDB store (WS_DYNAMODB_TABLE): the default on Lambda; boto3 comes with the runtime.

One item per connection: {connection_id: S, data: S (the record's JSON), expires_at: N (epoch
seconds)}. The table is not created here: template.yaml creates it, with partition key
`connection_id` (S) and TTL on `expires_at`. TTL deletion lags expiry (by up to a few days),
so every read also drops expired records itself.

A table keyed on another attribute (`connectionId`, as Mangum 0.9's tables were) works too: the
key is WS_DYNAMODB_KEY when given; otherwise `connection_id` is tried, and the first request the
table refuses for its key (a ValidationException) reads the table's key from DescribeTable, once
per environment, and is sent again. So a table keyed as template.yaml keys it costs nothing more,
not even at a cold start, and needs no dynamodb:DescribeTable permission.

Each operation is one request: PutItem, GetItem (strongly consistent, so a message right after
$connect finds the record), DeleteItem returning the old item, and Scan (eventually consistent,
filtered on expires_at server side, every page followed). The low-level client is made on first
use and reused for the life of the execution environment; its calls block, so they run in a
worker thread (`asyncio.to_thread`) and the shared loop stays free. Short timeouts and one retry
make an unreachable endpoint fail within seconds rather than hold the invocation; any other
failure of boto3's is tried once more on a new client (aws.py), then refused as StoreUnavailable.

Rooms need a table of their own (WS_DYNAMODB_ROOMS_TABLE; template.yaml makes it): partition key
`room` (S), sort key `connection_id` (S), TTL on `expires_at`, one item per membership with the
member's endpoint. A room's members are one Query per page (strongly consistent, filtered on
expiry), never a Scan. The connection's item lists its rooms in a string set, `rooms`, so that
$disconnect knows what to delete. Every change that touches both tables is one
TransactWriteItems, conditioned on the connection's item: a $connect with rooms (its item and
its memberships), join (the room added to the set only if the item is there and live, and the
membership), pop of a connection in rooms (its item, only if its set is still what was read, and
its memberships). So a membership is never written without its connection, nor left after it. pop
of a connection in no room stays one DeleteItem (conditioned on having no rooms; with rooms the
condition's failure returns the item, and the transaction follows). update is one UpdateItem
conditioned on the item being there: a session saved late never brings back a connection that has
gone.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import AsyncIterator, Callable
from typing import Any

from botocore.config import Config  # type: ignore[import-untyped]

from ..exceptions import ConfigError
from . import StoreUnavailable
from .aws import LazyClient, cause, error_code
from .record import ConnectionRecord, Member, live

# An unreachable endpoint fails in seconds: 2 s to connect, 5 s per answer, one retry.
CONFIG = Config(connect_timeout=2, read_timeout=5, retries={"max_attempts": 2, "mode": "standard"})

# "data" is a DynamoDB reserved word, so expressions name it through a placeholder.
NAMES = {"#data": "data"}

DEFAULT_KEY = "connection_id"

TRANSACTION_ITEMS = 100  # DynamoDB's limit per TransactWriteItems


class DynamoDBStore:
    name = "dynamodb"
    page = 1000  # room members per Query, at most

    def __init__(
        self,
        table: str,
        *,
        key: str | None = None,
        region: str | None = None,
        endpoint_url: str | None = None,
        rooms_table: str | None = None,
    ) -> None:
        self.table = table
        self.rooms_table = rooms_table
        self.key = key or DEFAULT_KEY  # the partition key's attribute name
        self.key_known = key is not None  # given, or read from the table: never looked up (again)
        self._key_lock = threading.Lock()
        self.region = region
        self.endpoint_url = endpoint_url
        self._aws = LazyClient("dynamodb", region=region, endpoint_url=endpoint_url, config=CONFIG, unavailable=self._unavailable)

    @property
    def client(self) -> Any:
        """The boto3 DynamoDB client, made once (on first use, in whichever thread needs it) and reused."""
        return self._aws.get()

    def _where(self) -> str:
        return self._aws.where()

    def _unavailable(self, exc: Exception) -> StoreUnavailable:
        if error_code(exc) == "ResourceNotFoundException":
            return StoreUnavailable(
                f"dynamodb store: table {self.table!r} does not exist {self._where()}; create it "
                "(template.yaml does) with partition key connection_id (S) and TTL on expires_at"
            )
        return StoreUnavailable(f"dynamodb store (table {self.table!r} {self._where()}): {cause(exc)}")

    async def _keyed(self, method: str, connection_id: str, request: Callable[[dict[str, Any]], dict[str, Any]]) -> dict[str, Any]:
        """One request on one item; `request` makes its parameters from the item's key."""
        return await asyncio.to_thread(self._keyed_request, method, connection_id, request)

    def _keyed_request(self, method: str, connection_id: str, request: Callable[[dict[str, Any]], dict[str, Any]]) -> dict[str, Any]:
        key = self.key
        try:
            return self._aws.request(method, TableName=self.table, **request({key: {"S": connection_id}}))
        except StoreUnavailable as exc:
            refused = exc.__cause__
            if self.key_known or refused is None or error_code(refused) != "ValidationException" or self._table_key(refused) == key:
                raise
        return self._aws.request(method, TableName=self.table, **request({self.key: {"S": connection_id}}))

    def _table_key(self, refused: BaseException) -> str:
        """The table's partition key, from DescribeTable (blocking); remembered for the environment."""
        with self._key_lock:
            if not self.key_known:
                self.key, self.key_known = self._describe_key(refused), True
        return self.key

    def _describe_key(self, refused: BaseException) -> str:
        try:
            schema = self._aws.request("describe_table", TableName=self.table)["Table"]["KeySchema"]
        except StoreUnavailable as exc:
            raise StoreUnavailable(
                f"dynamodb store: table {self.table!r} refused an item keyed on {self.key!r} ({cause(refused)}), and "
                f"its key could not be read ({exc}); set WS_DYNAMODB_KEY to the table's partition key, such as connectionId, "
                "or allow the function dynamodb:DescribeTable on the table"
            ) from exc
        keys: dict[str, str] = {part["KeyType"]: part["AttributeName"] for part in schema}
        if "RANGE" in keys:
            raise StoreUnavailable(
                f"dynamodb store: table {self.table!r} has a sort key ({keys['RANGE']!r}); the store needs a table "
                "with a partition key only, such as template.yaml's (connection_id, S)"
            )
        return keys["HASH"]

    async def save(self, record: ConnectionRecord) -> None:
        if record.rooms:
            await asyncio.to_thread(self._save_with_rooms, record)
            return
        await self._keyed(
            "put_item",
            record.connection_id,
            lambda key: {"Item": {**key, "data": {"S": record.to_json()}, "expires_at": {"N": str(record.expires_at)}}},
        )

    async def load(self, connection_id: str) -> ConnectionRecord | None:
        response = await self._keyed(
            "get_item",
            connection_id,
            lambda key: {"Key": key, "ConsistentRead": True, "ProjectionExpression": "#data", "ExpressionAttributeNames": NAMES},
        )
        return _data(response.get("Item"), key=connection_id)

    async def pop(self, connection_id: str) -> ConnectionRecord | None:
        if self.rooms_table is not None:
            return await asyncio.to_thread(self._pop_with_rooms, connection_id)
        response = await self._keyed("delete_item", connection_id, lambda key: {"Key": key, "ReturnValues": "ALL_OLD"})
        return _data(response.get("Attributes"), key=connection_id)

    async def scan(self) -> list[ConnectionRecord]:
        def scan_all() -> list[ConnectionRecord]:
            parameters: dict[str, Any] = {
                "TableName": self.table,
                "FilterExpression": "expires_at > :now",
                "ProjectionExpression": "#data, #key",  # the key, to name a record that is not one
                "ExpressionAttributeNames": {**NAMES, "#key": self.key},
                "ExpressionAttributeValues": {":now": {"N": str(int(time.time()))}},
            }
            records: list[ConnectionRecord] = []
            while True:
                page = self._aws.request("scan", **parameters)
                # A page may hold nothing (the filter applies after the read) and still not be the last.
                for item in page.get("Items", ()):
                    if (record := _data(item, key=str(item.get(self.key, {}).get("S")))) is not None:
                        records.append(record)
                if "LastEvaluatedKey" not in page:
                    break
                parameters["ExclusiveStartKey"] = page["LastEvaluatedKey"]
            return records  # each checked as read: the filter used the time the scan began

        return await asyncio.to_thread(scan_all)

    # --- rooms and updates ---------------------------------------------------------------------

    async def update(self, record: ConnectionRecord) -> bool:
        def request(key: dict[str, Any]) -> dict[str, Any]:
            return {
                "Key": key,
                "UpdateExpression": "SET #data = :data",
                "ConditionExpression": "attribute_exists(#key) AND expires_at > :now",
                "ExpressionAttributeNames": {**NAMES, "#key": next(iter(key))},
                "ExpressionAttributeValues": {":data": {"S": record.to_json()}, ":now": _now()},
            }

        try:
            await self._keyed("update_item", record.connection_id, request)
        except StoreUnavailable as exc:
            if error_code(exc.__cause__ or exc) == "ConditionalCheckFailedException":
                return False
            raise
        return True

    async def join(self, member: Member, room: str) -> bool:
        rooms_table = self._rooms_table()

        def items(key: dict[str, Any]) -> list[dict[str, Any]]:
            return [
                {
                    "Update": {
                        "TableName": self.table,
                        "Key": key,
                        "UpdateExpression": "ADD rooms :room",
                        "ConditionExpression": "attribute_exists(#key) AND expires_at > :now",
                        "ExpressionAttributeNames": {"#key": next(iter(key))},
                        "ExpressionAttributeValues": {":room": {"SS": [room]}, ":now": _now()},
                    }
                },
                {"Put": {"TableName": rooms_table, "Item": _membership(member, room)}},
            ]

        return await asyncio.to_thread(self._transact, member.connection_id, items)

    async def leave(self, member: Member, room: str) -> None:
        rooms_table = self._rooms_table()
        membership = {"room": {"S": room}, "connection_id": {"S": member.connection_id}}

        def items(key: dict[str, Any]) -> list[dict[str, Any]]:
            return [
                {
                    "Update": {
                        "TableName": self.table,
                        "Key": key,
                        "UpdateExpression": "DELETE rooms :room",
                        "ConditionExpression": "attribute_exists(#key)",
                        "ExpressionAttributeNames": {"#key": next(iter(key))},
                        "ExpressionAttributeValues": {":room": {"SS": [room]}},
                    }
                },
                {"Delete": {"TableName": rooms_table, "Key": membership}},
            ]

        def leave() -> None:
            if not self._transact(member.connection_id, items):
                # The connection's item has gone: only the membership, if any, is left to delete.
                self._aws.request("delete_item", TableName=rooms_table, Key=membership)

        await asyncio.to_thread(leave)

    async def rooms(self, connection_id: str) -> set[str]:
        response = await self._keyed(
            "get_item",
            connection_id,
            lambda key: {"Key": key, "ConsistentRead": True, "ProjectionExpression": "rooms, expires_at"},
        )
        item = response.get("Item") or {}
        if int(item.get("expires_at", {}).get("N", "0")) <= time.time():
            return set()
        return set(item.get("rooms", {}).get("SS", ()))

    async def members(self, room: str) -> AsyncIterator[list[Member]]:
        parameters: dict[str, Any] = {
            "TableName": self._rooms_table(),
            "KeyConditionExpression": "room = :room",
            "FilterExpression": "expires_at > :now",
            "ProjectionExpression": "connection_id, endpoint, expires_at",
            "ExpressionAttributeValues": {":room": {"S": room}, ":now": _now()},
            "ConsistentRead": True,
            "Limit": self.page,
        }
        while True:
            page = await asyncio.to_thread(self._aws.request, "query", **parameters)
            found = [
                Member(item["connection_id"]["S"], item["endpoint"]["S"], int(item["expires_at"]["N"])) for item in page.get("Items", ())
            ]
            if found:
                yield found
            if "LastEvaluatedKey" not in page:
                return
            parameters["ExclusiveStartKey"] = page["LastEvaluatedKey"]

    def _rooms_table(self) -> str:
        if self.rooms_table is None:
            raise ConfigError(
                f"dynamodb store (table {self.table!r}): rooms need a table of their own: set WS_DYNAMODB_ROOMS_TABLE "
                "(ws_config params rooms_table_name, dsn rooms_table) to a table with partition key room (S), sort key "
                "connection_id (S) and TTL on expires_at, as template.yaml makes it.",
                fix="rooms-storage",
            )
        return self.rooms_table

    def _transact(self, connection_id: str, items: Callable[[dict[str, Any]], list[dict[str, Any]]]) -> bool:
        """One TransactWriteItems whose items name the connection's item by `items(key)` (blocking);
        False when the first item's condition failed, so that nothing was written."""
        key = self.key
        try:
            self._aws.request("transact_write_items", TransactItems=items({key: {"S": connection_id}}))
            return True
        except StoreUnavailable as exc:
            refused = exc.__cause__
            if _first_condition_failed(refused):
                return False
            if self.key_known or refused is None or not _refused_for_key(refused) or self._table_key(refused) == key:
                raise
        return self._transact(connection_id, items)  # once more, with the table's own key

    def _save_with_rooms(self, record: ConnectionRecord) -> None:
        """The item and its memberships in one transaction (blocking). Past what one transaction
        holds, the rest follow it: the connection is written first, so never a membership without it."""
        rooms_table = self._rooms_table()
        rooms = list(dict.fromkeys(record.rooms))
        first, rest = rooms[: TRANSACTION_ITEMS - 1], rooms[TRANSACTION_ITEMS - 1 :]

        def items(key: dict[str, Any]) -> list[dict[str, Any]]:
            item = {**key, "data": {"S": record.to_json()}, "expires_at": {"N": str(record.expires_at)}, "rooms": {"SS": rooms}}
            return [
                {"Put": {"TableName": self.table, "Item": item}},
                *({"Put": {"TableName": rooms_table, "Item": _membership(record.member(), room)}} for room in first),
            ]

        self._transact(record.connection_id, items)
        for start in range(0, len(rest), TRANSACTION_ITEMS):
            chunk = rest[start : start + TRANSACTION_ITEMS]
            self._aws.request(
                "transact_write_items",
                TransactItems=[{"Put": {"TableName": rooms_table, "Item": _membership(record.member(), room)}} for room in chunk],
            )

    def _pop_with_rooms(self, connection_id: str) -> ConnectionRecord | None:
        """Delete the item, and its memberships with it (blocking). A connection in no room is one
        DeleteItem; in rooms, the failed condition returns the item, and one transaction deletes it
        (only if its rooms are still those) and its memberships; a join in between means once more."""
        rooms_table = self._rooms_table()
        for _ in range(5):
            try:
                response = self._keyed_request(
                    "delete_item",
                    connection_id,
                    lambda key: {
                        "Key": key,
                        "ConditionExpression": "attribute_not_exists(rooms)",
                        "ReturnValues": "ALL_OLD",
                        "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
                    },
                )
                return _data(response.get("Attributes"), key=connection_id)
            except StoreUnavailable as exc:
                if error_code(exc.__cause__ or exc) != "ConditionalCheckFailedException":
                    raise
                item = exc.__cause__.response.get("Item") or {}  # type: ignore[union-attr]
            rooms: list[str] = item.get("rooms", {}).get("SS", [])
            # Beyond one transaction's worth, the memberships go first: never one without its connection.
            while len(rooms) > TRANSACTION_ITEMS - 1:
                chunk, rooms = rooms[:TRANSACTION_ITEMS], rooms[TRANSACTION_ITEMS:]
                self._aws.request("transact_write_items", TransactItems=[_forget(rooms_table, room, connection_id) for room in chunk])
            set_now = {"SS": item.get("rooms", {}).get("SS", [])}

            def items(key: dict[str, Any], rooms: list[str] = rooms, set_now: dict[str, Any] = set_now) -> list[dict[str, Any]]:
                return [
                    {
                        "Delete": {
                            "TableName": self.table,
                            "Key": key,
                            "ConditionExpression": "rooms = :rooms",
                            "ExpressionAttributeValues": {":rooms": set_now},
                        }
                    },
                    *(_forget(rooms_table, room, connection_id) for room in rooms),
                ]

            if self._transact(connection_id, items):
                return _data(item, key=connection_id)
        raise StoreUnavailable(
            f"dynamodb store (table {self.table!r}): connection {connection_id} kept changing rooms while it was removed"
        )

    async def close(self) -> None:
        client, self._aws.client = self._aws.client, None
        if client is not None:
            client.close()


def _data(item: dict[str, Any] | None, *, key: str) -> ConnectionRecord | None:
    """The item's record; None for no item, an expired one, or one another program wrote into the
    table (a Mangum 0.9 table reused may still hold that era's items, which have no `data`)."""
    data = (item or {}).get("data", {}).get("S")
    return live(data if isinstance(data, str) else None, key=key)


def _now() -> dict[str, str]:
    return {"N": str(int(time.time()))}


def _membership(member: Member, room: str) -> dict[str, Any]:
    """The rooms table's item for one membership."""
    return {
        "room": {"S": room},
        "connection_id": {"S": member.connection_id},
        "endpoint": {"S": member.endpoint},
        "expires_at": {"N": str(member.expires_at)},
    }


def _forget(rooms_table: str, room: str, connection_id: str) -> dict[str, Any]:
    return {"Delete": {"TableName": rooms_table, "Key": {"room": {"S": room}, "connection_id": {"S": connection_id}}}}


def _first_condition_failed(exc: BaseException | None) -> bool:
    """A cancelled transaction whose first item's condition (the connection's) failed."""
    if exc is None or error_code(exc) != "TransactionCanceledException":
        return False
    reasons = getattr(exc, "response", {}).get("CancellationReasons") or []
    return bool(reasons) and reasons[0].get("Code") == "ConditionalCheckFailed"


def _refused_for_key(exc: BaseException) -> bool:
    """A transaction refused as a whole (ValidationException) or cancelled for an item's form
    (a ValidationError reason; moto says KeyError): what a table keyed otherwise answers."""
    if error_code(exc) == "ValidationException":
        return True
    if error_code(exc) != "TransactionCanceledException":
        return False
    reasons = getattr(exc, "response", {}).get("CancellationReasons") or []
    return any(reason.get("Code") in ("ValidationError", "KeyError") for reason in reasons)
