"""Redis store (WS_BACKEND=redis): redis-py's asyncio client, one per execution environment.

The client is made on first use and kept; its pool opens a connection when a command needs
one and reuses it afterwards. A command whose connection turns out lost (the server closed it
while the environment was frozen) is sent once more, at once, on a new connection: redis-py's
Retry does that. Any failure of the client library, whatever it raises, then gets one more try,
after the pool's idle connections are closed so that it goes out on a fresh one. That covers
what redis-py does not see as a lost connection: on Python 3.12, a connection the server reset
while the environment sat idle fails the next command with asyncio's AttributeError ("'NoneType'
object has no attribute '_add_writer'", a CPython bug fixed in 3.13). Timeouts are not retried:
the command may have run, and a second wait doubles the delay. What still fails is a
StoreUnavailable naming the server (no password) and the cause; our own code runs outside the
catch, so its errors are never disguised as the store's.

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
from collections.abc import Awaitable, Callable
from typing import TypeVar

import redis.asyncio
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

from . import StoreUnavailable
from .failures import describe_failure, mask_password
from .record import ConnectionRecord, live

PREFIX = "asgi-lambda:connection:"
CONNECT_TIMEOUT = 5.0  # seconds; an unreachable server fails the invocation fast, not at Lambda's timeout
SCAN_COUNT = 1000  # keys SCAN looks at per call, and so at most per MGET

T = TypeVar("T")

# Not tried again: the command may have run, and a second wait doubles the delay.
_TIMEOUTS = (RedisTimeoutError, TimeoutError)


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
        return StoreUnavailable(f"{self._where}: {describe_failure(exc, self.url, timeouts=_TIMEOUTS, connect_timeout=CONNECT_TIMEOUT)}")

    async def _command(self, call: Callable[[redis.asyncio.Redis], Awaitable[T]]) -> T:
        """Run `call` (redis-py's calls only) on the client, once more on a fresh connection if it fails."""
        client = self._get_client()
        try:
            try:
                return await call(client)
            except _TIMEOUTS:
                raise
            except Exception:  # anything redis-py raises, asyncio's own errors included
                await client.connection_pool.disconnect(inuse_connections=False)
                return await call(client)
        except Exception as exc:
            raise self._unavailable(exc) from exc

    async def save(self, record: ConnectionRecord) -> None:
        # Already expired: still written, so it replaces any live record, and gone within a second.
        seconds = max(1, math.ceil(record.expires_at - time.time()))
        key, data = self._key(record.connection_id), record.to_json()
        await self._command(lambda client: client.set(key, data, ex=seconds))

    async def load(self, connection_id: str) -> ConnectionRecord | None:
        key = self._key(connection_id)
        return live(await self._command(lambda client: client.get(key)), key=key)

    async def pop(self, connection_id: str) -> ConnectionRecord | None:
        key = self._key(connection_id)
        return live(await self._command(lambda client: client.getdel(key)), key=key)

    async def scan(self) -> list[ConnectionRecord]:
        values = await self._command(self._values)
        return [record for key, data in values if (record := live(data, key=text(key))) is not None]

    async def _values(self, client: redis.asyncio.Redis) -> list[tuple[bytes | str, bytes | str | None]]:
        """Every key under the prefix with its value: SCAN MATCH page by page, one MGET per page."""
        seen: set[bytes | str] = set()  # SCAN may return a key more than once
        values: list[tuple[bytes | str, bytes | str | None]] = []
        cursor = 0
        while True:
            cursor, keys = await client.scan(cursor, match=self._match, count=SCAN_COUNT)
            new = [key for key in keys if key not in seen]
            if new:
                seen.update(new)
                values.extend(zip(new, await client.mget(new), strict=True))
            if cursor == 0:
                return values

    async def close(self) -> None:
        client, self._client = self._client, None
        if client is not None:
            await client.aclose()


def text(key: bytes | str) -> str:
    return key.decode(errors="replace") if isinstance(key, bytes) else key
