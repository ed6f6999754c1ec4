"""In-process store: for tests and single-process local runs; nothing survives the process."""

from __future__ import annotations

from . import Connection


class MemoryStore:
    name = "memory"

    def __init__(self) -> None:
        self.records: dict[str, str] = {}  # JSON, as other stores keep it: no shared mutable state

    async def save(self, connection: Connection) -> None:
        self.records[connection.connection_id] = connection.to_json()

    async def load(self, connection_id: str) -> Connection | None:
        data = self.records.get(connection_id)
        connection = Connection.from_json(data) if data else None
        return None if connection is None or connection.expired() else connection

    async def pop(self, connection_id: str) -> Connection | None:
        data = self.records.pop(connection_id, None)
        connection = Connection.from_json(data) if data else None
        return None if connection is None or connection.expired() else connection

    async def scan(self) -> list[Connection]:
        connections = (Connection.from_json(data) for data in self.records.values())
        return [connection for connection in connections if not connection.expired()]

    async def close(self) -> None:
        pass
