"""PostgreSQL store (WS_BACKEND=postgresql): asyncpg, with one small pool per execution environment.

The pool is made on first use, on the package's long-lived loop, and kept for the life of the
execution environment. It opens no connection until one is needed and at most MAX_CONNECTIONS:
Lambda runs one event at a time, but a broadcast and the Management API calls may overlap.

The table is created on first use, once per store, idempotently. After that each operation is
one statement: save an upsert, load and scan a SELECT of live rows, pop a DELETE ... RETURNING.

Rooms live in `<table>_rooms`, keyed (room, connection_id) with the member's endpoint and expiry,
and a foreign key to the connection's row ON DELETE CASCADE: a membership cannot be written
without its connection (join inserts from a SELECT of the live row), and goes with it (pop). A
$connect with rooms is still one statement (the upsert in a CTE, the memberships from it); a
room's members are read a page (`page` rows) at a time on the primary key's range.
Expiry is judged against this process's clock, as `ConnectionRecord.expired` judges it.

A statement that fails, whatever asyncpg raised (a lost connection, an error it does not
document, such as asyncio's on a transport the server reset), is sent once more on a new
connection: the one it failed on is ended first, unless it is already gone. That is safe, as save
is an upsert, load and scan only read, and pop's record is gone either way. A timeout is not
sent again (a second wait would double the delay). What fails twice, or times out, is a
StoreUnavailable naming the server (no password) and the cause; our own code runs outside
the catch, so its errors are never disguised as the store's.

asyncpg prepares each statement once per connection (its statement cache): behind PgBouncer
in transaction mode, that needs PgBouncer 1.21 or later with max_prepared_statements set.
"""

from __future__ import annotations

import asyncio
import inspect
import re
import time
from typing import TYPE_CHECKING, Any

import asyncpg  # type: ignore[import-untyped]  # asyncpg ships no type information

from . import StoreUnavailable
from .failures import describe_failure, mask_password
from .record import ConnectionRecord, Member, live

if TYPE_CHECKING:
    from collections.abc import AsyncIterator

TABLE = "asgi_lambda_connections"
MIN_CONNECTIONS = 0  # none held until the first event that needs one
MAX_CONNECTIONS = 4
CONNECT_TIMEOUT = 5.0  # seconds; an unreachable server fails the invocation fast, not at Lambda's timeout

# Letters, digits and underscores, not starting with a digit; at most 52 characters, so the
# index name "<table>_expires_at" stays within PostgreSQL's 63-character identifier limit.
_TABLE_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,51}")


async def _keep_session(connection: Any) -> None:
    """Replaces asyncpg's reset on release, a round trip per operation (RESET ALL, UNLISTEN *, ...).

    This store never changes session state, so there is nothing to reset; asyncpg still rolls
    back a transaction left open before calling this.
    """


# `reset=` arrived in asyncpg 0.30; older versions keep their default reset query.
_POOL_OPTIONS: dict[str, Any] = {"reset": _keep_session} if "reset" in inspect.signature(asyncpg.create_pool).parameters else {}


class PostgresStore:
    name = "postgresql"
    page = 1000  # room members read per statement

    def __init__(self, dsn: str, *, table: str = TABLE) -> None:
        if not _TABLE_NAME.fullmatch(table):
            raise ValueError(
                f"postgresql store: invalid table name {table!r}: use 1 to 52 letters, digits and "
                "underscores, not starting with a digit (no schema, quotes or spaces)"
            )
        self.dsn = dsn
        self.table = table
        self._where = f"postgresql store at {mask_password(dsn)}"
        self._pool: Any = None  # asyncpg.Pool, made on first use
        self._creating = asyncio.Lock()  # overlapping first calls make one pool and one table
        quoted = f'"{table}"'  # validated above; quoted so reserved words (user, order) work too
        self._create_sql = (
            f"CREATE TABLE IF NOT EXISTS {quoted} "
            "(connection_id TEXT PRIMARY KEY, data TEXT NOT NULL, expires_at BIGINT NOT NULL); "
            f'CREATE INDEX IF NOT EXISTS "{table}_expires_at" ON {quoted} (expires_at); ' + rooms_table_sql(table)
        )
        self._save_sql = (
            f"INSERT INTO {quoted} (connection_id, data, expires_at) VALUES ($1, $2, $3) "
            "ON CONFLICT (connection_id) DO UPDATE SET data = EXCLUDED.data, expires_at = EXCLUDED.expires_at"
        )
        self._load_sql = f"SELECT data FROM {quoted} WHERE connection_id = $1 AND expires_at > $2"
        self._pop_sql = f"DELETE FROM {quoted} WHERE connection_id = $1 RETURNING data"
        self._scan_sql = f"SELECT connection_id, data FROM {quoted} WHERE expires_at > $1"
        self._rooms_statements(table)

    async def _get_pool(self) -> Any:
        if self._pool is None:
            async with self._creating:
                if self._pool is None:
                    pool = await asyncpg.create_pool(
                        self.dsn,
                        min_size=MIN_CONNECTIONS,
                        max_size=MAX_CONNECTIONS,
                        timeout=CONNECT_TIMEOUT,
                        **_POOL_OPTIONS,
                    )
                    try:
                        async with pool.acquire() as connection:
                            await self._create_table(connection)
                    except BaseException:
                        pool.terminate()  # the next call starts over
                        raise
                    self._pool = pool
        return self._pool

    async def _create_table(self, connection: Any) -> None:
        try:
            await connection.execute(self._create_sql)
        except (asyncpg.UniqueViolationError, asyncpg.DuplicateTableError, asyncpg.DuplicateObjectError):
            # Two environments creating the table at the same moment: IF NOT EXISTS is not atomic
            # in PostgreSQL, and the loser sees a duplicate. The table now exists; check once more.
            await connection.execute(self._create_sql)

    async def _run(self, method: str, sql: str, *arguments: object) -> Any:
        try:
            try:
                return await self._statement(method, sql, arguments)
            except TimeoutError:
                raise
            except Exception:  # anything asyncpg raises: only its calls run in _statement
                return await self._statement(method, sql, arguments)
        except Exception as exc:
            raise StoreUnavailable(
                f"{self._where}: {describe_failure(exc, self.dsn, timeouts=(TimeoutError,), connect_timeout=CONNECT_TIMEOUT)}"
            ) from exc

    async def _statement(self, method: str, sql: str, arguments: tuple[object, ...]) -> Any:
        """One try: the pool (made on first use), one of its connections, the statement."""
        pool = await self._get_pool()
        async with pool.acquire() as connection:
            try:
                return await getattr(connection, method)(sql, *arguments)
            except Exception:
                # The server ended the session (restart, failover, idle timeout), or the connection
                # is in a state we cannot know: either way, the next try must not get it back.
                if not _closed(connection):
                    connection.terminate()
                raise

    async def save(self, record: ConnectionRecord) -> None:
        if record.rooms:
            rooms = list(dict.fromkeys(record.rooms))
            arguments = (record.connection_id, record.to_json(), record.expires_at, record.endpoint, rooms)
            await self._run("execute", self._save_with_rooms_sql, *arguments)
            return
        await self._run("execute", self._save_sql, record.connection_id, record.to_json(), record.expires_at)

    async def update(self, record: ConnectionRecord) -> bool:
        updated = await self._run("fetchval", self._update_sql, record.connection_id, record.to_json(), int(time.time()))
        return updated is not None

    async def join(self, member: Member, room: str) -> bool:
        joined = await self._run("fetchval", self._join_sql, room, member.endpoint, member.connection_id, int(time.time()))
        return joined is not None

    async def leave(self, member: Member, room: str) -> None:
        await self._run("execute", self._leave_sql, room, member.connection_id)

    async def rooms(self, connection_id: str) -> set[str]:
        rows = await self._run("fetch", self._rooms_sql, connection_id, int(time.time()))
        return {row[0] for row in rows}

    async def members(self, room: str) -> AsyncIterator[list[Member]]:
        after = ""
        now = int(time.time())
        while True:
            rows = await self._run("fetch", self._members_sql, room, after, now, self.page)
            if rows:
                yield [Member(row[0], row[1], row[2]) for row in rows]
            if len(rows) < self.page:
                return
            after = rows[-1][0]

    def _rooms_statements(self, table: str) -> None:
        """The statements of rooms: each one round trip, the membership table's foreign key making
        a membership impossible without its connection's row, and deleting it with that row."""
        quoted, members = f'"{table}"', f'"{table}_rooms"'
        upsert = "ON CONFLICT (room, connection_id) DO UPDATE SET endpoint = EXCLUDED.endpoint, expires_at = EXCLUDED.expires_at"
        # $connect with the rooms joined while it was accepted: the row and its memberships in one statement.
        self._save_with_rooms_sql = (
            f"WITH saved AS ({self._save_sql} RETURNING connection_id, expires_at) "
            f"INSERT INTO {members} (room, connection_id, endpoint, expires_at) "
            f"SELECT room, saved.connection_id, $4, saved.expires_at FROM saved, unnest($5::text[]) AS room {upsert}"
        )
        self._update_sql = f"UPDATE {quoted} SET data = $2 WHERE connection_id = $1 AND expires_at > $3 RETURNING true"
        self._join_sql = (
            f"INSERT INTO {members} (room, connection_id, endpoint, expires_at) "
            f"SELECT $1, connection_id, $2, expires_at FROM {quoted} WHERE connection_id = $3 AND expires_at > $4 "
            f"{upsert} RETURNING true"
        )
        self._leave_sql = f"DELETE FROM {members} WHERE room = $1 AND connection_id = $2"
        self._rooms_sql = f"SELECT room FROM {members} WHERE connection_id = $1 AND expires_at > $2"
        self._members_sql = (
            f"SELECT connection_id, endpoint, expires_at FROM {members} "
            "WHERE room = $1 AND connection_id > $2 AND expires_at > $3 ORDER BY connection_id LIMIT $4"
        )

    async def load(self, connection_id: str) -> ConnectionRecord | None:
        return live(await self._run("fetchval", self._load_sql, connection_id, int(time.time())), key=connection_id)

    async def pop(self, connection_id: str) -> ConnectionRecord | None:
        return live(await self._run("fetchval", self._pop_sql, connection_id), key=connection_id)

    async def scan(self) -> list[ConnectionRecord]:
        rows = await self._run("fetch", self._scan_sql, int(time.time()))
        return [record for key, data in rows if (record := live(data, key=key)) is not None]

    async def close(self) -> None:
        pool, self._pool = self._pool, None
        if pool is not None:
            await pool.close()


def rooms_table_sql(table: str) -> str:
    """The memberships' table, `<table>_rooms`: keyed (room, connection_id), so a room's members are
    one index range; its foreign key deletes a connection's memberships with its row."""
    return (
        f'CREATE TABLE IF NOT EXISTS "{table}_rooms" (room TEXT NOT NULL, '
        f'connection_id TEXT NOT NULL REFERENCES "{table}" (connection_id) ON DELETE CASCADE, '
        "endpoint TEXT NOT NULL, expires_at BIGINT NOT NULL, PRIMARY KEY (room, connection_id)); "
        f'CREATE INDEX IF NOT EXISTS "{table}_rooms_c" ON "{table}_rooms" (connection_id)'
    )


def _closed(connection: Any) -> bool:
    """Whether the connection is closed already, so the pool opens a new one in its place."""
    try:
        return bool(connection.is_closed())
    except asyncpg.InterfaceError:  # the pool has already taken the closed connection back
        return True
