"""Sending to WebSocket clients from anywhere in the app, HTTP handlers included:

    from asgi_lambda import broadcast, send      # or: from asgi_lambda.websocket import ...

    await send(connection_id, "hello")      # True if delivered, False if the client is gone
    await broadcast("news", exclude={me})   # how many clients it reached

The current connection's id is `scope["aws.connection_id"]`. A client API Gateway reports gone
(410) is removed from the store as it is found.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable

from ..stores.record import ConnectionRecord
from .cycle import CURRENT_CYCLE
from .hub import ConnectionHub, current
from .management_api import GatewayError, Gone

logger = logging.getLogger("asgi_lambda.websocket")


async def send(connection_id: str, message: str | bytes) -> bool:
    """Send one message to one connection; False when it is unknown or gone (or when the app is
    replaying its connect phase, whose messages went out at $connect)."""
    if replaying():
        return False
    hub = current()
    record = await hub.store.load(connection_id)
    if record is None:
        return False
    return await post(hub, record, message.encode() if isinstance(message, str) else message)


async def broadcast(message: str | bytes, *, exclude: Iterable[str] = ()) -> int:
    """Send one message to every stored connection but those excluded; returns how many got it.
    Posts run concurrently, bounded by each endpoint's connection limit."""
    if replaying():
        return 0
    hub = current()
    skip = set(exclude)
    data = message.encode() if isinstance(message, str) else message
    records = [record for record in await hub.store.scan() if record.connection_id not in skip]
    delivered = await asyncio.gather(*(post(hub, record, data) for record in records))
    return sum(delivered)


def replaying() -> bool:
    cycle = CURRENT_CYCLE.get()
    return cycle is not None and cycle.replaying


async def post(hub: ConnectionHub, record: ConnectionRecord, data: bytes) -> bool:
    try:
        await hub.management_api(record.endpoint).post(record.connection_id, data)
    except Gone:
        await hub.store.pop(record.connection_id)
        return False
    except GatewayError as exc:
        logger.warning("WebSocket message to %s not delivered: %s", record.connection_id, exc)
        return False
    return True
