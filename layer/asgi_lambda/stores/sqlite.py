"""SQLite store (WS_SQLITE_PATH): for local development and the local gateway; standard library only.

Statements run on the event loop's thread: each is a local file operation of well under a
millisecond. The tables are created once per environment, idempotently.

Rooms: a table of memberships keyed (room, connection_id), each row with the member's endpoint and
expiry, and a foreign key to its connection's row that deletes it with that row (ON DELETE
CASCADE): a membership can neither outlive its connection nor be written without it. A room's
members are read page by page on that key (no scan of the connections).
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import AsyncIterator

from . import StoreUnavailable
from .record import ConnectionRecord, Member, live

TABLE = "asgi_lambda_connections"
MEMBERS = "asgi_lambda_room_members"


class SqliteStore:
    name = "sqlite"
    page = 1000  # room members read per statement

    def __init__(self, path: str) -> None:
        self.path = path
        self._db: sqlite3.Connection | None = None

    def _connect(self) -> sqlite3.Connection:
        if self._db is None:
            try:
                db = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
                db.execute("PRAGMA journal_mode=WAL")  # the local gateway's processes share the file
                db.execute(
                    f"CREATE TABLE IF NOT EXISTS {TABLE} (connection_id TEXT PRIMARY KEY, data TEXT NOT NULL, expires_at INTEGER NOT NULL)"
                )
                _prepare_rooms(db)
            except sqlite3.Error as exc:
                raise StoreUnavailable(f"sqlite store at WS_SQLITE_PATH={self.path!r}: {exc}") from exc
            self._db = db
        return self._db

    def _run(self, sql: str, *parameters: object) -> list[tuple[str]]:
        try:
            return self._connect().execute(sql, parameters).fetchall()
        except sqlite3.Error as exc:
            raise StoreUnavailable(f"sqlite store at WS_SQLITE_PATH={self.path!r}: {exc}") from exc

    def _rows(self, sql: str, *parameters: object) -> list[tuple[str, str, int]]:
        try:
            return self._connect().execute(sql, parameters).fetchall()
        except sqlite3.Error as exc:
            raise StoreUnavailable(f"sqlite store at WS_SQLITE_PATH={self.path!r}: {exc}") from exc

    def _changes(self, sql: str, *parameters: object) -> int:
        """Rows the statement changed."""
        try:
            return self._connect().execute(sql, parameters).rowcount
        except sqlite3.Error as exc:
            raise StoreUnavailable(f"sqlite store at WS_SQLITE_PATH={self.path!r}: {exc}") from exc

    def _transaction(self, statements: list[tuple[str, tuple[object, ...]]]) -> None:
        """The statements at once, or none of them."""
        try:
            db = self._connect()
            db.execute("BEGIN IMMEDIATE")
            try:
                for sql, parameters in statements:
                    db.execute(sql, parameters)
            except BaseException:
                db.execute("ROLLBACK")
                raise
            db.execute("COMMIT")
        except sqlite3.Error as exc:
            raise StoreUnavailable(f"sqlite store at WS_SQLITE_PATH={self.path!r}: {exc}") from exc

    async def save(self, record: ConnectionRecord) -> None:
        statements: list[tuple[str, tuple[object, ...]]] = [
            (
                f"INSERT OR REPLACE INTO {TABLE} (connection_id, data, expires_at) VALUES (?, ?, ?)",
                (record.connection_id, record.to_json(), record.expires_at),
            ),
            (f"DELETE FROM {MEMBERS} WHERE connection_id = ?", (record.connection_id,)),
        ]
        statements += [
            (
                f"INSERT INTO {MEMBERS} (room, connection_id, endpoint, expires_at) VALUES (?, ?, ?, ?)",
                (room, record.connection_id, record.endpoint, record.expires_at),
            )
            for room in dict.fromkeys(record.rooms)
        ]
        self._transaction(statements)

    async def update(self, record: ConnectionRecord) -> bool:
        changed = self._changes(
            f"UPDATE {TABLE} SET data = ? WHERE connection_id = ? AND expires_at > ?",
            record.to_json(),
            record.connection_id,
            int(time.time()),
        )
        return changed > 0

    async def join(self, member: Member, room: str) -> bool:
        # One statement: the membership is written only if the connection's live row is there.
        changed = self._changes(
            f"INSERT INTO {MEMBERS} (room, connection_id, endpoint, expires_at) "
            f"SELECT ?, connection_id, ?, expires_at FROM {TABLE} WHERE connection_id = ? AND expires_at > ? "
            "ON CONFLICT (room, connection_id) DO UPDATE SET endpoint = excluded.endpoint, expires_at = excluded.expires_at",
            room,
            member.endpoint,
            member.connection_id,
            int(time.time()),
        )
        return changed > 0

    async def leave(self, member: Member, room: str) -> None:
        self._run(f"DELETE FROM {MEMBERS} WHERE room = ? AND connection_id = ?", room, member.connection_id)

    async def rooms(self, connection_id: str) -> set[str]:
        rows = self._run(f"SELECT room FROM {MEMBERS} WHERE connection_id = ? AND expires_at > ?", connection_id, int(time.time()))
        return {room for (room,) in rows}

    async def members(self, room: str) -> AsyncIterator[list[Member]]:
        after = ""
        now = int(time.time())
        while True:
            rows = self._rows(
                f"SELECT connection_id, endpoint, expires_at FROM {MEMBERS} "
                "WHERE room = ? AND connection_id > ? AND expires_at > ? ORDER BY connection_id LIMIT ?",
                room,
                after,
                now,
                self.page,
            )
            if rows:
                yield [Member(*row) for row in rows]
            if len(rows) < self.page:
                return
            after = rows[-1][0]

    async def load(self, connection_id: str) -> ConnectionRecord | None:
        rows = self._run(f"SELECT data FROM {TABLE} WHERE connection_id = ? AND expires_at > ?", connection_id, int(time.time()))
        return live(rows[0][0]) if rows else None

    async def pop(self, connection_id: str) -> ConnectionRecord | None:
        rows = self._run(f"DELETE FROM {TABLE} WHERE connection_id = ? RETURNING data", connection_id)
        return live(rows[0][0]) if rows else None

    async def scan(self) -> list[ConnectionRecord]:
        rows = self._run(f"SELECT data FROM {TABLE} WHERE expires_at > ?", int(time.time()))
        return [record for (data,) in rows if (record := live(data)) is not None]

    async def close(self) -> None:
        if self._db is not None:
            self._db.close()
            self._db = None


def _prepare_rooms(db: sqlite3.Connection) -> None:
    """The memberships' table and index, and the foreign keys that delete a connection's memberships
    with it (SQLite enforces them only when asked, per connection)."""
    db.execute("PRAGMA foreign_keys=ON")
    db.execute(
        f"CREATE TABLE IF NOT EXISTS {MEMBERS} (room TEXT NOT NULL, "
        f"connection_id TEXT NOT NULL REFERENCES {TABLE} (connection_id) ON DELETE CASCADE, "
        "endpoint TEXT NOT NULL, expires_at INTEGER NOT NULL, PRIMARY KEY (room, connection_id)) WITHOUT ROWID"
    )
    db.execute(f"CREATE INDEX IF NOT EXISTS {MEMBERS}_connection ON {MEMBERS} (connection_id)")
