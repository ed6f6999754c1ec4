"""The stored connection: what later invocations need to serve a WebSocket connection, and the
expiry rule every store applies to it.

A store keeps the record as JSON (`to_json`) and turns what it reads back into a record with
`live()`, which also drops a record past its expiry: backends remove expired records late
(DynamoDB's TTL by up to days) or not at all, so no store returns one.

A connection's rooms are not part of its JSON: each store keeps them in an index of its own, so
that a room's members are read without reading every connection (`Member` is what that index
holds of a connection, `check_room` the rule a room's name follows).
"""

from __future__ import annotations

import json
import re
import time
from typing import Any, NamedTuple


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
        record = json.loads(data)
        return cls(
            record["connection_id"],
            endpoint=record["endpoint"],
            scope=record["scope"],
            expires_at=record["expires_at"],
            pending=record.get("pending"),
            session=record.get("session"),  # absent from records stored before sessions
        )

    def __eq__(self, other: object) -> bool:
        return isinstance(other, ConnectionRecord) and self.to_json() == other.to_json()

    def __repr__(self) -> str:
        return f"ConnectionRecord({self.connection_id!r}, expires_at={self.expires_at})"


def live(data: str | bytes | None) -> ConnectionRecord | None:
    """The record stored as `data`, None when there is none or it has expired."""
    if data is None:
        return None
    record = ConnectionRecord.from_json(data)
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
