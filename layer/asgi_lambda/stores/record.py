"""The stored connection: what later invocations need to serve a WebSocket connection, and the
expiry rule every store applies to it.

A store keeps the record as JSON (`to_json`) and turns what it reads back into a record with
`live()`, which also drops a record past its expiry: backends remove expired records late
(DynamoDB's TTL by up to days) or not at all, so no store returns one.
"""

from __future__ import annotations

import json
import time
from typing import Any


class ConnectionRecord:
    """One WebSocket connection as stored.

    `scope` holds the JSON-safe parts of the $connect scope (path, query_string and headers as
    text, subprotocols, client), `endpoint` the Management API URL replies go to, `pending` what
    the app sent during $connect, to deliver once the connection is open.
    """

    __slots__ = ("connection_id", "endpoint", "scope", "expires_at", "pending")

    def __init__(
        self,
        connection_id: str,
        *,
        endpoint: str,
        scope: dict[str, Any],
        expires_at: int,
        pending: list[dict[str, Any]] | None = None,
    ) -> None:
        self.connection_id = connection_id
        self.endpoint = endpoint
        self.scope = scope
        self.expires_at = expires_at
        self.pending = pending or []

    def expired(self, now: float | None = None) -> bool:
        return self.expires_at <= (time.time() if now is None else now)

    def to_json(self) -> str:
        return json.dumps(
            {
                "connection_id": self.connection_id,
                "endpoint": self.endpoint,
                "scope": self.scope,
                "expires_at": self.expires_at,
                "pending": self.pending,
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
