"""The stored connection: what later invocations need to serve a WebSocket connection, and the
expiry rule every store applies to it.

A store keeps the record as JSON (`to_json`) and turns what it reads back into a record with
`live()`, which also drops a record past its expiry: backends remove expired records late
(DynamoDB's TTL by up to days) or not at all, so no store returns one. A record that is not one
(not JSON, a field missing or of another type: written by another program, or cut short) is
skipped too, and logged once with its key, so one bad record never breaks every broadcast; the
connection's $disconnect, or a send that finds it gone, removes it.

A connection's rooms are not part of its JSON: each store keeps them in an index of its own, so
that a room's members are read without reading every connection (`Member` is what that index
holds of a connection, `check_room` the rule a room's name follows).
"""

from __future__ import annotations

import json
import logging
import re
import time
from typing import Any, NamedTuple

logger = logging.getLogger("asgi_lambda.websocket")

# The keys of corrupt records logged so far in this environment: each is logged once (bounded).
REPORTED: set[str] = set()


class ConnectionRecord:
    """One WebSocket connection as stored.

    `scope` holds the JSON-safe parts of the $connect scope (path, query_string and headers as
    text, subprotocols, client), `endpoint` the Management API URL replies go to, `pending` what
    the app sent during $connect, to deliver once the connection is open, `session` the app's
    `scope["aws.session"]` as last saved. `rooms` are the rooms joined while the connection was
    being accepted, which `Store.save` writes with it; a loaded record's are empty (`Store.rooms`
    reads them).
    """

    __slots__ = ("connection_id", "endpoint", "scope", "expires_at", "pending", "session", "rooms")

    def __init__(
        self,
        connection_id: str,
        *,
        endpoint: str,
        scope: dict[str, Any],
        expires_at: int,
        pending: list[dict[str, Any]] | None = None,
        session: dict[str, Any] | None = None,
        rooms: list[str] | None = None,
    ) -> None:
        self.connection_id = connection_id
        self.endpoint = endpoint
        self.scope = scope
        self.expires_at = expires_at
        self.pending = pending or []
        self.session = session or {}
        self.rooms = rooms or []

    def expired(self, now: float | None = None) -> bool:
        return self.expires_at <= (time.time() if now is None else now)

    def member(self) -> Member:
        """What a room's index keeps of this connection."""
        return Member(self.connection_id, self.endpoint, self.expires_at)

    def to_json(self) -> str:
        return json.dumps(
            {
                "connection_id": self.connection_id,
                "endpoint": self.endpoint,
                "scope": self.scope,
                "expires_at": self.expires_at,
                "pending": self.pending,
                "session": self.session,
            },
            separators=(",", ":"),
        )

    @classmethod
    def from_json(cls, data: str | bytes) -> ConnectionRecord:
        """The record `data` holds; ValueError naming the first field that is not as `to_json` writes it."""
        record = json.loads(data)
        if not isinstance(record, dict):
            raise ValueError(f"a JSON {type(record).__name__}, not an object")
        for field, kind in FIELDS.items():
            if not isinstance(record.get(field), kind) or isinstance(record.get(field), bool):
                raise ValueError(f"{field} is {'missing' if field not in record else type(record[field]).__name__}")
        pending = record.get("pending")
        if pending is not None and not (isinstance(pending, list) and all(isinstance(item, dict) for item in pending)):
            raise ValueError("pending is not a list of objects")
        session = record.get("session")  # absent from records stored before sessions
        if session is not None and not isinstance(session, dict):
            raise ValueError(f"session is {type(session).__name__}, not an object")
        return cls(
            record["connection_id"],
            endpoint=record["endpoint"],
            scope=record["scope"],
            expires_at=record["expires_at"],
            pending=pending,
            session=session,
        )

    def __eq__(self, other: object) -> bool:
        return isinstance(other, ConnectionRecord) and self.to_json() == other.to_json()

    def __repr__(self) -> str:
        return f"ConnectionRecord({self.connection_id!r}, expires_at={self.expires_at})"


# The fields `to_json` writes, and their types.
FIELDS: dict[str, type] = {"connection_id": str, "endpoint": str, "scope": dict, "expires_at": int}


def live(data: str | bytes | None, *, key: str) -> ConnectionRecord | None:
    """The record stored as `data` under `key` (the store's own: item key, object key, Redis key),
    None when there is none, it has expired, or it is not a record (logged once)."""
    if data is None:
        return None
    try:
        record = ConnectionRecord.from_json(data)
    except ValueError as exc:  # json.JSONDecodeError and UnicodeDecodeError are ValueErrors
        if key not in REPORTED:
            if len(REPORTED) > 1024:
                REPORTED.clear()
            REPORTED.add(key)
            logger.error("Connection record %r skipped: not a record (%s); its $disconnect will remove it", key, exc)
        return None
    return None if record.expired() else record


class Member(NamedTuple):
    """A connection as a room's index holds it: enough to post to it, and its expiry."""

    connection_id: str
    endpoint: str
    expires_at: int


# 1 to 128 characters, each a letter, a digit or one of . _ : @ / -
ROOM_NAME = re.compile(r"[A-Za-z0-9._:@/-]{1,128}")
ROOM_RULE = "1 to 128 characters, each a letter, a digit or one of . _ : @ / -"


def check_room(room: object) -> str:
    """The room's name, or ValueError naming the rule it breaks."""
    if not isinstance(room, str) or not ROOM_NAME.fullmatch(room):
        raise ValueError(f"room name {room!r}: expected {ROOM_RULE}")
    return room
