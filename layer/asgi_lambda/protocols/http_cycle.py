"""The HTTP cycle: run the app on one request and collect its whole response.

Lambda answers once per invocation, so the response is buffered: status, headers and every
body chunk (`more_body`) are gathered, then shaped by the event source.

Every message the app sends is checked before anything of it is kept, so that nothing the app
does can reach the platform as an invalid response. A bad message (out of order, or with a
field the protocol does not allow) makes `send` raise; the first such fault is remembered and
logged once, as one line naming it. Before the response is complete it decides the answer, a
500, even if the app catches the exception and carries on; after, the complete response stands.
Trailers are not supported: the response is sent whole, so `trailers` must be absent or False.

Where the response goes is the cycle's sink: by default it is buffered here, whole, for the source
to shape; the layer's Runtime API client passes a `ResponseStream` (runtime/stream.py) that writes
each accepted message out as it comes, as the WebSocket cycle takes `deliver=`. The checks and the
state machine stay here, in one place, whichever the sink.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Final, Protocol

from ..exceptions import InvalidMessage, UnexpectedMessage

if TYPE_CHECKING:
    import asyncio
    from collections.abc import Callable

    from ..types import ASGIApp, Headers, Message, Response

logger = logging.getLogger("asgi_lambda.http")

PLAIN_TEXT: Headers = [(b"content-type", b"text/plain; charset=utf-8")]

# RFC 9110 token characters, which are all a header name may hold: as "a", anything else as " ",
# so `name.translate(TOKEN).isalpha()` checks a name in one pass (and refuses an empty one).
TOKEN_CHARACTERS: Final = b"!#$%&'*+-.^_`|~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
TOKEN: Final = bytes(0x61 if byte in TOKEN_CHARACTERS else 0x20 for byte in range(256))

CR, LF, NUL = 13, 10, 0  # `13 in value` is a memchr; `b"\r" in value` a slower substring search

# (name, value) pairs that passed the checks: a pair sent again is known good in one look-up. Only
# short values, and a bounded number: apps repeat their content types, not their lengths.
CHECKED_HEADERS: set[tuple[bytes, bytes]] = set()
MAX_CHECKED_HEADERS = 1024


class ClientDisconnected(ConnectionResetError):
    """Raised by `send` once the caller is gone (an OSError, as ASGI asks), after `http.disconnect`."""


class ResponseStream(Protocol):
    """A sink that sends the response as the app sends it, instead of the cycle buffering it."""

    status: int  # the status the caller got (500 until the response starts)
    gone: bool  # the caller went away: `receive` answers `http.disconnect`, `send` raises ClientDisconnected
    ended: bool  # the last chunk is written: the caller has the whole body
    on_gone: Callable[[], None]  # set by the cycle: wakes a `receive` waiting for the caller to leave

    async def start(self, status: int, headers: Headers) -> None: ...

    async def write(self, body: bytes, *, last: bool) -> None: ...

    async def conclude(self, cycle: HTTPCycle, response: Response) -> None:
        """The app has returned with `response` (a 500 if it failed): end the stream."""


def internal_error() -> Response:
    return {"status": 500, "headers": list(PLAIN_TEXT), "body": b"Internal Server Error"}


class HTTPCyclePhase:
    """Where the app is in answering.

    * REQUEST: the app has not started its response yet.
    * RESPONSE: `http.response.start` was sent; body chunks are being collected.
    * COMPLETE: the last body chunk was sent; the response is final.
    * FAILED: the app sent a bad message before completing; the answer is a 500.

    Plain constants, compared by identity: an enum.Enum class costs 0.1 ms to create at import.
    """

    REQUEST: Final = "REQUEST"
    RESPONSE: Final = "RESPONSE"
    COMPLETE: Final = "COMPLETE"
    FAILED: Final = "FAILED"


EXPECTED: Final = {
    HTTPCyclePhase.REQUEST: "'http.response.start'",
    HTTPCyclePhase.RESPONSE: "'http.response.body'",
    HTTPCyclePhase.COMPLETE: "nothing (the response is complete)",
    HTTPCyclePhase.FAILED: "nothing (an earlier message was invalid)",
}


class HTTPCycle:
    __slots__ = (
        "scope",
        "request_body",
        "stream",
        "phase",
        "status",
        "headers",
        "chunks",
        "request_sent",
        "complete",
        "decided",
        "fault",
        "error",
    )

    def __init__(self, scope: dict[str, Any], body: bytes, stream: ResponseStream | None = None) -> None:
        self.scope = scope
        self.request_body = body
        self.stream = stream
        if stream is not None:
            stream.on_gone = self.finish
        self.phase: str = HTTPCyclePhase.REQUEST
        self.status = 500
        self.headers: Headers = []
        self.chunks: list[bytes] = []
        self.request_sent = False
        self.complete: asyncio.Future[None] | None = None
        # Set by whoever answers as soon as the answer is decided (the layer's runtime client): done
        # once the last body chunk is sent (to the sink, for a stream) or a bad message made it a 500.
        self.decided: asyncio.Future[None] | None = None
        self.fault: UnexpectedMessage | None = None  # the app's first bad message
        self.error: Exception | None = None  # what the app raised

    async def run(self, app: ASGIApp) -> Response:
        """Run the app and return its response, or a 500 if it failed before finishing one."""
        error: Exception | None = None
        try:
            await app(self.scope, self.receive, self.send)
        except Exception as raised:
            error = self.error = raised
        finally:
            if self.complete is not None:  # someone waits for the disconnect
                self.finish()
        if error is None and self.fault is None and self.phase is HTTPCyclePhase.COMPLETE:
            return {"status": self.status, "headers": self.headers, "body": b"".join(self.chunks)}  # the common case, at once
        return self.outcome(error)

    def outcome(self, error: Exception | None) -> Response:
        """The answer once the app has returned, or raised `error`: its response, or a 500. The one
        rule, for `run` and for a WSGI app run inline (protocols/wsgi.py `answer`)."""
        if self.fault is not None:
            # One line naming the fault; its traceback leads to the app's call to send.
            logger.error("%s", self.fault, exc_info=self.fault)
            if isinstance(error, UnexpectedMessage):
                error = None  # raised by send: the fault, or a message refused after it
        if error is not None:
            if self.phase is HTTPCyclePhase.COMPLETE:
                # The response was whole before the error (a background task, say): it stands.
                logger.error("Exception in ASGI application after its response was complete", exc_info=error)
            else:
                logger.error("Exception in ASGI application", exc_info=error)
                return internal_error()
        if self.phase is HTTPCyclePhase.FAILED:
            return internal_error()
        if self.phase is not HTTPCyclePhase.COMPLETE:
            logger.error(
                "ASGI application returned without %s its response",
                "starting" if self.phase is HTTPCyclePhase.REQUEST else "completing",
            )
            return internal_error()
        return {"status": self.status, "headers": self.headers, "body": b"".join(self.chunks)}

    async def receive(self) -> Message:
        if self.stream is not None and self.stream.gone:
            return {"type": "http.disconnect"}
        if not self.request_sent:
            self.request_sent = True
            return {"type": "http.request", "body": self.request_body, "more_body": False}
        # The client stays until the answer is decided; only then is it "gone". Answering
        # http.disconnect at once would make apps that listen for it abandon the response.
        if self.phase is HTTPCyclePhase.REQUEST or self.phase is HTTPCyclePhase.RESPONSE:
            if self.complete is None:
                import asyncio  # loaded: the app awaits on its loop; a WSGI app run inline never gets here

                self.complete = asyncio.get_running_loop().create_future()
            await self.complete
        return {"type": "http.disconnect"}

    def finish(self) -> None:
        """The answer is decided: a receive waiting for the client to leave gets its disconnect."""
        if self.complete is not None and not self.complete.done():
            self.complete.set_result(None)

    def response(self) -> Response:
        """The answer as it stands: the whole response once it is complete, else a 500."""
        if self.phase is HTTPCyclePhase.COMPLETE:
            return {"status": self.status, "headers": self.headers, "body": b"".join(self.chunks)}
        return internal_error()

    async def send(self, message: Message) -> None:
        stream = self.stream
        if stream is not None and stream.gone:
            raise ClientDisconnected("the caller went away: the Runtime API closed the response stream")
        try:
            message_type = message["type"]
        except (KeyError, TypeError):
            raise self.fail(message_fault(message)) from None
        if self.phase is HTTPCyclePhase.REQUEST and message_type == "http.response.start":
            self.start(message)
            if stream is not None:
                await stream.start(self.status, self.headers)
        elif self.phase is HTTPCyclePhase.RESPONSE and message_type == "http.response.body":
            body = message.get("body", b"")
            more_body = message.get("more_body", False)
            if type(body) is not bytes:
                if not isinstance(body, bytearray | memoryview):  # bytes-like, as Mangum takes them
                    raise self.fail(f"the app sent a body as {kind(body)}")
                body = bytes(body)
            if type(more_body) is not bool:
                raise self.fail(f"the app sent more_body as {kind(more_body)}: {shown(more_body)}")
            if not more_body:
                self.phase = HTTPCyclePhase.COMPLETE
                if self.complete is not None:
                    self.finish()
            if stream is None:
                self.chunks.append(body)
            else:
                await stream.write(body, last=not more_body)
            if not more_body and self.decided is not None and not self.decided.done():
                self.decided.set_result(None)
        else:
            raise self.fail(f"Expected ASGI message {EXPECTED[self.phase]}, but got {message_type!r}.", UnexpectedMessage)

    def start(self, message: Message) -> None:
        """Keep `http.response.start`'s status and headers, once all of it is checked."""
        status = message.get("status")
        if type(status) is not int or not 100 <= status <= 599:
            status = self.checked_status(message)
        raw_headers = message.get("headers", ())
        try:
            # Most apps send the same few headers every time: those already checked pass at once.
            if type(raw_headers) is list and CHECKED_HEADERS.issuperset(raw_headers):
                self.finish_start(status, raw_headers[:], message)
                return
        except TypeError:  # an item that is not hashable (a list pair, say): checked below
            pass
        try:
            pairs = iter(raw_headers)
        except TypeError:
            raise self.fail(headers_fault(raw_headers)) from None
        headers: Headers = []  # copied as (bytes, bytes) tuples: the app's objects are read only here
        for pair in pairs:
            try:
                name, value = pair
            except (TypeError, ValueError):
                # A dict or a string is iterable, but a mistake for the whole list, not for one pair.
                whole = isinstance(raw_headers, (Mapping, str, bytes))
                raise self.fail(headers_fault(raw_headers) if whole else pair_fault(pair)) from None
            if (
                type(name) is not bytes
                or type(value) is not bytes
                or not name.translate(TOKEN).isalpha()
                or CR in value
                or LF in value
                or NUL in value
            ):
                raise self.fail(header_fault(name, value))
            headers.append((name, value))
            if len(CHECKED_HEADERS) < MAX_CHECKED_HEADERS and len(value) <= 256:
                CHECKED_HEADERS.add((name, value))
        self.finish_start(status, headers, message)

    def finish_start(self, status: int, headers: Headers, message: Message) -> None:
        if "trailers" in message and message["trailers"] is not False:
            raise self.fail(f"the app sent trailers: {shown(message['trailers'])}; expected False, since the response is sent whole")
        self.status = status
        self.headers = headers
        self.phase = HTTPCyclePhase.RESPONSE

    def checked_status(self, message: Message) -> int:
        """The status, when it is not a plain int from 100 to 599 (the slow path)."""
        if "status" not in message:
            raise self.fail("the app sent http.response.start without a status")
        status = message["status"]
        if not isinstance(status, int) or isinstance(status, bool):
            raise self.fail(f"the app sent a status as {kind(status)}: {shown(status)}")
        if not 100 <= status <= 599:
            raise self.fail(f"the app sent a status out of range: {int(status)}; expected 100 to 599")
        return int(status)  # an int subclass such as HTTPStatus.OK, sent as the plain number

    def fail(self, problem: str, error: type[UnexpectedMessage] = InvalidMessage) -> UnexpectedMessage:
        """The exception for a bad message, for `send` to raise. The first is the fault: before
        the response is complete, it decides the answer (a 500) whatever the app does next."""
        exception = error(problem)
        if self.fault is None:
            self.fault = exception
            if self.phase is not HTTPCyclePhase.COMPLETE:
                self.phase = HTTPCyclePhase.FAILED
                self.finish()
                if self.decided is not None and not self.decided.done():
                    self.decided.set_result(None)
        return exception


# What went wrong, worded for the log: only on the slow path, once a check has failed. Header
# values and bodies are not shown: they may hold cookies or tokens.


def kind(value: object) -> str:
    return type(value).__name__


def shown(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 80 else f"{text[:77]}..."


def message_fault(message: object) -> str:
    if isinstance(message, Mapping):
        return f"the app sent a message without a 'type'; its keys: {shown(list(message))}"
    return f"the app sent a message as {kind(message)}; expected a dict with a 'type'"


def headers_fault(headers: object) -> str:
    return f"the app sent headers as {kind(headers)}; expected an iterable of (name, value) pairs"


def pair_fault(pair: object) -> str:
    size = f" of {len(pair)} items" if isinstance(pair, (tuple, list)) else ""
    return f"the app sent a header as {kind(pair)}{size}; expected a (name, value) pair"


def header_fault(name: object, value: object) -> str:
    if type(name) is not bytes:
        return f"the app sent a header name as {kind(name)}: {shown(name)}"
    if type(value) is not bytes:
        return f"the app sent the value of header {shown(name)} as {kind(value)}"
    if not name.translate(TOKEN).isalpha():
        return f"the app sent a header name that is not an HTTP token: {shown(name)}"
    at, character = min((value.find(byte), label) for byte, label in ((CR, "CR"), (LF, "LF"), (NUL, "NUL")) if byte in value)
    return f"the app sent the value of header {shown(name)} with {character} at byte {at}; header values may not hold CR, LF or NUL"
