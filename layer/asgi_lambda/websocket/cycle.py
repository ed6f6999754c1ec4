"""The WebSocket cycle: one API Gateway event, one run of the app.

Every invocation starts the app afresh with the connection's scope and delivers
`websocket.connect`; the app's `websocket.accept` opens the connection on $connect and is
simply acknowledged afterwards. A message event then delivers exactly one `websocket.receive`;
$disconnect delivers `websocket.disconnect`. When the app asks for a message the event does
not carry, the invocation is over: the app is stopped there, without being told the client
left, since it has not (its next message is a later invocation).

Lambda cannot keep the app's coroutine between events, so on a message or $disconnect the app
replays its connect phase: what it does between accepting and asking for its first message.
What it sends then, on the connection or through the send API, was sent at $connect already
and is not sent again.
"""

from __future__ import annotations

import asyncio
import base64
import logging
import time
from collections import deque
from contextvars import ContextVar
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any, Final

from ..exceptions import UnexpectedMessage
from ..sources.apigw_websocket import WebSocketEvent
from .gateway import MAX_MESSAGE_BYTES, GatewayError, Gone, MessageTooLarge
from .runtime import WebSocketRuntime
from .stores import Connection, StoreUnavailable

if TYPE_CHECKING:
    from ..types import ASGIApp, LambdaResponse, Message

logger = logging.getLogger("asgi_lambda.websocket")

CONNECT: dict[str, Any] = {"type": "websocket.connect"}

# The cycle the running app belongs to, so the send API can tell a replayed connect phase.
CURRENT_CYCLE: ContextVar[WebSocketCycle | None] = ContextVar("asgi_lambda_websocket_cycle", default=None)


class WebSocketState:
    """Where the app is on this connection, within one invocation.

    * CONNECTING: `websocket.connect` delivered (or not yet); no accept yet.
    * ACCEPTED: the app accepted (on $connect) or acknowledged the open connection.
    * CLOSED: the app sent `websocket.close`.
    """

    CONNECTING: Final = "CONNECTING"
    ACCEPTED: Final = "ACCEPTED"
    CLOSED: Final = "CLOSED"


class WebSocketCycle:
    """ASGI state for one invocation. `deliver` posts a message to the open connection; on
    $connect there is none yet, and what the app sends is kept in `pending`."""

    def __init__(
        self,
        scope: dict[str, Any],
        incoming: list[Message],
        *,
        deliver: Callable[[bytes | str], Awaitable[None]] | None,
        replay: bool = False,
    ) -> None:
        self.scope = scope
        self.replaying = replay  # until the app asks for the event's message
        self.incoming = deque(incoming)
        self.deliver = deliver
        self.state: str = WebSocketState.CONNECTING
        self.accepted = False
        self.subprotocol: str | None = None
        self.close_code: int | None = None
        self.pending: list[dict[str, Any]] = []
        self.error: Exception | None = None
        self.waiting: asyncio.Future[None] | None = None

    async def run(self, app: ASGIApp, *, timeout: float | None) -> None:
        running_loop = asyncio.get_running_loop()
        self.waiting = running_loop.create_future()
        task: asyncio.Future[None] = asyncio.ensure_future(self.call(app))
        await asyncio.wait({task, self.waiting}, timeout=timeout, return_when=asyncio.FIRST_COMPLETED)
        if not task.done():
            if not self.waiting.done():
                logger.error("The app neither returned nor waited for a message before the invocation's time ran out; stopped.")
            task.cancel()
        try:
            await task
        except asyncio.CancelledError:
            pass
        except Exception as exc:
            self.error = exc
            logger.exception("Exception in ASGI application (WebSocket connection %s)", self.scope["aws.connection_id"])

    async def call(self, app: ASGIApp) -> None:
        CURRENT_CYCLE.set(self)  # in the app's own task and context
        await app(self.scope, self.receive, self.send)

    async def receive(self) -> Message:
        if self.incoming:
            message = self.incoming.popleft()
            if message["type"] != "websocket.connect":
                self.replaying = False
            return message
        # The event is spent: the app waits for a message a later invocation will carry.
        if self.waiting is not None and not self.waiting.done():
            self.waiting.set_result(None)
        await asyncio.get_running_loop().create_future()  # cancelled when the invocation ends
        raise AssertionError("unreachable")  # pragma: no cover

    async def send(self, message: Message) -> None:
        message_type = message["type"]
        if message_type == "websocket.accept" and self.state is WebSocketState.CONNECTING:
            self.state = WebSocketState.ACCEPTED
            self.accepted = True
            self.subprotocol = message.get("subprotocol")
        elif message_type == "websocket.send" and self.state is not WebSocketState.CLOSED:
            if self.replaying:
                return  # sent at $connect already
            if self.deliver is None and not self.accepted:
                raise UnexpectedMessage("Expected ASGI message 'websocket.accept' or 'websocket.close', but got 'websocket.send'.")
            data: bytes | str = message["bytes"] if message.get("bytes") is not None else message.get("text") or ""
            if self.deliver is not None:
                await self.deliver(data)
            else:
                self.pending.append(frame(data))
        elif message_type == "websocket.close" and self.state is not WebSocketState.CLOSED:
            self.state = WebSocketState.CLOSED
            self.close_code = message.get("code") or 1000
        else:
            raise UnexpectedMessage(f"Unexpected ASGI message {message_type!r} in WebSocket state {self.state}.")


def frame(data: bytes | str) -> dict[str, Any]:
    """A message kept in the store until the connection is open: text, or bytes as base64."""
    size = len(data.encode() if isinstance(data, str) else data)
    if size > MAX_MESSAGE_BYTES:
        raise MessageTooLarge(f"message of {size} bytes not kept for delivery: API Gateway's limit is {MAX_MESSAGE_BYTES} bytes")
    return {"text": data} if isinstance(data, str) else {"bytes": base64.b64encode(data).decode()}


def encoded(data: bytes | str) -> bytes:
    return data.encode() if isinstance(data, str) else data


def time_left(context: Any) -> float | None:
    """Seconds the app may run: the invocation's remaining time, less a second to answer in."""
    remaining = getattr(context, "get_remaining_time_in_millis", None)
    return max(remaining() / 1000 - 1, 0.1) if callable(remaining) else None


async def handle(event: WebSocketEvent, app: ASGIApp, *, runtime: WebSocketRuntime, state: dict[str, Any] | None) -> LambdaResponse:
    if event.kind == "CONNECT":
        return await connect(event, app, runtime=runtime, state=state)
    if event.kind == "DISCONNECT":
        return await disconnect(event, app, runtime=runtime, state=state)
    return await receive(event, app, runtime=runtime, state=state)


async def connect(event: WebSocketEvent, app: ASGIApp, *, runtime: WebSocketRuntime, state: dict[str, Any] | None) -> LambdaResponse:
    stored = event.stored_scope(path=runtime.settings.path)
    cycle = WebSocketCycle(event.scope(stored, state=state), [CONNECT], deliver=None)
    await cycle.run(app, timeout=time_left(event.context))
    if cycle.error is not None:
        return {"statusCode": 500}
    if not cycle.accepted:
        return {"statusCode": 403}
    pending = cycle.pending + ([{"close": cycle.close_code}] if cycle.close_code is not None else [])
    record = Connection(
        event.connection_id,
        endpoint=runtime.endpoint(event.api_id, event.stage),
        scope={**stored, "subprotocol": cycle.subprotocol},
        expires_at=int(time.time()) + runtime.settings.ttl_seconds,
        pending=pending,
    )
    try:
        await runtime.store.save(record)
    except StoreUnavailable as exc:
        logger.error("WebSocket connection %s refused: %s", event.connection_id, exc)
        return {"statusCode": 500}
    if cycle.subprotocol:
        return {"statusCode": 200, "headers": {"Sec-WebSocket-Protocol": cycle.subprotocol}}
    return {"statusCode": 200}


async def receive(event: WebSocketEvent, app: ASGIApp, *, runtime: WebSocketRuntime, state: dict[str, Any] | None) -> LambdaResponse:
    try:
        record = await runtime.store.load(event.connection_id)
    except StoreUnavailable as exc:
        logger.error("WebSocket message on %s dropped: %s", event.connection_id, exc)
        return {"statusCode": 500}
    if record is None:
        logger.warning("WebSocket message on %s dropped: no such connection in the store (expired, or never accepted)", event.connection_id)
        return {"statusCode": 200}
    gateway = runtime.gateway(record.endpoint)
    gone = False

    async def deliver(data: bytes | str) -> None:
        nonlocal gone
        if gone:
            raise Gone(f"connection {event.connection_id} is gone")
        try:
            await gateway.post(event.connection_id, encoded(data))
        except Gone:
            gone = True
            raise

    try:
        if record.pending:
            # What the app sent while the connection was opening goes out first, once.
            await flush(record, deliver=deliver, close=gateway.delete)
            record.pending = []
            await runtime.store.save(record)
        cycle = WebSocketCycle(event.scope(record.scope, state=state), [CONNECT, event.message()], deliver=deliver, replay=True)
        await cycle.run(app, timeout=time_left(event.context))
        if cycle.close_code is not None and not gone:
            await gateway.delete(event.connection_id)
    except Gone:
        gone = True
    except (GatewayError, StoreUnavailable) as exc:
        logger.error("WebSocket message on %s: %s", event.connection_id, exc)
    if gone:
        await forget(runtime, event.connection_id)
    return {"statusCode": 200}


async def disconnect(event: WebSocketEvent, app: ASGIApp, *, runtime: WebSocketRuntime, state: dict[str, Any] | None) -> LambdaResponse:
    try:
        record = await runtime.store.pop(event.connection_id)
    except StoreUnavailable as exc:
        logger.error("WebSocket disconnect of %s not handled: %s", event.connection_id, exc)
        return {"statusCode": 500}
    if record is None:
        logger.info("WebSocket disconnect of %s, which the store does not know (expired, or never accepted)", event.connection_id)
        return {"statusCode": 200}

    async def closed(data: bytes | str) -> None:
        raise Gone(f"connection {event.connection_id} is closed")

    cycle = WebSocketCycle(event.scope(record.scope, state=state), [CONNECT, event.disconnect()], deliver=closed, replay=True)
    await cycle.run(app, timeout=time_left(event.context))
    return {"statusCode": 200}


async def flush(record: Connection, *, deliver: Callable[[bytes | str], Awaitable[None]], close: Callable[[str], Awaitable[None]]) -> None:
    for item in record.pending:
        if "close" in item:
            await close(record.connection_id)
            raise Gone(f"connection {record.connection_id} was closed by the app while it opened")
        await deliver(item["text"] if "text" in item else base64.b64decode(item["bytes"]))


async def forget(runtime: WebSocketRuntime, connection_id: str) -> None:
    """A connection API Gateway calls gone is removed from the store."""
    try:
        await runtime.store.pop(connection_id)
    except StoreUnavailable as exc:
        logger.error("Gone WebSocket connection %s not removed: %s", connection_id, exc)
