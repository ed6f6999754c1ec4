"""Rooms: named sets of connections that a broadcast can reach alone.

    from asgi_lambda.websocket import join, leave, rooms, broadcast

    await join(connection_id, "room-1")            # True; False for a connection the store does not know
    await leave(connection_id, "room-1")           # no error for an unknown room or connection
    await rooms(connection_id)                     # {"room-1"}
    await broadcast("hi", room="room-1", exclude={me})

A room's name is 1 to 128 characters, each a letter, a digit or one of . _ : @ / - (ValueError
otherwise). Each store keeps the memberships indexed by room (stores/), so that a room's
broadcast reads only its members. A connection leaves every room when it disconnects, when API
Gateway answers 410 for it, or when its record expires.

During $connect the connection is not stored yet: what the app joins then is written with it, in
the same write where the store allows, if the app accepts. When the app replays its connect phase
on a later event, `join` and `leave` write nothing (`join` returns True): they ran at $connect.
"""

from __future__ import annotations

from ..stores.record import Member, check_room
from .cycle import CURRENT_CYCLE
from .hub import ConnectionHub, current
from .session import event_connection


async def join(connection_id: str, room: str) -> bool:
    """Make the connection a member of the room (joining again changes nothing). False when the
    store does not know the connection (or it has expired): then nothing is stored."""
    check_room(room)
    own = event_connection(connection_id)
    if own is not None and own.connecting:
        if room not in own.rooms:
            own.rooms.append(room)
        return True
    if replaying():
        return True  # joined at $connect already
    hub = current()
    member = await member_of(hub, connection_id)
    if member is None:
        return False
    return await hub.store.join(member, room)


async def leave(connection_id: str, room: str) -> None:
    """End the connection's membership of the room; nothing happens when there is none."""
    check_room(room)
    own = event_connection(connection_id)
    if own is not None and own.connecting:
        if room in own.rooms:
            own.rooms.remove(room)
        return
    if replaying():
        return
    hub = current()
    member = await member_of(hub, connection_id)
    if member is not None:
        await hub.store.leave(member, room)


async def rooms(connection_id: str) -> set[str]:
    """The rooms the connection is in; empty for a connection the store does not know or that has expired."""
    own = event_connection(connection_id)
    if own is not None and own.connecting:
        return set(own.rooms)
    return await current().store.rooms(connection_id)


async def member_of(hub: ConnectionHub, connection_id: str) -> Member | None:
    """The connection as a room holds it: from the running event's record when it is that one's
    (no read), else from the store."""
    own = event_connection(connection_id)
    if own is not None and own.record is not None:
        return own.record.member()
    record = await hub.store.load(connection_id)
    return None if record is None else record.member()


def replaying() -> bool:
    cycle = CURRENT_CYCLE.get()
    return cycle is not None and cycle.replaying
