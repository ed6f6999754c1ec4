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
with it (EX, whole seconds, rounded up): save is one SET, load one GET, update one SET XX
KEEPTTL (never over a record that has gone), pop one script (GET and DEL, its rooms with it;
Redis 6.2 or later, as KEEPTTL). Records are also checked against `expires_at` when read, so a
record past its expiry that Redis has not removed yet is never returned.

scan walks the keyspace with SCAN MATCH <prefix>* and fetches each page with one MGET: O(keys
in the database), fine for a database that holds connections, slow for one shared with
millions of other keys. MGET needs every key on one node: not for Redis Cluster.

Rooms live beside the records, under `<prefix without its last colon>#` (so that SCAN MATCH
<prefix>* never meets them): a sorted set per room, `...#room:<room>`, whose members are
"<connection_id> <endpoint>" scored by the connection's expiry, and a hash per connection,
`...#of:<connection_id>`, from each of its rooms to that member. Both keys expire with the
connection's record at the latest (a room's with its last member's); a member past its score is
never read, and is removed by the next join of that room. join, a $connect with rooms, pop and
rooms() are Lua scripts (EVALSHA): each one round trip, atomic, so a membership is written only
while its connection's record is there, and goes with it. A room's members are read with ZSCAN,
one page per call. The scripts name keys they compute, so, as MGET, not for Redis Cluster.
"""

from __future__ import annotations

import math
import re
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import TypeVar

import redis.asyncio
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

from . import StoreUnavailable
from .failures import describe_failure, mask_password
from .record import ConnectionRecord, Member, live

PREFIX = "asgi-lambda:connection:"
CONNECT_TIMEOUT = 5.0  # seconds; an unreachable server fails the invocation fast, not at Lambda's timeout
SCAN_COUNT = 1000  # keys SCAN looks at per call, and so at most per MGET; room members ZSCAN reads per call

T = TypeVar("T")

# Not tried again: the command may have run, and a second wait doubles the delay.
_TIMEOUTS = (RedisTimeoutError, TimeoutError)


class RedisStore:
    name = "redis"
    page = SCAN_COUNT  # room members ZSCAN looks at per call

    def __init__(self, url: str, *, prefix: str = PREFIX) -> None:
        self.url = url
        self.prefix = prefix
        self._where = f"redis store at {mask_password(url)}"
        self._match = re.sub(r"([*?\[\]\\])", r"\\\1", prefix) + "*"  # the prefix literally, then anything
        self.rooms_prefix = (prefix[:-1] if prefix.endswith(":") else prefix) + "#"
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
        seconds = _seconds(record.expires_at)
        key, data = self._key(record.connection_id), record.to_json()
        if record.rooms:
            rooms = list(dict.fromkeys(record.rooms))
            keys = [key, self._of(record.connection_id), *map(self._room, rooms)]
            args: list[str | int] = [data, seconds, record.expires_at, self._member(record.member()), *rooms]
            await self._command(lambda client: client.register_script(SAVE)(keys, args, client))
            return
        await self._command(lambda client: client.set(key, data, ex=seconds))

    async def load(self, connection_id: str) -> ConnectionRecord | None:
        key = self._key(connection_id)
        return live(await self._command(lambda client: client.get(key)), key=key)

    async def pop(self, connection_id: str) -> ConnectionRecord | None:
        keys = [self._key(connection_id), self._of(connection_id)]
        return live(
            await self._command(lambda client: client.register_script(POP)(keys, [self.rooms_prefix + "room:"], client)), key=keys[0]
        )

    async def update(self, record: ConnectionRecord) -> bool:
        if record.expired():
            return False  # Redis may keep it up to a second longer (EX is in whole seconds)
        key, data = self._key(record.connection_id), record.to_json()
        # XX: only over a stored record, never bringing one back; KEEPTTL: its expiry stays.
        return bool(await self._command(lambda client: client.set(key, data, xx=True, keepttl=True)))

    async def join(self, member: Member, room: str) -> bool:
        keys = [self._key(member.connection_id), self._of(member.connection_id), self._room(room)]
        args: list[str | int] = [room, self._member(member), member.expires_at, _seconds(member.expires_at)]
        return bool(await self._command(lambda client: client.register_script(JOIN)(keys, args, client)))

    async def leave(self, member: Member, room: str) -> None:
        async def both(client: redis.asyncio.Redis) -> None:
            async with client.pipeline(transaction=True) as pipe:
                pipe.zrem(self._room(room), self._member(member))
                pipe.hdel(self._of(member.connection_id), room)
                await pipe.execute()

        await self._command(both)

    async def rooms(self, connection_id: str) -> set[str]:
        keys = [self._of(connection_id)]
        found = await self._command(lambda client: client.register_script(ROOMS)(keys, [self.rooms_prefix + "room:"], client))
        return {room.decode() if isinstance(room, bytes) else room for room in found}

    async def members(self, room: str) -> AsyncIterator[list[Member]]:
        key = self._room(room)
        seen: set[bytes | str] = set()  # ZSCAN may return a member more than once
        cursor = 0
        while True:
            cursor, page = await self._command(lambda client, at=cursor: client.zscan(key, at, count=self.page))  # type: ignore[misc]
            now = time.time()
            found = []
            for value, score in page:
                if score > now and value not in seen:
                    seen.add(value)
                    connection_id, _, endpoint = (value.decode() if isinstance(value, bytes) else value).partition(" ")
                    found.append(Member(connection_id, endpoint, int(score)))
            if found:
                yield found
            if cursor == 0:
                return

    def _of(self, connection_id: str) -> str:
        return f"{self.rooms_prefix}of:{connection_id}"

    def _room(self, room: str) -> str:
        return f"{self.rooms_prefix}room:{room}"

    @staticmethod
    def _member(member: Member) -> str:
        return f"{member.connection_id} {member.endpoint}"

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


def _seconds(expires_at: int) -> int:
    """Whole seconds from now to the expiry, rounded up; at least 1 (EX refuses 0)."""
    return max(1, math.ceil(expires_at - time.time()))


# Lua, run by Redis as one atomic command. EXTEND sets a key's expiry to `ttl` seconds unless it
# already lasts longer: a room lives as long as its longest-lived member.
EXTEND = """
local function extend(key, ttl)
  if redis.call('TTL', key) < ttl then redis.call('EXPIRE', key, ttl) end
end
"""

# KEYS: the record, its rooms hash, each room's set. ARGV: the record's JSON, its seconds to live,
# its expiry (the members' score), the member, then each room's name.
SAVE = (
    EXTEND
    + """
local ttl, expires, member = tonumber(ARGV[2]), ARGV[3], ARGV[4]
redis.call('SET', KEYS[1], ARGV[1], 'EX', ttl)
redis.call('DEL', KEYS[2])
for i = 3, #KEYS do
  redis.call('ZADD', KEYS[i], expires, member)
  extend(KEYS[i], ttl)
  redis.call('HSET', KEYS[2], ARGV[i + 2], member)
end
redis.call('EXPIRE', KEYS[2], ttl)
"""
)

# KEYS: the record, its rooms hash, the room's set. ARGV: the room, the member, its expiry, its
# seconds to live. 0 (nothing written) when the record is gone or past its expiry.
JOIN = (
    EXTEND
    + """
local now = tonumber(redis.call('TIME')[1])
local expires, ttl = tonumber(ARGV[3]), tonumber(ARGV[4])
if expires <= now or redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
redis.call('ZREMRANGEBYSCORE', KEYS[3], '-inf', now)
redis.call('ZADD', KEYS[3], expires, ARGV[2])
extend(KEYS[3], ttl)
redis.call('HSET', KEYS[2], ARGV[1], ARGV[2])
extend(KEYS[2], ttl)
return 1
"""
)

# KEYS: the record, its rooms hash. ARGV: the rooms' key prefix. The record's JSON (or nil), its
# memberships gone with it.
POP = """
local data = redis.call('GET', KEYS[1])
redis.call('DEL', KEYS[1])
local rooms = redis.call('HGETALL', KEYS[2])
for i = 1, #rooms, 2 do
  redis.call('ZREM', ARGV[1] .. rooms[i], rooms[i + 1])
end
redis.call('DEL', KEYS[2])
return data
"""

# KEYS: the rooms hash. ARGV: the rooms' key prefix. The rooms whose membership has not expired.
ROOMS = """
local now = tonumber(redis.call('TIME')[1])
local rooms = redis.call('HGETALL', KEYS[1])
local live = {}
for i = 1, #rooms, 2 do
  local score = redis.call('ZSCORE', ARGV[1] .. rooms[i], rooms[i + 1])
  if score and tonumber(score) > now then live[#live + 1] = rooms[i] end
end
return live
"""
