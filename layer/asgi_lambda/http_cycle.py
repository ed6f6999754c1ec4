"""The HTTP cycle: run the app on one request and collect its whole response.

Lambda answers once per invocation, so the response is buffered: status, headers and every
body chunk (`more_body`) are gathered, then shaped by the event source.
"""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING, Any, Final

from .exceptions import UnexpectedMessage

if TYPE_CHECKING:
    from .types import ASGIApp, Headers, Message, Response

logger = logging.getLogger("asgi_lambda.http")

PLAIN_TEXT: Headers = [(b"content-type", b"text/plain; charset=utf-8")]


def internal_error() -> Response:
    return {"status": 500, "headers": list(PLAIN_TEXT), "body": b"Internal Server Error"}


class HTTPCycleState:
    """Where the app is in answering.

    * REQUEST: the app has not started its response yet.
    * RESPONSE: `http.response.start` was sent; body chunks are being collected.
    * COMPLETE: the last body chunk was sent; the response is final.

    Plain constants, compared by identity: an enum.Enum class costs 0.1 ms to create at import.
    """

    REQUEST: Final = "REQUEST"
    RESPONSE: Final = "RESPONSE"
    COMPLETE: Final = "COMPLETE"


class HTTPCycle:
    __slots__ = ("scope", "request_body", "state", "status", "headers", "chunks", "request_sent", "complete")

    def __init__(self, scope: dict[str, Any], body: bytes) -> None:
        self.scope = scope
        self.request_body = body
        self.state: str = HTTPCycleState.REQUEST
        self.status = 500
        self.headers: Headers = []
        self.chunks: list[bytes] = []
        self.request_sent = False
        self.complete: asyncio.Future[None] | None = None

    async def run(self, app: ASGIApp) -> Response:
        """Run the app and return its response, or a 500 if it failed before finishing one."""
        try:
            await app(self.scope, self.receive, self.send)
        except Exception:
            if self.state is HTTPCycleState.COMPLETE:
                # The response was whole before the error (a background task, say): it stands.
                logger.exception("Exception in ASGI application after its response was complete")
            else:
                logger.exception("Exception in ASGI application")
                return internal_error()
        finally:
            if self.complete is not None and not self.complete.done():
                self.complete.set_result(None)
        if self.state is not HTTPCycleState.COMPLETE:
            logger.error(
                "ASGI application returned without %s its response",
                "starting" if self.state is HTTPCycleState.REQUEST else "completing",
            )
            return internal_error()
        return {"status": self.status, "headers": self.headers, "body": b"".join(self.chunks)}

    async def receive(self) -> Message:
        if not self.request_sent:
            self.request_sent = True
            return {"type": "http.request", "body": self.request_body, "more_body": False}
        # The client stays until the response is whole; only then is it "gone". Answering
        # http.disconnect at once would make apps that listen for it abandon the response.
        if self.state is not HTTPCycleState.COMPLETE:
            if self.complete is None:
                self.complete = asyncio.get_running_loop().create_future()
            await self.complete
        return {"type": "http.disconnect"}

    async def send(self, message: Message) -> None:
        message_type = message["type"]
        if self.state is HTTPCycleState.REQUEST and message_type == "http.response.start":
            self.status = message["status"]
            self.headers = list(message.get("headers", ()))  # any iterable; it is read more than once
            self.state = HTTPCycleState.RESPONSE
        elif self.state is HTTPCycleState.RESPONSE and message_type == "http.response.body":
            self.chunks.append(message.get("body", b""))
            if not message.get("more_body", False):
                self.state = HTTPCycleState.COMPLETE
                if self.complete is not None and not self.complete.done():
                    self.complete.set_result(None)
        else:
            expected = {
                HTTPCycleState.REQUEST: "'http.response.start'",
                HTTPCycleState.RESPONSE: "'http.response.body'",
                HTTPCycleState.COMPLETE: "nothing (the response is complete)",
            }[self.state]
            raise UnexpectedMessage(f"Expected ASGI message {expected}, but got {message_type!r}.")
