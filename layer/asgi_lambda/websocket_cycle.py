"""The WebSocket cycle: the ASGI side of one API Gateway WebSocket event, one run of the app.

Every invocation starts the app afresh with the connection's scope and the messages the event
carries (`websocket.connect`, then one `websocket.receive` or `websocket.disconnect`); the
app's `websocket.accept` opens the connection on $connect and is simply acknowledged later.
When the app asks for a message the event does not carry, the invocation is over: the app is
stopped there, without being told the client left, since it has not.

On a message or $disconnect the app replays its connect phase (`replay`): what it sends
before asking for the event's message went out at $connect, and is not sent again. Where sent
messages go, the store and the Management API, is `connections/bookkeeping.py`'s business.
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import Awaitable, Callable
from contextvars import ContextVar
from typing import TYPE_CHECKING, Any, Final

from .exceptions import UnexpectedMessage

if TYPE_CHECKING:
    from .types import ASGIApp, Message

logger = logging.getLogger("asgi_lambda.websocket")

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
    """ASGI state for one invocation. `deliver` takes each message the app sends (that the
    event has not sent already)."""

    def __init__(
        self,
        scope: dict[str, Any],
        incoming: list[Message],
        *,
        deliver: Callable[[bytes | str], Awaitable[None]],
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
            if not self.accepted:
                raise UnexpectedMessage("Expected ASGI message 'websocket.accept' or 'websocket.close', but got 'websocket.send'.")
            await self.deliver(message["bytes"] if message.get("bytes") is not None else message.get("text") or "")
        elif message_type == "websocket.close" and self.state is not WebSocketState.CLOSED:
            self.state = WebSocketState.CLOSED
            self.close_code = message.get("code") or 1000
        else:
            raise UnexpectedMessage(f"Unexpected ASGI message {message_type!r} in WebSocket state {self.state}.")
