"""One HTTP response streamed to the Runtime API as the app sends it: the runtime client's
(runtime_client.py) streaming half, imported with the first event an Adapter answers, so that a
function whose handler is not an Adapter never loads asyncio or the adapter.

The POST is chunked (`Lambda-Runtime-Function-Response-Mode: streaming`), declares its error
trailers up front, and carries the JSON prelude (status, headers, cookies; `multiValueHeaders` for
REST) and eight NUL bytes, then each body chunk as the app sends it. An error after the first byte
goes in the trailers; one before it is the invocation's error.
https://docs.aws.amazon.com/lambda/latest/dg/runtimes-custom.html#runtimes-custom-response-streaming
"""

from __future__ import annotations

import asyncio
import base64
import json
import logging
from time import perf_counter
from typing import TYPE_CHECKING, Any

from .adapter import log_http_access
from .exceptions import UnexpectedMessage
from .http_cycle import HTTPCycle, HTTPCycleState
from .runtime_client import ERROR_TYPE, PREFIX, RuntimeConnection
from .runtime_support import error_result
from .sources.apigw_http import HttpApiEvent
from .sources.apigw_rest import RestApiEvent
from .sources.common import BODYLESS_STATUSES

if TYPE_CHECKING:
    from .adapter import Adapter
    from .types import ASGIApp, HTTPRequest, LambdaEvent, Message, Response

logger = logging.getLogger("asgi_lambda.runtime")

ERROR_BODY = "Lambda-Runtime-Function-Error-Body"
PRELUDE_TYPE = "application/vnd.awslambda.http-integration-response"
DELIMITER = b"\0" * 8  # between the prelude and the body


class ClientDisconnected(ConnectionResetError):
    """Raised by `send` once the caller is gone (an OSError, as ASGI asks), after `http.disconnect`."""


def streams(event: LambdaEvent, request: Any) -> bool:
    """Whether Lambda can stream this event's answer: a Function URL's, or a REST API's. HTTP API
    events share the Function URL's payload but cannot stream, nor can HTTP API payload 1.0."""
    if isinstance(request, HttpApiEvent):
        return ".lambda-url." in (event["requestContext"].get("domainName") or "")
    return isinstance(request, RestApiEvent) and "version" not in event


class StreamingCycle(HTTPCycle):
    """The HTTP cycle with each message the app sends written to the Runtime API as it comes: the
    prelude at `http.response.start`, a chunk per non-empty body. `send` returns once the bytes are
    with the socket (`drain`): a slow caller holds the app back rather than filling memory."""

    __slots__ = ("request", "connection", "path", "reader", "writer", "watcher", "error", "gone", "ended", "answer")

    def __init__(self, request: HTTPRequest, connection: RuntimeConnection, request_id: str) -> None:
        super().__init__(request.scope, request.body)
        self.request = request
        self.connection = connection
        self.path = f"{PREFIX}/invocation/{request_id}/response"
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None
        self.watcher: asyncio.Task[None] | None = None
        self.error: Exception | None = None  # what the app raised
        self.gone = False  # the Runtime API closed the stream: the caller went away
        self.ended = False  # the last chunk is written
        self.answer: tuple[int, bytes] | None = None  # the Runtime API's reply to the POST

    async def run(self, app: ASGIApp) -> Response:
        async def recorded(scope: Any, receive: Any, send: Any) -> None:
            try:
                await app(scope, receive, send)
            except Exception as exc:
                self.error = exc
                raise

        return await super().run(recorded)

    async def receive(self) -> Message:
        if self.gone:
            return {"type": "http.disconnect"}
        return await super().receive()

    async def send(self, message: Message) -> None:
        if self.gone:
            raise ClientDisconnected("the caller went away: the Runtime API closed the response stream")
        before = self.state
        await super().send(message)  # checks the message and moves the state on, or raises
        if before is HTTPCycleState.REQUEST:
            await self.open(self.status, self.headers)
        elif self.chunks:
            await self.write(self.chunks.pop(), last=self.state is HTTPCycleState.COMPLETE)

    async def open(self, status: int, headers: Any) -> None:
        self.status = status  # the status the caller gets (the 500 that replaced a failed response included)
        prelude = self.request.to_response({"status": status, "headers": headers, "body": b""})
        for key in ("body", "isBase64Encoded"):
            prelude.pop(key, None)
        self.reader, self.writer = await asyncio.open_connection(
            self.connection.host, self.connection.port
        )  # TCP_NODELAY: asyncio's default
        head = (
            f"POST {self.path} HTTP/1.1\r\nHost: {self.connection.address}\r\n"
            "Lambda-Runtime-Function-Response-Mode: streaming\r\nTransfer-Encoding: chunked\r\n"
            f"Content-Type: {PRELUDE_TYPE}\r\nTrailer: {ERROR_TYPE}, {ERROR_BODY}\r\n\r\n"
        ).encode()
        data = json.dumps(prelude).encode() + DELIMITER
        self.writer.write(b"%s%X\r\n%s\r\n" % (head, len(data), data))
        self.watcher = asyncio.get_running_loop().create_task(self.watch())
        await self.drain()

    async def write(self, body: bytes, *, last: bool) -> None:
        if self.writer is None:
            return
        if self.scope["method"] == "HEAD" or self.status in BODYLESS_STATUSES:
            body = b""
        # An empty chunk would end the body: an empty message writes nothing. One write() a message:
        # writelines() never pauses the protocol (CPython 3.12, 3.13), so drain() would not wait.
        data = b"%X\r\n%s\r\n" % (len(body), body) if body else b""
        if last:
            data += b"0\r\n\r\n"
            self.ended = True
        if data:
            self.writer.write(data)
            await self.drain()

    async def drain(self) -> None:
        assert self.writer is not None
        try:
            await self.writer.drain()
        except ConnectionError:
            self.went_away()
            raise ClientDisconnected("the caller went away: the Runtime API closed the response stream") from None

    async def watch(self) -> None:
        """Read the Runtime API's reply. One before the body ends means the stream was cut (the
        caller went away, or Lambda refused it): the app gets `http.disconnect`."""
        assert self.reader is not None
        try:
            head = await self.reader.readuntil(b"\r\n\r\n")
            length = next((int(line[15:]) for line in head.lower().split(b"\r\n") if line.startswith(b"content-length:")), 0)
            self.answer = int(head.split(b" ", 2)[1]), await self.reader.readexactly(length)
        except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, ConnectionError, ValueError):
            pass
        if not self.ended:
            self.went_away()

    def went_away(self) -> None:
        if not self.gone:
            self.gone = True
            logger.info("The caller went away before the response was complete.")
            self.finish()  # a receive waiting for the client to leave gets http.disconnect

    async def conclude(self, response: Response, request_id: str) -> None:
        """After the app: end the stream (with the error in the trailers if the response is cut
        short), or, if nothing went out yet, answer as the buffered path would, then close."""
        if self.writer is None:
            if self.error is not None:
                raise self.error  # before the first byte: an invocation error
            await self.open(response["status"], response["headers"])
            await self.write(response["body"], last=True)
        elif not self.ended and not self.gone:
            error = self.error or self.fault or UnexpectedMessage("ASGI application returned without completing its response")
            result = error_result(error, request_id)
            body = base64.b64encode(json.dumps(result).encode()).decode()
            self.writer.write(f"0\r\n{ERROR_TYPE}: {result['errorType']}\r\n{ERROR_BODY}: {body}\r\n\r\n".encode())
            self.ended = True
        await self.close()

    async def close(self) -> None:
        assert self.writer is not None and self.watcher is not None
        try:
            if not self.gone:
                await self.writer.drain()
                await asyncio.wait_for(asyncio.shield(self.watcher), 30)
        except (TimeoutError, ConnectionError):
            pass
        self.watcher.cancel()
        self.writer.close()
        if self.answer is not None and self.answer[0] != 202:
            logger.error(
                "The Runtime API answered the streamed response with %d: %s",
                self.answer[0],
                self.answer[1][:500].decode("utf-8", "replace"),
            )


async def stream_response(adapter: Adapter, request: HTTPRequest, connection: RuntimeConnection, request_id: str) -> None:
    """Run the app on `request`, streaming its response; the access log's line (when on) comes once
    the body has ended, with the status the caller got."""
    access = (perf_counter(), request.scope["path"]) if adapter.settings.access_log else None  # as Adapter.http reads them
    cycle = StreamingCycle(request, connection, request_id)
    try:
        response = await adapter.running(request, cycle)
        await cycle.conclude(response, request_id)
    finally:
        if access is not None:
            # The prelude's status once it went out; else the invocation failed before it: a 500.
            status = cycle.status if cycle.writer is not None else 500
            log_http_access(request, status=status, started=access[0], path=access[1])
