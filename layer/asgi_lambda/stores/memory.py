"""In-process store: for tests and single-process local runs; nothing survives the process."""

from __future__ import annotations

from .record import ConnectionRecord, live


class MemoryStore:
    name = "memory"

    def __init__(self) -> None:
        self.records: dict[str, str] = {}  # JSON, as other stores keep it: no shared mutable state

    async def save(self, record: ConnectionRecord) -> None:
        self.records[record.connection_id] = record.to_json()

    async def load(self, connection_id: str) -> ConnectionRecord | None:
        return live(self.records.get(connection_id), key=connection_id)

    async def pop(self, connection_id: str) -> ConnectionRecord | None:
        return live(self.records.pop(connection_id, None), key=connection_id)

    async def scan(self) -> list[ConnectionRecord]:
        return [record for key, data in list(self.records.items()) if (record := live(data, key=key)) is not None]

    async def close(self) -> None:
        pass
