"""One HTTP response streamed to the Runtime API as the app sends it: the `ResponseStream` the HTTP
cycle writes to when the layer's client serves a source whose answer can stream (`streams`).
Imported with the first streamed event, so a function whose handler is not an Adapter never loads
asyncio.

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
from typing import TYPE_CHECKING

from ..exceptions import UnexpectedMessage
from ..protocols.http_cycle import ClientDisconnected
from ..sources.common import BODYLESS_STATUSES
from .api import ERROR_TYPE, PREFIX, RuntimeConnection, error_result

if TYPE_CHECKING:
    from collections.abc import Callable

    from ..protocols.http_cycle import HTTPCycle
    from ..types import Headers, HTTPRequest, Response

logger = logging.getLogger("asgi_lambda.runtime")

ERROR_BODY = "Lambda-Runtime-Function-Error-Body"
PRELUDE_TYPE = "application/vnd.awslambda.http-integration-response"
DELIMITER = b"\0" * 8  # between the prelude and the body


class StreamedResponse:
    """Each message the app sends, written to the Runtime API as it comes: the prelude at
    `http.response.start`, a chunk per non-empty body. `write` returns once the bytes are with the
    socket (`drain`): a slow caller holds the app back rather than filling memory."""

    def __init__(self, request: HTTPRequest, connection: RuntimeConnection, request_id: str, *, headers: str = "") -> None:
        self.request = request
        self.headers = headers  # more header lines for the POST (the invocation id to send back)
        self.connection = connection
        self.request_id = request_id
        self.path = f"{PREFIX}/invocation/{request_id}/response"
        self.on_gone: Callable[[], None] = lambda: None
        self.status = 500  # the status the caller got, once the prelude went out
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None
        self.watcher: asyncio.Task[None] | None = None
        self.gone = False  # the Runtime API closed the stream: the caller went away
        self.ended = False  # the last chunk is written
        self.answer: tuple[int, bytes] | None = None  # the Runtime API's reply to the POST

    async def start(self, status: int, headers: Headers) -> None:
        self.status = status  # the status the caller gets (the 500 that replaced a failed response included)
        prelude = self.request.to_response({"status": status, "headers": headers, "body": b""})
        for key in ("body", "isBase64Encoded"):
            prelude.pop(key, None)
        # TCP_NODELAY: asyncio's default
        self.reader, self.writer = await asyncio.open_connection(self.connection.host, self.connection.port)
        head = (
            f"POST {self.path} HTTP/1.1\r\nHost: {self.connection.address}\r\n"
            "Lambda-Runtime-Function-Response-Mode: streaming\r\nTransfer-Encoding: chunked\r\n"
            f"Content-Type: {PRELUDE_TYPE}\r\nTrailer: {ERROR_TYPE}, {ERROR_BODY}\r\n{self.headers}\r\n"
        ).encode()
        data = json.dumps(prelude).encode() + DELIMITER
        self.writer.write(b"%s%X\r\n%s\r\n" % (head, len(data), data))
        self.watcher = asyncio.get_running_loop().create_task(self.watch())
        await self.drain()

    async def write(self, body: bytes, *, last: bool) -> None:
        if self.writer is None:
            return
        if self.request.scope["method"] == "HEAD" or self.status in BODYLESS_STATUSES:
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
            self.on_gone()  # a receive waiting for the client to leave gets http.disconnect

    async def conclude(self, cycle: HTTPCycle, response: Response) -> None:
        """After the app: end the stream (with the error in the trailers if the response is cut
        short), or, if nothing went out yet, answer as the buffered path would, then close."""
        if self.writer is None:
            if cycle.error is not None:
                raise cycle.error  # before the first byte: an invocation error
            await self.start(response["status"], response["headers"])
            await self.write(response["body"], last=True)
        elif not self.ended and not self.gone:
            error = cycle.error or cycle.fault or UnexpectedMessage("ASGI application returned without completing its response")
            result = error_result(error, self.request_id)
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
