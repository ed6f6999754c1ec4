"""Invocations at once, in one process, on one event loop: Lambda Managed Instances.

With AWS_LAMBDA_MAX_CONCURRENCY=N (N above 1), one execution environment takes up to N invocations
at once: N concurrent GET /next on the same Runtime API, each answered by its own POST. AWS's own
Python runtime forks N processes, each with its own init, memory and pools. An ASGI app is
asynchronous: here N slots, tasks on the shared loop (protocols/loop.py), each keep one GET /next
outstanding while free, serve the invocation it brings (the app's work after the answer included),
then ask again; one init, one lifespan, one WebSocket store and Management API pool for all.

Each invocation runs in its slot's task, so what is per invocation stays its own: the context; the
request id and tenant on log lines (logs.CURRENT); `scope["aws.trace_id"]`, from the context; the
WebSocket cycle and hub that `send` and `broadcast` use (contextvars in websocket/). Only
_X_AMZN_TRACE_ID is the process's: it holds the latest invocation's header.

A handler that is not an Adapter runs in a thread pool of N threads, each call in a copy of its
slot's context; one that calls an Adapter itself finds the loop running in the main thread and
hands it the app (loop.run). SIGTERM stops the slots asking for events; the invocations under way
finish, then lifespan shutdown runs and the process ends as SIGTERM ends it. As awslambdaric's
multi-concurrent client does, a refused POST is logged and the slot goes on, and a failed GET
/next is tried 5 times, 0.1 s apart and doubling, before the process ends.
"""

from __future__ import annotations

import asyncio
import contextvars
import logging
import os
import signal
import threading
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from ..protocols import loop
from ..protocols.http_cycle import internal_error
from .api import PREFIX, USER_AGENT, RuntimeClientError, RuntimeConnection, dumps, error_headers, error_result, xray_cause
from .context import LambdaContext
from .invocation import STREAMED, begin, is_adapter, marshal, unmarshal

if TYPE_CHECKING:
    from concurrent.futures import ThreadPoolExecutor

    from ..adapter import Adapter, Remainder
    from .invocation import ErrorLog

NEXT_ATTEMPTS = 5
NEXT_RETRY_DELAY = 0.1  # seconds, doubled after each failure
HEAD_LIMIT = 1024 * 1024  # the Runtime API's headers (a client context is a few KB)


class AsyncConnection:
    """HTTP/1.1 to the Runtime API on one kept-alive asyncio connection: one slot's."""

    def __init__(self, address: str) -> None:
        self.address = address
        host, _, port = address.rpartition(":")
        self.host, self.port = host.strip("[]"), int(port)
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def request(self, method: str, path: str, body: bytes = b"", headers: str = "") -> tuple[int, dict[str, str], bytes]:
        head = f"{method} {path} HTTP/1.1\r\nHost: {self.address}\r\n{USER_AGENT}Content-Length: {len(body)}\r\n{headers}\r\n".encode()
        for attempt in (1, 2):
            reused = self.writer is not None
            if self.writer is None:
                self.reader, self.writer = await asyncio.open_connection(self.host, self.port, limit=HEAD_LIMIT)
            try:
                self.writer.write(head + body)
                await self.writer.drain()
                return await self.response()
            except (ConnectionError, EOFError, asyncio.IncompleteReadError):
                self.close()
                if not reused or attempt == 2:  # a kept-alive connection the API closed meanwhile: once more
                    raise
        raise AssertionError("unreachable")

    async def response(self) -> tuple[int, dict[str, str], bytes]:
        assert self.reader is not None
        head = await self.reader.readuntil(b"\r\n\r\n")
        status_line, *lines = head.decode("latin-1").split("\r\n")
        version, status, _ = (status_line + "  ").split(" ", 2)
        headers: dict[str, str] = {}
        for line in lines:
            if line:
                name, _, value = line.partition(":")
                headers[name.strip().lower()] = value.strip()
        if "content-length" in headers:
            body = await self.reader.readexactly(int(headers["content-length"]))
        else:
            body = await self.reader.read()  # delimited by the close
            headers["connection"] = "close"
        if version == "HTTP/1.0" or headers.get("connection", "").lower() == "close":
            self.close()
        return int(status), headers, body

    async def post(self, path: str, body: bytes, headers: str) -> None:
        """POST an answer; a refusal, or no Runtime API, raises RuntimeClientError, as RuntimeConnection.post."""
        what = "error" if path.endswith("/error") else "response"
        try:
            status, _, answer = await self.request("POST", f"{PREFIX}/{path}", body, headers)
        except (OSError, EOFError, asyncio.IncompleteReadError) as exc:
            raise RuntimeClientError(f"Failed to post invocation {what}") from exc
        if status != 202:
            report = f"Failed to post handler success response. Http response code: {status}. {answer.decode('utf-8', 'replace')}"
            raise RuntimeClientError(f"Failed to post invocation {what}", report)

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
        self.reader = self.writer = None


class ConcurrentClient:
    """Up to `limit` invocations at once, each slot a task: GET next, the handler, the answer; until SIGTERM."""

    def __init__(self, handler: Callable[..., Any], *, invoke_mode: str, address: str, logs: ErrorLog, limit: int) -> None:
        self.handler = handler
        self.adapter = handler if is_adapter(handler) else None
        self.streaming = invoke_mode == "response_stream"
        self.address = address
        self.logs = logs
        self.limit = limit
        self.pool: ThreadPoolExecutor | None = None
        if self.adapter is None:
            from concurrent.futures import ThreadPoolExecutor

            self.pool = ThreadPoolExecutor(max_workers=limit, thread_name_prefix="lambda-invocation")
        self.stopping = False
        self.waiting: set[asyncio.Task[Any]] = set()  # the GET /next of each free slot

    def serve_forever(self) -> None:
        """Serve until SIGTERM; then let the invocations under way finish, run lifespan shutdown (the
        lifespan's SIGTERM handler schedules it) and end the process as SIGTERM would have."""
        loop.when_stop_requested(self.stop)
        if threading.current_thread() is threading.main_thread() and signal.getsignal(signal.SIGTERM) == signal.SIG_DFL:
            signal.signal(signal.SIGTERM, on_sigterm)  # no lifespan handler: still finish what is under way
        loop.run(self.serve())
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        os.kill(os.getpid(), signal.SIGTERM)

    def stop(self) -> None:
        """SIGTERM (on the loop): no slot asks for another event."""
        self.stopping = True
        for waiting in list(self.waiting):
            waiting.cancel()

    async def serve(self) -> None:
        slots = [asyncio.get_running_loop().create_task(self.slot()) for _ in range(self.limit)]
        try:
            await asyncio.gather(*slots)
        finally:
            for slot in slots:
                slot.cancel()
            if self.pool is not None:
                self.pool.shutdown(wait=False)

    async def slot(self) -> None:
        connection = AsyncConnection(self.address)
        try:
            while not self.stopping:
                waiting = asyncio.get_running_loop().create_task(self.next(connection))
                self.waiting.add(waiting)
                try:
                    headers, body = await waiting
                except asyncio.CancelledError:
                    if self.stopping and waiting.cancelled():
                        return
                    raise
                finally:
                    self.waiting.discard(waiting)
                await self.invoke(connection, headers, body)
        finally:
            connection.close()

    async def next(self, connection: AsyncConnection) -> tuple[dict[str, str], bytes]:
        """GET /next, tried again on failure as awslambdaric's multi-concurrent client tries it."""
        delay = NEXT_RETRY_DELAY
        for attempt in range(1, NEXT_ATTEMPTS + 1):
            try:
                status, headers, body = await connection.request("GET", f"{PREFIX}/invocation/next")
            except (OSError, EOFError, asyncio.IncompleteReadError):
                failure = RuntimeClientError("Failed to get next", "Failed to get next invocation. No Response from endpoint")
            else:
                if status == 200:
                    return headers, body
                failure = RuntimeClientError("Failed to get next", f"Failed to get next invocation. Http Response code: {status}")
            failure.write_report()
            if attempt == NEXT_ATTEMPTS:
                raise failure
            logging.warning(f"Initial runtime_client.next() failed: {failure}" if attempt == 1 else f"Attempt {attempt} failed: {failure}")
            logging.info(f"Retrying runtime_client.next() [attempt {attempt + 1}]...")
            await asyncio.sleep(delay)
            delay *= 2
        raise AssertionError("unreachable")

    async def invoke(self, connection: AsyncConnection, headers: Mapping[str, str], body: bytes) -> None:
        request_id, echo = begin(headers, own_context=True)
        rest: Remainder | None = None
        context: LambdaContext | None = None
        try:
            context = LambdaContext(headers)
            event = unmarshal(body, headers.get("content-type"))
            if self.adapter is None:
                result = await self.call(event, context)
            else:
                result, rest = await self.answer(self.adapter, event, context, request_id, echo)
            if result is not STREAMED:
                payload, content_type = marshal(result)
        except Exception as exc:
            failure = error_result(exc, request_id)
            self.logs.error(failure)
            path = f"invocation/{request_id}/error"
            await self.post(connection, path, dumps(failure).encode(), error_headers(path, failure, cause=xray_cause(exc), headers=echo))
        else:
            if result is not STREAMED:
                await self.post(connection, f"invocation/{request_id}/response", payload, f"Content-Type: {content_type}\r\n{echo}")
        if rest is not None and context is not None:
            await rest.finish(context._deadline_ms / 1000 or None)

    async def answer(
        self, adapter: Adapter, event: Any, context: LambdaContext, request_id: str, echo: str
    ) -> tuple[Any, Remainder | None]:
        """The Adapter's answer (STREAMED when it went out as a stream) and the app's remainder."""
        mapped = adapter.map(event, context)
        if mapped.kind == "websocket":
            return await adapter.answer_websocket(mapped), None
        if mapped.kind == "fanout":
            return await adapter.answer_fanout(mapped), None
        if self.streaming and mapped.streams:
            from .stream import StreamedResponse

            stream = StreamedResponse(mapped, RuntimeConnection(self.address), request_id, headers=echo)
            return STREAMED, (await adapter.answer_http(mapped, stream)).rest
        early = await adapter.answer_http(mapped)
        return adapter.shape(mapped, early.response or internal_error(), early.access), early.rest

    async def call(self, event: Any, context: LambdaContext) -> Any:
        """A plain handler, in the pool's thread, in a copy of this invocation's context."""
        run = contextvars.copy_context().run
        return await asyncio.get_running_loop().run_in_executor(self.pool, run, self.handler, event, context)

    async def post(self, connection: AsyncConnection, path: str, body: bytes, headers: str) -> None:
        try:
            await connection.post(path, body, headers)
        except RuntimeClientError as exc:  # as awslambdaric's multi-concurrent client: logged, and on
            exc.write_report()
            logging.warning(f"{exc}: This won't kill the Runtime loop")


def on_sigterm(signum: int, frame: object) -> None:
    signal.signal(signal.SIGTERM, signal.SIG_DFL)  # a second SIGTERM ends the process at once
    loop.request_stop()
