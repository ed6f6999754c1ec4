"""SQLite store (WS_SQLITE_PATH): for local development and the local gateway; standard library only.

Statements run on the event loop's thread: each is a local file operation of well under a
millisecond. The tables are created once per environment, idempotently.

The file is private to the user: its directory is created 0700 and the file 0600 (SQLite gives its
-wal and -shm files the file's mode), and a file or directory another user owns, or one that group
or others may write, is refused. The records hold where replies go, signed with the function's
credentials, and what the $connect request carried: on a shared machine, a file another user made
first (in /tmp, say) would let them redirect replies and read sessions. The default path,
/tmp/asgi-lambda-{uid}/, is the user's own for that reason.

Rooms: a table of memberships keyed (room, connection_id), each row with the member's endpoint and
expiry, and a foreign key to its connection's row that deletes it with that row (ON DELETE
CASCADE): a membership can neither outlive its connection nor be written without it. A room's
members are read page by page on that key (no scan of the connections).
"""

from __future__ import annotations

import os
import sqlite3
import stat
import time
from collections.abc import AsyncIterator
from typing import Any

from . import StoreUnavailable
from .record import ConnectionRecord, Member, live
from .registry import SQLITE_DEFAULT_PATH

TABLE = "asgi_lambda_connections"
MEMBERS = "asgi_lambda_room_members"


def private_path(path: str) -> str:
    """The path, `{uid}` (the default's) replaced by this user's id."""
    return path.replace("{uid}", str(os.getuid()))


def prepare(path: str, *, create_directory: bool) -> None:
    """Create the file (0600) where missing, and its directory (0700) if asked; refuse them if another
    user owns them or group or others may write them (OSError, or PermissionError with the reason)."""
    directory = os.path.dirname(os.path.abspath(path))
    if create_directory:
        os.makedirs(directory, mode=0o700, exist_ok=True)
    check_private(os.stat(directory), directory, "directory")
    # O_NOFOLLOW: a symbolic link planted at the path is refused rather than followed.
    fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC, 0o600)
    try:
        found = os.fstat(fd)
        check_private(found, path, "file")
        if stat.S_IMODE(found.st_mode) & 0o077:
            os.fchmod(fd, 0o600)  # one of ours, made readable to others by an older version: no longer
    finally:
        os.close(fd)


def check_private(found: os.stat_result, where: str, what: str) -> None:
    # On Lambda one user runs the function, and an EFS access point owns its files under a POSIX
    # user of its own: there, only the mode is checked.
    on_lambda = bool(os.environ.get("AWS_LAMBDA_FUNCTION_NAME")) and os.environ.get("AWS_SAM_LOCAL") != "true"
    if found.st_uid not in (os.getuid(), 0) and not on_lambda:
        raise PermissionError(
            f"the {what} {where!r} belongs to another user (uid {found.st_uid}), who could plant connection records "
            "in it and read the stored ones; use a file in a directory of your own"
        )
    if found.st_mode & 0o022:
        raise PermissionError(
            f"the {what} {where!r} is writable by group or others (mode {stat.S_IMODE(found.st_mode):04o}), who could "
            f"plant connection records in it and read the stored ones; chmod go-w {where}, or use a directory only you can write"
        )


class SqliteStore:
    name = "sqlite"
    page = 1000  # room members read per statement

    def __init__(self, path: str) -> None:
        self.path = private_path(path)
        self.create_directory = path == SQLITE_DEFAULT_PATH  # the default's: a file elsewhere needs its directory
        self._db: sqlite3.Connection | None = None

    def _connect(self) -> sqlite3.Connection:
        if self._db is None:
            if self.path != ":memory:":
                try:
                    prepare(self.path, create_directory=self.create_directory)
                except OSError as exc:
                    raise StoreUnavailable(f"sqlite store at WS_SQLITE_PATH={self.path!r}: {exc.strerror or exc}") from exc
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

    def _run(self, sql: str, *parameters: object) -> list[Any]:
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
        return live(rows[0][0], key=connection_id) if rows else None

    async def pop(self, connection_id: str) -> ConnectionRecord | None:
        rows = self._run(f"DELETE FROM {TABLE} WHERE connection_id = ? RETURNING data", connection_id)
        return live(rows[0][0], key=connection_id) if rows else None

    async def scan(self) -> list[ConnectionRecord]:
        rows = self._run(f"SELECT connection_id, data FROM {TABLE} WHERE expires_at > ?", int(time.time()))
        return [record for key, data in rows if (record := live(data, key=key)) is not None]

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
