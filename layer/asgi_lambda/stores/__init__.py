"""Where WebSocket connections live between invocations: one record per connection.

This module is each store's contract (`Store`) and what stores reached by URL share; the
record and its expiry rule are in `record.py`, the list of stores in `registry.py`. A store's
module, and its library, is imported only when that store is chosen; `failures.py` words
the errors of stores reached by URL.

Per event: `save` on $connect, `load` per message, `pop` (delete and return, in one operation
where the backend allows) on $disconnect, `scan` for broadcasts. No store ever returns an
expired record.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

from ..exceptions import StoreUnavailable

__all__ = ["Store", "StoreUnavailable"]

if TYPE_CHECKING:
    from .record import ConnectionRecord


class Store(Protocol):
    """A connection store. Made once per execution environment; its clients and pools are reused."""

    name: str

    async def save(self, record: ConnectionRecord) -> None:
        """Write the record (one write), replacing any with the same id."""

    async def load(self, connection_id: str) -> ConnectionRecord | None:
        """The record, or None when there is none or it has expired (one read, no write)."""

    async def pop(self, connection_id: str) -> ConnectionRecord | None:
        """Delete the record and return what it was, None when there was none or it had expired."""

    async def scan(self) -> list[ConnectionRecord]:
        """Every record that has not expired, for broadcasts."""

    async def close(self) -> None:
        """Release clients, pools and their connections. The store stays usable: its next call opens
        what it needs again (SnapStart closes every store before the snapshot)."""
