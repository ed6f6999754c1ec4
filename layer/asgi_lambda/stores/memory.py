"""In-process store: for tests and single-process local runs; nothing survives the process."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator

from .record import ConnectionRecord, Member, live


class MemoryStore:
    name = "memory"
    page = 1000  # room members per page, as a backend that pages would give them

    def __init__(self) -> None:
        self.records: dict[str, str] = {}  # JSON, as other stores keep it: no shared mutable state
        self.room_members: dict[str, dict[str, Member]] = {}  # room -> connection id -> member
        self.memberships: dict[str, set[str]] = {}  # connection id -> its rooms

    async def save(self, record: ConnectionRecord) -> None:
        self._drop_rooms(record.connection_id)
        self.records[record.connection_id] = record.to_json()
        for room in record.rooms:
            self._add(record.member(), room)

    async def load(self, connection_id: str) -> ConnectionRecord | None:
        return live(self.records.get(connection_id), key=connection_id)

    async def update(self, record: ConnectionRecord) -> bool:
        if live(self.records.get(record.connection_id), key=record.connection_id) is None:
            return False
        self.records[record.connection_id] = record.to_json()
        return True

    async def pop(self, connection_id: str) -> ConnectionRecord | None:
        self._drop_rooms(connection_id)
        return live(self.records.pop(connection_id, None), key=connection_id)

    async def scan(self) -> list[ConnectionRecord]:
        return [record for key, data in list(self.records.items()) if (record := live(data, key=key)) is not None]

    async def join(self, member: Member, room: str) -> bool:
        if live(self.records.get(member.connection_id), key=member.connection_id) is None:
            return False
        self._add(member, room)
        return True

    async def leave(self, member: Member, room: str) -> None:
        self.room_members.get(room, {}).pop(member.connection_id, None)
        if not self.room_members.get(room, True):
            del self.room_members[room]
        self.memberships.get(member.connection_id, set()).discard(room)

    async def rooms(self, connection_id: str) -> set[str]:
        if live(self.records.get(connection_id), key=connection_id) is None:
            return set()
        return set(self.memberships.get(connection_id, ()))

    async def members(self, room: str) -> AsyncIterator[list[Member]]:
        now = time.time()
        found = [member for member in list(self.room_members.get(room, {}).values()) if member.expires_at > now]
        for start in range(0, len(found), self.page):
            yield found[start : start + self.page]

    async def close(self) -> None:
        pass

    def _add(self, member: Member, room: str) -> None:
        self.room_members.setdefault(room, {})[member.connection_id] = member
        self.memberships.setdefault(member.connection_id, set()).add(room)

    def _drop_rooms(self, connection_id: str) -> None:
        for room in self.memberships.pop(connection_id, ()):
            members = self.room_members.get(room, {})
            members.pop(connection_id, None)
            if not members:
                self.room_members.pop(room, None)
