"""S3 store (WS_S3_BUCKET, WS_S3_PREFIX): for accounts that would rather not run a table.

One object per connection, at prefix + connection_id (API Gateway's ids end in "=", which S3
keys allow): the body is the record's JSON (application/json), and the object's metadata
`expires-at` holds the record's expiry in epoch seconds. S3 cannot expire an object at a time of
its own, so the bucket's cleanup is a lifecycle rule expiring the prefix after 1 day (see README),
and every read drops expired records itself. The bucket is not created here.

save is one PutObject and load one GetObject (S3 reads are strongly consistent). pop is GetObject
then DeleteObject: S3 has no atomic get-and-delete, so two pops of one connection at the same
moment may both return the record. $disconnect comes once per connection, so this does not arise
in practice. scan lists the prefix page by page (ListObjectsV2), then fetches every object, up to
CONCURRENCY at a time on the store's own thread pool: asyncio's default executor has only
cpu_count + 4 threads (6 on Lambda), and the app may need those. A broadcast over many
connections costs one GET per connection; at that scale DynamoDB or Redis are the better store.

The low-level client is made on first use and reused; its blocking calls run in worker threads so
the shared loop stays free. Short timeouts and one retry make an unreachable endpoint fail within
seconds; any other failure of boto3's, reading a body included, is tried once more on a new client
(aws.py), then refused as StoreUnavailable.
"""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from botocore.config import Config  # type: ignore[import-untyped]

from . import StoreUnavailable
from .aws import LazyClient, cause, error_code
from .record import ConnectionRecord, live

# GETs in flight at once during a scan: the pool's threads and the client's HTTP connections.
CONCURRENCY = 32

# An unreachable endpoint fails in seconds: 2 s to connect, 5 s per answer, one retry.
CONFIG = Config(
    connect_timeout=2,
    read_timeout=5,
    retries={"max_attempts": 2, "mode": "standard"},
    max_pool_connections=CONCURRENCY,
)


class S3Store:
    name = "s3"

    def __init__(
        self,
        bucket: str,
        *,
        prefix: str = "asgi-lambda/connections/",
        region: str | None = None,
        endpoint_url: str | None = None,
    ) -> None:
        self.bucket = bucket
        self.prefix = prefix
        self.region = region
        self.endpoint_url = endpoint_url
        self._aws = LazyClient("s3", region=region, endpoint_url=endpoint_url, config=CONFIG, unavailable=self._unavailable)
        self._executor: ThreadPoolExecutor | None = None

    @property
    def client(self) -> Any:
        """The boto3 S3 client, made once (on first use, in whichever thread needs it) and reused."""
        return self._aws.get()

    def _key(self, connection_id: str) -> str:
        return self.prefix + connection_id

    def _where(self) -> str:
        return self._aws.where()

    def _unavailable(self, exc: Exception) -> StoreUnavailable:
        code = error_code(exc)
        if code == "NoSuchBucket":
            return StoreUnavailable(
                f"s3 store: bucket {self.bucket!r} does not exist {self._where()}; create it, with a "
                f"lifecycle rule expiring objects under {self.prefix!r} after 1 day"
            )
        text = cause(exc)
        if code in ("AccessDenied", "403"):
            # Without s3:ListBucket, S3 answers a GET for a missing key with 403, not NoSuchKey.
            text += " (the function needs s3:GetObject, s3:PutObject, s3:DeleteObject and s3:ListBucket)"
        return StoreUnavailable(f"s3 store (bucket {self.bucket!r}, prefix {self.prefix!r} {self._where()}): {text}")

    def _read(self, key: str) -> bytes | None:
        """The object's body, None when there is no such object (blocking)."""
        try:
            data: bytes = self._aws.call(lambda client: client.get_object(Bucket=self.bucket, Key=key)["Body"].read())
        except Exception as exc:
            if error_code(exc) == "NoSuchKey":
                return None
            raise self._unavailable(exc) from exc
        return data

    def _get(self, key: str) -> ConnectionRecord | None:
        return live(self._read(key), key=key)

    def _put(self, record: ConnectionRecord) -> None:
        self._aws.request(
            "put_object",
            Bucket=self.bucket,
            Key=self._key(record.connection_id),
            Body=record.to_json().encode(),
            ContentType="application/json",
            Metadata={"expires-at": str(record.expires_at)},
        )

    def _pop(self, connection_id: str) -> ConnectionRecord | None:
        key = self._key(connection_id)
        data = self._read(key)
        if data is None:
            return None
        self._aws.request("delete_object", Bucket=self.bucket, Key=key)
        return live(data, key=key)

    def _list(self) -> list[str]:
        """Every key under the prefix, following ListObjectsV2's pages (blocking)."""
        parameters: dict[str, Any] = {"Bucket": self.bucket, "Prefix": self.prefix}
        keys: list[str] = []
        while True:
            page = self._aws.request("list_objects_v2", **parameters)
            # The prefix itself may exist as an empty "folder" object made in the console.
            keys.extend(item["Key"] for item in page.get("Contents", ()) if item["Key"] != self.prefix)
            if not page.get("IsTruncated"):
                return keys
            parameters["ContinuationToken"] = page["NextContinuationToken"]

    def _pool(self) -> ThreadPoolExecutor:
        if self._executor is None:
            self._executor = ThreadPoolExecutor(max_workers=CONCURRENCY, thread_name_prefix="asgi-lambda-s3")
        return self._executor

    async def save(self, record: ConnectionRecord) -> None:
        await asyncio.to_thread(self._put, record)

    async def load(self, connection_id: str) -> ConnectionRecord | None:
        return await asyncio.to_thread(self._get, self._key(connection_id))

    async def pop(self, connection_id: str) -> ConnectionRecord | None:
        return await asyncio.to_thread(self._pop, connection_id)

    async def scan(self) -> list[ConnectionRecord]:
        keys = await asyncio.to_thread(self._list)
        if not keys:
            return []
        running_loop = asyncio.get_running_loop()
        pool = self._pool()
        # A key deleted since the listing (a $disconnect meanwhile) reads as None, as does an expired record.
        fetched = await asyncio.gather(*(running_loop.run_in_executor(pool, self._get, key) for key in keys))
        return [record for record in fetched if record is not None]

    async def close(self) -> None:
        client, self._aws.client = self._aws.client, None
        executor, self._executor = self._executor, None
        if executor is not None:
            executor.shutdown(wait=False)
        if client is not None:
            client.close()
