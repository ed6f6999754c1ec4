"""Where WebSocket connections live between invocations: one record per connection, and an
index of rooms.

This module is each store's contract (`Store`) and what stores reached by URL share; the
record and its expiry rule are in `record.py`, the list of stores in `registry.py`. A store's
module, and its library, is imported only when that store is chosen; `failures.py` words
the errors of stores reached by URL.

Per event: `save` on $connect (the record, its session and the rooms joined while it was being
accepted), `load` per message, `update` when a message changed the session (or delivered what
$connect kept), `pop` (delete and return, in one operation where the backend allows, its rooms
with it) on $disconnect; `scan` for broadcasts to everyone, `members` for a room's. No store ever
returns an expired record, nor a room member whose record has expired; no membership outlives
its connection's record.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

from ..exceptions import StoreUnavailable

__all__ = ["Store", "StoreUnavailable"]

if TYPE_CHECKING:
    from collections.abc import AsyncIterator

    from .record import ConnectionRecord, Member


class Store(Protocol):
    """A connection store. Made once per execution environment; its clients and pools are reused."""

    name: str

    async def save(self, record: ConnectionRecord) -> None:
        """Write the record, replacing any with the same id, and make it a member of `record.rooms`:
        one write where the backend allows."""

    async def load(self, connection_id: str) -> ConnectionRecord | None:
        """The record, or None when there is none or it has expired (one read, no write)."""

    async def update(self, record: ConnectionRecord) -> bool:
        """Write the record over the stored one (its pending messages, its session), only if that
        one is still there: never brings back a connection that has gone. Rooms are left as they
        are. False when there was none."""

    async def pop(self, connection_id: str) -> ConnectionRecord | None:
        """Delete the record and its memberships and return what it was, None when there was none
        or it had expired."""

    async def scan(self) -> list[ConnectionRecord]:
        """Every record that has not expired, for broadcasts."""

    async def join(self, member: Member, room: str) -> bool:
        """Make the connection a member of the room (again: no change), only if its record is
        still stored and live, in one atomic write where the backend allows. False otherwise."""

    async def leave(self, member: Member, room: str) -> None:
        """End the membership; nothing happens when there is none."""

    async def rooms(self, connection_id: str) -> set[str]:
        """The rooms the connection is in; empty when it is unknown or has expired."""

    def members(self, room: str) -> AsyncIterator[list[Member]]:
        """The room's live members, page by page as the backend reads them: one indexed read each."""

    async def close(self) -> None:
        """Release clients, pools and their connections. The store stays usable: its next call opens
        what it needs again (SnapStart closes every store before the snapshot)."""
