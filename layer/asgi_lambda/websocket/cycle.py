"""The WebSocket cycle: the ASGI side of one API Gateway WebSocket event, one run of the app.

Every invocation starts the app afresh with the connection's scope and the messages the event
carries (`websocket.connect`, then one `websocket.receive` or `websocket.disconnect`); the
app's `websocket.accept` opens the connection on $connect and is simply acknowledged later.
When the app asks for a message the event does not carry, and its other tasks have settled
(`settle`), the invocation is over: the app's waits for a message end (CancelledError, as when a
server drops a connection, so a framework stops its own tasks), then the app is stopped if it is
still running. It is not told the client left, since it has not, and what it sends while being
stopped is ignored.

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

from ..exceptions import UnexpectedMessage
from ..sources.common import printable

if TYPE_CHECKING:
    from ..types import ASGIApp, Message

logger = logging.getLogger("asgi_lambda.websocket")

# Passes of the event loop with no new send after which a waiting app counts as settled (`settle`).
SETTLE_PASSES = 4

# The cycle the running app belongs to, so the send API can tell a replayed connect phase.
CURRENT_CYCLE: ContextVar[WebSocketCycle | None] = ContextVar("asgi_lambda_websocket_cycle", default=None)


class WebSocketPhase:
    """Where the app is on this connection, within one invocation.

    * CONNECTING: `websocket.connect` delivered (or not yet); no accept yet.
    * ACCEPTED: the app accepted (on $connect) or acknowledged the open connection.
    * DENYING: the app answers the handshake with an HTTP response instead (ASGI's
      `websocket.http.response.*`); API Gateway passes on only that it was refused.
    * CLOSED: the app sent `websocket.close`, or the last of its HTTP response.
    """

    CONNECTING: Final = "CONNECTING"
    ACCEPTED: Final = "ACCEPTED"
    DENYING: Final = "DENYING"
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
        self.phase: str = WebSocketPhase.CONNECTING
        self.accepted = False
        self.subprotocol: str | None = None
        self.close_code: int | None = None
        self.denial_status: int | None = None  # the status of the HTTP response the app refused with
        self.error: Exception | None = None
        self.waiting: asyncio.Future[None] | None = None
        self.sends = 0  # messages the app has sent, delivered or not
        self.delivering = 0  # of those, deliveries still under way
        self.delivered: asyncio.Event | None = None
        self.parked: list[asyncio.Future[None]] = []  # what the app's waits in `receive` hang on
        self.ending = False  # the invocation is over: the app is being stopped

    async def run(self, app: ASGIApp, *, timeout: float | None) -> None:
        running_loop = asyncio.get_running_loop()
        self.waiting = running_loop.create_future()
        self.delivered = asyncio.Event()
        task: asyncio.Future[None] = asyncio.ensure_future(self.call(app))
        deadline = None if timeout is None else running_loop.time() + timeout
        await asyncio.wait({task, self.waiting}, timeout=timeout, return_when=asyncio.FIRST_COMPLETED)
        if not task.done() and self.waiting.done():
            left = None if deadline is None else max(0.0, deadline - running_loop.time())
            settling = asyncio.ensure_future(self.settle())
            await asyncio.wait({task, settling}, timeout=left, return_when=asyncio.FIRST_COMPLETED)
            settling.cancel()
        # The app's waits for a message end first, as a server's would when a connection goes: a
        # framework that waits in a task of its own (Quart) then stops its other tasks itself,
        # rather than leave them pending, to be destroyed later with a warning.
        self.ending = True
        for parked in self.parked:
            parked.cancel()
        for _ in range(SETTLE_PASSES):
            if task.done() or not self.parked:
                break
            await asyncio.sleep(0)
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
            logger.exception("Exception in ASGI application (WebSocket connection %s)", printable(self.scope["aws.connection_id"]))

    async def settle(self) -> None:
        """Let the app's other tasks act on what it has read. A framework that reads ahead in a task
        of its own (Quart, Falcon) asks for the next message before its handler, in another task,
        has answered this one: the answer comes on the loop's next passes. So the invocation ends
        once every delivery is done and SETTLE_PASSES passes of the loop have brought no new send.
        (A handler that awaits I/O before answering, while another task waits for a message, is
        not waited for: README, Frameworks.)"""
        assert self.delivered is not None
        quiet = 0
        while quiet < SETTLE_PASSES:
            if self.delivering:
                self.delivered.clear()
                await self.delivered.wait()
                quiet = 0
                continue
            sends = self.sends
            await asyncio.sleep(0)
            quiet = quiet + 1 if self.sends == sends and not self.delivering else 0

    def refusal(self) -> str:
        """How the app refused the connection, for the log."""
        if self.denial_status is not None:
            return f"it answered the handshake with HTTP {self.denial_status}"
        if self.close_code is not None:
            return f"it sent websocket.close (code {self.close_code}) before websocket.accept"
        return "it sent no websocket.accept"

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
        parked: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self.parked.append(parked)
        await parked  # cancelled when the invocation ends
        raise AssertionError("unreachable")  # pragma: no cover

    async def send(self, message: Message) -> None:
        if self.ending:
            # The app reacting to being stopped, not to the client: the connection stays as it is.
            logger.debug("Ignored %r sent while the invocation ended.", message.get("type"))
            return
        message_type = message["type"]
        if message_type == "websocket.accept" and self.phase is WebSocketPhase.CONNECTING:
            self.phase = WebSocketPhase.ACCEPTED
            self.accepted = True
            self.subprotocol = message.get("subprotocol")
        elif message_type == "websocket.send" and self.phase is not WebSocketPhase.CLOSED:
            if self.replaying:
                return  # sent at $connect already
            if not self.accepted:
                raise UnexpectedMessage("Expected ASGI message 'websocket.accept' or 'websocket.close', but got 'websocket.send'.")
            self.sends += 1
            self.delivering += 1
            try:
                await self.deliver(message["bytes"] if message.get("bytes") is not None else message.get("text") or "")
            finally:
                self.delivering -= 1
                if not self.delivering and self.delivered is not None:
                    self.delivered.set()
        elif message_type == "websocket.http.response.start" and self.phase is WebSocketPhase.CONNECTING:
            self.phase = WebSocketPhase.DENYING
            self.denial_status = message["status"]
        elif message_type == "websocket.http.response.body" and self.phase is WebSocketPhase.DENYING:
            if not message.get("more_body", False):
                self.phase = WebSocketPhase.CLOSED
        elif message_type == "websocket.close" and self.phase not in (WebSocketPhase.CLOSED, WebSocketPhase.DENYING):
            self.phase = WebSocketPhase.CLOSED
            self.close_code = message.get("code") or 1000
        else:
            raise UnexpectedMessage(f"Unexpected ASGI message {message_type!r} in WebSocket phase {self.phase}.")
