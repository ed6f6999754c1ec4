"""Sending to WebSocket clients from anywhere in the app, HTTP handlers included:

    from asgi_lambda import broadcast, send      # or: from asgi_lambda.websocket import ...

    await send(connection_id, "hello")                  # True if delivered, False if the client is gone
    await broadcast("news", exclude={me})               # how many clients it reached
    await broadcast("hi", room="room-1", exclude={me})  # a room's members only (rooms.py)

The current connection's id is `scope["aws.connection_id"]`. A client API Gateway reports gone
(410) is removed from the store as it is found, and not counted.

A broadcast reads its audience from the store (every connection, or the room's members, page by
page). With WS_FANOUT_QUEUE_URL set and an audience larger than WS_FANOUT_THRESHOLD, it queues the
audience in pages instead of posting (fanout.py) and returns how many it queued; otherwise it
posts from this invocation, and the first broadcast in an environment that takes more than 10 s
says so in the log. A message over API Gateway's 128 KB is refused before anything is read.
"""

from __future__ import annotations

import logging
import time
from collections.abc import AsyncIterator, Iterable

from ..exceptions import MessageTooLarge
from ..stores.record import Member, check_room
from .cycle import CURRENT_CYCLE
from .delivery import post, post_all
from .hub import ConnectionHub, current
from .management_api import MAX_MESSAGE_BYTES

logger = logging.getLogger("asgi_lambda.websocket")

SLOW_SECONDS = 10.0  # a broadcast slower than this, without a fan-out queue, is logged (once)
_slow_logged = False


async def send(connection_id: str, message: str | bytes) -> bool:
    """Send one message to one connection; False when it is unknown or gone (or when the app is
    replaying its connect phase, whose messages went out at $connect)."""
    if replaying():
        return False
    hub = current()
    record = await hub.store.load(connection_id)
    if record is None:
        return False
    return await post(hub, record.member(), message.encode() if isinstance(message, str) else message) == "sent"


async def broadcast(message: str | bytes, *, room: str | None = None, exclude: Iterable[str] = ()) -> int:
    """Send one message to every stored connection, or to the room's members, but those excluded.
    Returns how many got it (gone ones not counted), or, when the audience goes through the
    fan-out queue, how many were queued."""
    if room is not None:
        check_room(room)
    if replaying():
        return 0
    data = message.encode() if isinstance(message, str) else message
    if len(data) > MAX_MESSAGE_BYTES:
        raise MessageTooLarge(f"broadcast of {len(data)} bytes not sent: API Gateway's limit is {MAX_MESSAGE_BYTES} bytes")
    hub = current()
    pages = audience(hub, room, set(exclude))
    settings = hub.settings
    gathered: list[Member] = []
    async for page in pages:
        gathered.extend(page)
        if settings.fanout_queue_url is not None and len(gathered) > settings.fanout_threshold:
            from . import fanout  # only for an audience this large

            return await fanout.queue(hub, data, text=isinstance(message, str), room=room, read=gathered, rest=pages)
    started = time.monotonic()
    outcomes = await post_all(hub, gathered, data, room=room)
    took = time.monotonic() - started
    if took > SLOW_SECONDS:
        log_slow(len(gathered), took)
    return outcomes.count("sent")


async def audience(hub: ConnectionHub, room: str | None, skip: set[str]) -> AsyncIterator[list[Member]]:
    """Who a broadcast reaches, page by page: the room's members, or every stored connection."""
    if room is None:
        everyone = [record.member() for record in await hub.store.scan() if record.connection_id not in skip]
        if everyone:
            yield everyone
        return
    async for page in hub.store.members(room):
        kept = [member for member in page if member.connection_id not in skip]
        if kept:
            yield kept


def log_slow(count: int, seconds: float) -> None:
    global _slow_logged
    if _slow_logged:
        return
    _slow_logged = True
    logger.warning(
        "A broadcast to %d connections took %.1f s in this invocation; set WS_FANOUT_QUEUE_URL to send large "
        "audiences through SQS, posted by as many invocations as it takes (README: Fan-out over SQS)",
        count,
        seconds,
    )


def replaying() -> bool:
    cycle = CURRENT_CYCLE.get()
    return cycle is not None and cycle.replaying
