"""One message to many connections: the posts of `broadcast` and of the fan-out's pages.

Posts run concurrently, bounded by each endpoint's client (32 connections). A connection API
Gateway calls gone (410) is forgotten: its record and its rooms go; a membership found without
its record (a join that raced a $disconnect on the S3 store) is removed from the room it was read
from.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable
from typing import Literal

from ..sources.common import printable
from ..stores import StoreUnavailable
from ..stores.record import Member
from .hub import ConnectionHub
from .management_api import GatewayError, Gone

logger = logging.getLogger("asgi_lambda.websocket")

Outcome = Literal["sent", "gone", "failed"]


async def post(hub: ConnectionHub, member: Member, data: bytes, *, room: str | None = None) -> Outcome:
    """Post to one connection: "sent"; "gone" (410: it is forgotten); "failed" (logged)."""
    try:
        await hub.management_api(member.endpoint).post(member.connection_id, data)
    except Gone:
        await forget(hub, member, room=room)
        return "gone"
    except GatewayError as exc:
        logger.warning("WebSocket message to %s not delivered: %s", printable(member.connection_id), exc)
        return "failed"
    return "sent"


async def post_all(hub: ConnectionHub, members: Iterable[Member], data: bytes, *, room: str | None = None) -> list[Outcome]:
    return list(await asyncio.gather(*(post(hub, member, data, room=room) for member in members)))


async def forget(hub: ConnectionHub, member: Member, *, room: str | None = None) -> None:
    """A connection API Gateway calls gone: its record and memberships removed."""
    try:
        if await hub.store.pop(member.connection_id) is None and room is not None:
            await hub.store.leave(member, room)
    except StoreUnavailable as exc:
        logger.error("Gone WebSocket connection %s not removed: %s", printable(member.connection_id), exc)
