"""SQLite store (WS_SQLITE_PATH): for local development and the local gateway; standard library only.

Statements run on the event loop's thread: each is a local file operation of well under a
millisecond. The table is created once per environment, idempotently.
"""

from __future__ import annotations

import sqlite3
import time

from . import StoreUnavailable
from .record import ConnectionRecord, live

TABLE = "asgi_lambda_connections"


class SqliteStore:
    name = "sqlite"

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
            except sqlite3.Error as exc:
                raise StoreUnavailable(f"sqlite store at WS_SQLITE_PATH={self.path!r}: {exc}") from exc
            self._db = db
        return self._db

    def _run(self, sql: str, *parameters: object) -> list[tuple[str]]:
        try:
            return self._connect().execute(sql, parameters).fetchall()
        except sqlite3.Error as exc:
            raise StoreUnavailable(f"sqlite store at WS_SQLITE_PATH={self.path!r}: {exc}") from exc

    async def save(self, record: ConnectionRecord) -> None:
        self._run(
            f"INSERT OR REPLACE INTO {TABLE} (connection_id, data, expires_at) VALUES (?, ?, ?)",
            record.connection_id,
            record.to_json(),
            record.expires_at,
        )

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
