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
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable
from typing import Any

from botocore.config import Config  # type: ignore[import-untyped]

from . import StoreUnavailable
from .aws import LazyClient, cause, error_code
from .record import ConnectionRecord, live

# An unreachable endpoint fails in seconds: 2 s to connect, 5 s per answer, one retry.
CONFIG = Config(connect_timeout=2, read_timeout=5, retries={"max_attempts": 2, "mode": "standard"})

# "data" is a DynamoDB reserved word, so expressions name it through a placeholder.
NAMES = {"#data": "data"}

DEFAULT_KEY = "connection_id"


class DynamoDBStore:
    name = "dynamodb"

    def __init__(self, table: str, *, key: str | None = None, region: str | None = None, endpoint_url: str | None = None) -> None:
        self.table = table
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

    async def close(self) -> None:
        client, self._aws.client = self._aws.client, None
        if client is not None:
            client.close()


def _data(item: dict[str, Any] | None, *, key: str) -> ConnectionRecord | None:
    """The item's record; None for no item, an expired one, or one another program wrote into the
    table (a Mangum 0.9 table reused may still hold that era's items, which have no `data`)."""
    data = (item or {}).get("data", {}).get("S")
    return live(data if isinstance(data, str) else None, key=key)
