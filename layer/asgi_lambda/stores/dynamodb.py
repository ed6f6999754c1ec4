"""DynamoDB store (WS_DYNAMODB_TABLE): the default on Lambda; boto3 comes with the runtime.

One item per connection: {connection_id: S, data: S (the record's JSON), expires_at: N (epoch
seconds)}. The table is not created here: template.yaml creates it, with partition key
`connection_id` (S) and TTL on `expires_at`. TTL deletion lags expiry (by up to a few days),
so every read also drops expired records itself.

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
import time
from typing import Any

from botocore.config import Config  # type: ignore[import-untyped]

from . import StoreUnavailable
from .aws import LazyClient, cause, error_code
from .record import ConnectionRecord, live

# An unreachable endpoint fails in seconds: 2 s to connect, 5 s per answer, one retry.
CONFIG = Config(connect_timeout=2, read_timeout=5, retries={"max_attempts": 2, "mode": "standard"})

# "data" is a DynamoDB reserved word, so expressions name it through a placeholder.
NAMES = {"#data": "data"}


class DynamoDBStore:
    name = "dynamodb"

    def __init__(self, table: str, *, region: str | None = None, endpoint_url: str | None = None) -> None:
        self.table = table
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

    async def _run(self, method: str, /, **parameters: Any) -> dict[str, Any]:
        return await asyncio.to_thread(self._aws.request, method, **parameters)

    async def save(self, record: ConnectionRecord) -> None:
        await self._run(
            "put_item",
            TableName=self.table,
            Item={
                "connection_id": {"S": record.connection_id},
                "data": {"S": record.to_json()},
                "expires_at": {"N": str(record.expires_at)},
            },
        )

    async def load(self, connection_id: str) -> ConnectionRecord | None:
        response = await self._run(
            "get_item",
            TableName=self.table,
            Key={"connection_id": {"S": connection_id}},
            ConsistentRead=True,
            ProjectionExpression="#data",
            ExpressionAttributeNames=NAMES,
        )
        return _data(response.get("Item"))

    async def pop(self, connection_id: str) -> ConnectionRecord | None:
        response = await self._run(
            "delete_item",
            TableName=self.table,
            Key={"connection_id": {"S": connection_id}},
            ReturnValues="ALL_OLD",
        )
        return _data(response.get("Attributes"))

    async def scan(self) -> list[ConnectionRecord]:
        def scan_all() -> list[ConnectionRecord]:
            parameters: dict[str, Any] = {
                "TableName": self.table,
                "FilterExpression": "expires_at > :now",
                "ProjectionExpression": "#data",
                "ExpressionAttributeNames": NAMES,
                "ExpressionAttributeValues": {":now": {"N": str(int(time.time()))}},
            }
            records: list[ConnectionRecord] = []
            while True:
                page = self._aws.request("scan", **parameters)
                # A page may hold nothing (the filter applies after the read) and still not be the last.
                records.extend(record for item in page.get("Items", ()) if (record := live(item["data"]["S"])) is not None)
                if "LastEvaluatedKey" not in page:
                    break
                parameters["ExclusiveStartKey"] = page["LastEvaluatedKey"]
            return records  # each checked as read: the filter used the time the scan began

        return await asyncio.to_thread(scan_all)

    async def close(self) -> None:
        client, self._aws.client = self._aws.client, None
        if client is not None:
            client.close()


def _data(item: dict[str, Any] | None) -> ConnectionRecord | None:
    return live(item["data"]["S"] if item else None)
