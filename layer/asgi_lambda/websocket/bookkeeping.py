"""Connection bookkeeping: what happens around the app on each WebSocket event.

- $connect: run the app's connect phase; on accept, keep the connection's record (the $connect
  request, where replies go, what the app sent before the connection was open, its session, the
  rooms it joined) in the store, in one write where the store allows.
- a message: load the record, deliver what was kept at $connect, run the app with the message
  (its connect phase replayed, its session restored), post what it sends through the Management
  API; save the session if the app changed it (session.py).
- $disconnect: remove the record and its rooms, let the app see the disconnect (its session restored).

A connection API Gateway reports gone (410) is forgotten. The app's ASGI messages are the
cycle's (websocket_cycle.py); the answer to API Gateway is the source's (sources/apigw_websocket.py).
"""

from __future__ import annotations

import base64
import logging
import time
from typing import TYPE_CHECKING, Any

from ..exceptions import ConfigError, MessageTooLarge
from ..sources.common import printable
from ..stores import StoreUnavailable
from ..stores.record import ConnectionRecord
from .cycle import WebSocketCycle
from .hub import CURRENT_HUB, ConnectionHub, UntrustedEndpoint
from .management_api import MAX_MESSAGE_BYTES, GatewayError, Gone
from .session import CURRENT_CONNECTION, EventConnection, changed, give

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable

    from ..types import ASGIApp, WebSocketOutcome, WebSocketRequest

logger = logging.getLogger("asgi_lambda.websocket")

CONNECT: dict[str, Any] = {"type": "websocket.connect"}


def outcome(status: int, subprotocol: str | None = None) -> WebSocketOutcome:
    return {"status": status, "subprotocol": subprotocol}


async def handle(event: WebSocketRequest, app: ASGIApp, *, hub: ConnectionHub, app_state: dict[str, Any] | None) -> WebSocketOutcome:
    CURRENT_HUB.set(hub)  # for the send API, in this invocation's context only
    if event.event_type == "CONNECT":
        return await connect(event, app, hub=hub, app_state=app_state)
    if event.event_type == "DISCONNECT":
        return await disconnect(event, app, hub=hub, app_state=app_state)
    return await message(event, app, hub=hub, app_state=app_state)


async def connect(event: WebSocketRequest, app: ASGIApp, *, hub: ConnectionHub, app_state: dict[str, Any] | None) -> WebSocketOutcome:
    try:
        endpoint = hub.endpoint(event.api_id, event.stage)
    except UntrustedEndpoint as exc:
        logger.error("WebSocket connection %s refused: %s", printable(event.connection_id), exc)
        return outcome(500)
    request = event.request(path=hub.settings.path)
    pending: list[dict[str, Any]] = []

    async def keep(data: bytes | str) -> None:
        # API Gateway opens the connection only once $connect has answered.
        pending.append(frame(data))

    connection = EventConnection(event.connection_id)  # the rooms it joins are saved with it
    CURRENT_CONNECTION.set(connection)
    scope = event.scope(request, app_state=app_state)
    empty = give(scope, {})
    cycle = WebSocketCycle(scope, [CONNECT], deliver=keep)
    await cycle.run(app, timeout=time_left(event.context))
    if cycle.error is not None:
        return outcome(500)
    if not cycle.accepted:
        log_refused(request["path"], cycle.refusal())
        return outcome(403)
    if cycle.close_code is not None:
        pending.append({"close": cycle.close_code})
    # The app saw every header and query parameter; the store keeps WS_REDACT's as placeholders.
    stored = event.request(path=hub.settings.path, redact=hub.settings.redact)
    record = ConnectionRecord(
        event.connection_id,
        endpoint=endpoint,
        scope={**stored, "subprotocol": cycle.subprotocol},
        expires_at=int(time.time()) + hub.settings.ttl_seconds,
        pending=pending,
        session=changed(scope, empty, limit=hub.settings.session_max_bytes, connection_id=event.connection_id),
        rooms=connection.rooms,
    )
    try:
        await hub.store.save(record)
    except (StoreUnavailable, ConfigError) as exc:
        logger.error("WebSocket connection %s refused: %s", printable(event.connection_id), exc)
        return outcome(500)
    return outcome(200, cycle.subprotocol)


async def message(event: WebSocketRequest, app: ASGIApp, *, hub: ConnectionHub, app_state: dict[str, Any] | None) -> WebSocketOutcome:
    try:
        record = await hub.store.load(event.connection_id)
    except StoreUnavailable as exc:
        logger.error("WebSocket message on %s dropped: %s", printable(event.connection_id), exc)
        return outcome(500)
    if record is None:
        logger.warning(
            "WebSocket message on %s dropped: no such connection in the store (expired, or never accepted)", printable(event.connection_id)
        )
        return outcome(200)
    try:
        client = hub.management_api(record.endpoint)
    except UntrustedEndpoint as exc:
        logger.error("WebSocket message on %s dropped: %s", printable(event.connection_id), exc)
        return outcome(500)
    gone = False

    async def deliver(data: bytes | str) -> None:
        nonlocal gone
        if gone:
            raise Gone(f"connection {event.connection_id} is gone")
        try:
            await client.post(event.connection_id, data.encode() if isinstance(data, str) else data)
        except Gone:
            gone = True
            raise

    CURRENT_CONNECTION.set(EventConnection(event.connection_id, record=record))
    scope = event.scope(record.scope, app_state=app_state)
    before = give(scope, record.session)
    try:
        if record.pending:
            # What the app sent while the connection was opening goes out first, once.
            await flush(record, deliver=deliver, close=client.delete)
            record.pending = []
            await hub.store.update(record)
        cycle = WebSocketCycle(scope, [CONNECT, event.message()], deliver=deliver, replay=True)
        await cycle.run(app, timeout=time_left(event.context))
        if cycle.close_code is not None and not gone:
            await client.delete(event.connection_id)
    except Gone:
        gone = True
    except (GatewayError, StoreUnavailable) as exc:
        logger.error("WebSocket message on %s: %s", printable(event.connection_id), exc)
    if gone:
        await forget(hub, event.connection_id)
    else:
        await save_session(hub, record, scope, before)
    return outcome(200)


async def save_session(hub: ConnectionHub, record: ConnectionRecord, scope: dict[str, Any], before: str) -> None:
    """The session, if the app changed it: one write, over the stored record only if it is still there."""
    session = changed(scope, before, limit=hub.settings.session_max_bytes, connection_id=record.connection_id)
    if session is None:
        return
    record.session = session
    try:
        if not await hub.store.update(record):
            logger.info("WebSocket session of %s not saved: the connection has gone", printable(record.connection_id))
    except StoreUnavailable as exc:
        logger.error("WebSocket session of %s not saved: %s", printable(record.connection_id), exc)


async def disconnect(event: WebSocketRequest, app: ASGIApp, *, hub: ConnectionHub, app_state: dict[str, Any] | None) -> WebSocketOutcome:
    try:
        record = await hub.store.pop(event.connection_id)
    except StoreUnavailable as exc:
        logger.error("WebSocket disconnect of %s not handled: %s", printable(event.connection_id), exc)
        return outcome(500)
    if record is None:
        logger.info(
            "WebSocket disconnect of %s, which the store does not know (expired, or never accepted)", printable(event.connection_id)
        )
        return outcome(200)

    async def closed(data: bytes | str) -> None:
        raise Gone(f"connection {event.connection_id} is closed")

    CURRENT_CONNECTION.set(EventConnection(event.connection_id, record=record))
    scope = event.scope(record.scope, app_state=app_state)
    give(scope, record.session)  # to read: the connection is gone, what changes now is not kept
    cycle = WebSocketCycle(scope, [CONNECT, event.disconnect()], deliver=closed, replay=True)
    await cycle.run(app, timeout=time_left(event.context))
    return outcome(200)


# The paths a refusal has been explained for, in this environment: the first refusal at a path
# warns, the rest (an app's own refusals, say of a missing token) are logged at INFO.
WARNED_PATHS: set[str] = set()


def log_refused(path: str, how: str) -> None:
    """A $connect the app did not accept. The commonest cause is a route at another path than the
    one every WebSocket scope gets (WS_PATH), so the first refusal says how to fix that."""
    if path in WARNED_PATHS or len(WARNED_PATHS) > 64:
        logger.info("$connect refused at path %r (%s)", path, how)
        return
    WARNED_PATHS.add(path)
    example = "/ws" if path != "/ws" else "/"
    logger.warning(
        "$connect refused: the app accepted no WebSocket at path %r (%s); if your endpoint is at another path, "
        "set WS_PATH to it, such as WS_PATH=%s",
        path,
        how,
        example,
    )


def frame(data: bytes | str) -> dict[str, Any]:
    """A message kept in the store until the connection is open: text, or bytes as base64."""
    size = len(data.encode() if isinstance(data, str) else data)
    if size > MAX_MESSAGE_BYTES:
        raise MessageTooLarge(f"message of {size} bytes not kept for delivery: API Gateway's limit is {MAX_MESSAGE_BYTES} bytes")
    return {"text": data} if isinstance(data, str) else {"bytes": base64.b64encode(data).decode()}


async def flush(
    record: ConnectionRecord, *, deliver: Callable[[bytes | str], Awaitable[None]], close: Callable[[str], Awaitable[None]]
) -> None:
    for item in record.pending:
        if "close" in item:
            await close(record.connection_id)
            raise Gone(f"connection {record.connection_id} was closed by the app while it opened")
        await deliver(item["text"] if "text" in item else base64.b64decode(item["bytes"]))


async def forget(hub: ConnectionHub, connection_id: str) -> None:
    """A connection API Gateway calls gone is removed from the store."""
    try:
        await hub.store.pop(connection_id)
    except StoreUnavailable as exc:
        logger.error("Gone WebSocket connection %s not removed: %s", printable(connection_id), exc)


def time_left(context: Any) -> float | None:
    """Seconds the app may run: the invocation's remaining time, less a second to answer in."""
    remaining = getattr(context, "get_remaining_time_in_millis", None)
    return max(remaining() / 1000 - 1, 0.1) if callable(remaining) else None
