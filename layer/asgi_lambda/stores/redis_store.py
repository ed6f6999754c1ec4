"""Redis store (WS_BACKEND=redis): redis-py's asyncio client, one per execution environment.

The client is made on first use and kept; its pool opens a connection when a command needs
one and reuses it afterwards. A command whose connection turns out lost (the server closed
it while the environment was frozen) is sent once more, at once, on a new connection.

Each record is one key, `<prefix><connection_id>`, holding the record's JSON and expiring
with it (EX, whole seconds, rounded up): save is one SET, load one GET, pop one GETDEL (Redis
6.2 or later). Records are also checked against `expires_at` when read, so a record past its
expiry that Redis has not removed yet is never returned.

scan walks the keyspace with SCAN MATCH <prefix>* and fetches each page with one MGET: O(keys
in the database), fine for a database that holds connections, slow for one shared with
millions of other keys. MGET needs every key on one node: not for Redis Cluster.

"""

from __future__ import annotations

import math
import re
import time

import redis.asyncio
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import RedisError
from redis.exceptions import TimeoutError as RedisTimeoutError

from . import StoreUnavailable
from .failures import describe_failure, mask_password
from .record import ConnectionRecord, live

PREFIX = "asgi-lambda:connection:"
CONNECT_TIMEOUT = 5.0  # seconds; an unreachable server fails the invocation fast, not at Lambda's timeout
SCAN_COUNT = 1000  # keys SCAN looks at per call, and so at most per MGET

_ERRORS = (RedisError, OSError, TimeoutError)


class RedisStore:
    name = "redis"

    def __init__(self, url: str, *, prefix: str = PREFIX) -> None:
        self.url = url
        self.prefix = prefix
        self._where = f"redis store at {mask_password(url)}"
        self._match = re.sub(r"([*?\[\]\\])", r"\\\1", prefix) + "*"  # the prefix literally, then anything
        self._client: redis.asyncio.Redis | None = None

    def _get_client(self) -> redis.asyncio.Redis:
        if self._client is None:
            try:
                self._client = redis.asyncio.Redis.from_url(
                    self.url,
                    socket_connect_timeout=CONNECT_TIMEOUT,
                    # One immediate retry on a lost connection, such as one the server closed while
                    # the environment was frozen (clients from a URL retry nothing by default). No
                    # backoff, so an unreachable server still fails at once. Timeouts are not
                    # retried: the command may have run, and a second wait doubles the delay.
                    retry=Retry(NoBackoff(), 1, supported_errors=(RedisConnectionError,)),
                )
            except ValueError as exc:  # a malformed URL
                raise self._unavailable(exc) from exc
        return self._client

    def _key(self, connection_id: str) -> str:
        return self.prefix + connection_id

    def _unavailable(self, exc: BaseException) -> StoreUnavailable:
        return StoreUnavailable(
            f"{self._where}: {describe_failure(exc, self.url, timeouts=(RedisTimeoutError, TimeoutError), connect_timeout=CONNECT_TIMEOUT)}"
        )

    async def save(self, record: ConnectionRecord) -> None:
        # Already expired: still written, so it replaces any live record, and gone within a second.
        seconds = max(1, math.ceil(record.expires_at - time.time()))
        client = self._get_client()
        try:
            await client.set(self._key(record.connection_id), record.to_json(), ex=seconds)
        except _ERRORS as exc:
            raise self._unavailable(exc) from exc

    async def load(self, connection_id: str) -> ConnectionRecord | None:
        client = self._get_client()
        try:
            data: bytes | str | None = await client.get(self._key(connection_id))
        except _ERRORS as exc:
            raise self._unavailable(exc) from exc
        return live(data)

    async def pop(self, connection_id: str) -> ConnectionRecord | None:
        client = self._get_client()
        try:
            data: bytes | str | None = await client.getdel(self._key(connection_id))
        except _ERRORS as exc:
            raise self._unavailable(exc) from exc
        return live(data)

    async def scan(self) -> list[ConnectionRecord]:
        client = self._get_client()
        seen: set[bytes | str] = set()  # SCAN may return a key more than once
        records: list[ConnectionRecord] = []
        cursor = 0
        try:
            while True:
                cursor, keys = await client.scan(cursor, match=self._match, count=SCAN_COUNT)
                new = [key for key in keys if key not in seen]
                if new:
                    seen.update(new)
                    values: list[bytes | str | None] = await client.mget(new)
                    records.extend(record for record in map(live, values) if record is not None)
                if cursor == 0:
                    return records
        except _ERRORS as exc:
            raise self._unavailable(exc) from exc

    async def close(self) -> None:
        client, self._client = self._client, None
        if client is not None:
            await client.aclose()
