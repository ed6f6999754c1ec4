"""`serve --stream`: each response relayed to the client as the function streams it, as a Function URL
with `InvokeMode: RESPONSE_STREAM` relays it (or, with `--payload v1`, a REST method with
`responseTransferMode: STREAM`).

Both ways of running the function answer through the Runtime API emulator (runtime_api.py), with
ASGI_INVOKE_MODE=response_stream: `--runtime` runs the built layer in a child process
(runtime_function.py); otherwise `InProcessStreamingFunction` serves the handler with the layer's own
Runtime API client (runtime_client.py) in a thread of this process. Either way the bytes the client
gets are the ones Lambda would get, streamed by the code that streams them on Lambda.
"""

from __future__ import annotations

import asyncio
import json
import os
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import TYPE_CHECKING, Any

from .events import ACCOUNT_ID, HOP_BY_HOP, REGION, TIMEOUT_SECONDS, MalformedResponse, Request, http_api_event, http_response
from .function import FunctionError, local_handler

if TYPE_CHECKING:
    from ..adapter import Adapter
    from ..types import Receive, Send
    from .runtime_api import Invocation, RuntimeAPI, Stream

URL_ID = "local"  # the Function URL's id: its domain is {URL_ID}.lambda-url.{REGION}.on.aws
SLICE = 0.25  # seconds one wait for the next chunk lasts, before the function is looked at again
DELIMITER = b"\0" * 8  # between the prelude and the body


def function_url_event(request: Request) -> dict[str, Any]:
    """What a Function URL sends (tests/events/function_url_get.json): payload 2.0, on the URL's
    `*.lambda-url.*` domain (which is what tells the layer it may stream), `rawPath` as the client
    encoded it, and the Cookie header kept beside `cookies`. The Host header stays the client's, so
    the URLs the app makes lead back here."""
    event = http_api_event(request)
    event["rawPath"] = request.raw_path
    if "cookies" in event:
        event["headers"]["cookie"] = "; ".join(event["cookies"])
    event["requestContext"].update(
        accountId="anonymous", apiId=URL_ID, domainName=f"{URL_ID}.lambda-url.{REGION}.on.aws", domainPrefix=URL_ID
    )
    return event


def answer(result: Invocation) -> Any:
    """The handler's answer, or a FunctionError carrying the invocation's error and its trace."""
    if not result.ok:
        payload = result.payload if isinstance(result.payload, dict) else {}
        trace = "".join(payload.get("stackTrace") or [])
        raise FunctionError(f"{result.error_type}: {payload.get('errorMessage', result.body[:500])}\n{trace}".rstrip())
    return result.payload


class EmulatedFunction:
    """A function that answers through the Runtime API emulator: events in, answers or streams out,
    one invocation at a time, as one execution environment takes them (`max_concurrency` at once, as
    one on Lambda Managed Instances)."""

    def __init__(self, function_name: str, *, max_concurrency: int = 1) -> None:
        self.function_name = function_name
        self.executor = ThreadPoolExecutor(max_workers=max_concurrency, thread_name_prefix="lambda-invoke")
        self.api: RuntimeAPI | None = None

    @property
    def arn(self) -> str:
        return f"arn:aws:lambda:{REGION}:{ACCOUNT_ID}:function:{self.function_name}"

    def running(self) -> RuntimeAPI:
        """The emulator, once the function is up; raises FunctionError if it is not (or no longer)."""
        if self.api is None:
            raise FunctionError("the function was not started")
        return self.api

    async def invoke(self, event: dict[str, Any]) -> Any:
        return await asyncio.get_running_loop().run_in_executor(self.executor, self.call, event)

    def call(self, event: dict[str, Any]) -> Any:
        api = self.running()
        result = api.invoke(event, timeout=TIMEOUT_SECONDS, function_arn=self.arn)
        api.forget(result.request_id)  # read once: a long session must not keep every answer
        return answer(result)

    async def stream(self, event: dict[str, Any]) -> Stream | Any:
        """The streamed response to `event` once it has begun, or the whole answer to an event the
        function answers buffered; raises FunctionError when the function fails before the first byte."""
        return await asyncio.get_running_loop().run_in_executor(self.executor, self.begin, event)

    def begin(self, event: dict[str, Any]) -> Stream | Any:
        api = self.running()
        request_id = api.submit(event, timeout=TIMEOUT_SECONDS, function_arn=self.arn)
        deadline = time.monotonic() + TIMEOUT_SECONDS
        while True:
            stream = api.stream(request_id, SLICE)
            if stream is not None:
                return stream
            result = api.result(request_id, 0)
            if result is not None:
                api.forget(request_id)
                return answer(result)
            self.running()  # the function may have gone meanwhile
            if time.monotonic() > deadline:
                api.cancel(request_id)
                raise FunctionError(f"no response to request {request_id} began within {TIMEOUT_SECONDS:g} s")

    def ended(self, stream: Stream) -> bool:
        """Whether the emulator has the stream's outcome: a stream can stop short of its last chunk
        (the function's process died) and still be over."""
        return self.api is None or self.api.result(stream.request_id, 0) is not None

    def relayed(self, stream: Stream) -> None:
        """The stream has reached the client: the emulator keeps nothing of it."""
        if self.api is not None:
            self.api.forget(stream.request_id)


class QuietErrors:
    """The runtime client's error log, in this process: an invocation's error reaches the gateway,
    which prints it with its trace (gateway.report); the app's own errors are logged as they happen."""

    def error(self, result: dict[str, Any]) -> None:
        pass


class InProcessStreamingFunction(EmulatedFunction):
    """`serve --stream` without `--runtime`: the handler made in this process as `InProcessFunction`
    makes it (the same variables), served in the function's one thread by the layer's own Runtime API
    client with ASGI_INVOKE_MODE=response_stream, against an emulator of its own."""

    def __init__(self, *, function_name: str = "asgi-lambda-local", app_variable: str = "ASGI_APP") -> None:
        super().__init__(function_name)
        self.app_variable = app_variable
        self.thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="lambda-function")
        self.handler: Adapter | None = None
        self.serving: Future[None] | None = None
        self.closed = False

    def start(self) -> None:
        from .runtime_api import RuntimeAPI

        self.api = RuntimeAPI()
        self.thread.submit(self.init).result()  # raises what the init raises, as InProcessFunction.start
        self.serving = self.thread.submit(self.serve)

    def init(self) -> None:
        self.handler = local_handler(os.environ, app_variable=self.app_variable)

    def serve(self) -> None:
        from ..runtime.api import RuntimeClientError, RuntimeConnection
        from ..runtime.client import RuntimeClient

        assert self.api is not None and self.handler is not None
        connection = RuntimeConnection(self.api.address)
        client = RuntimeClient(self.handler, invoke_mode="response_stream", connection=connection, logs=QuietErrors())
        try:
            client.serve_forever()
        except (RuntimeClientError, OSError, EOFError):
            pass  # the emulator closed: the server is stopping

    def running(self) -> RuntimeAPI:
        api = super().running()
        if self.serving is None or self.serving.done():
            raise FunctionError("the function's runtime client has stopped")
        return api

    def close(self) -> None:
        if self.closed:
            return
        self.closed = True
        if self.api is not None:
            self.api.close()  # ends the client's wait for its next event: the thread is free
        try:
            if self.handler is not None:
                self.thread.submit(self.handler.close).result()  # lifespan shutdown, on the adapter's loop
        finally:
            self.thread.shutdown(wait=True)
            self.executor.shutdown(wait=False)


# --- the relay ------------------------------------------------------------------------------------


def more(stream: Stream, timeout: float) -> tuple[list[bytes], bool]:
    """The chunks that came since the last call, taken out of the stream (each is relayed once, and
    a long stream must not sit in memory whole), waiting up to `timeout` for one; and whether the
    stream is over (its last chunk came, or the caller hung up). Waits on the emulator's own
    condition, which it notifies at each chunk."""
    cond = stream._cond
    with cond:
        cond.wait_for(lambda: bool(stream.chunks) or stream.complete or stream.hung_up, timeout)
        taken = [data for _, data in stream.chunks]
        stream.chunks.clear()
        return taken, stream.complete or stream.hung_up


class Relayed:
    """How a relayed stream went: the status sent (None: no prelude came) and why it was cut short, if it was."""

    def __init__(self) -> None:
        self.status: int | None = None
        self.cut: str | None = None


async def relay(stream: Stream, ended: Callable[[], bool], receive: Receive, send: Send, *, head: bool) -> Relayed:
    """Send the client the prelude's status and headers, then each part of the body as it arrives. A
    client that leaves hangs the stream up (the function's `send` then raises). A stream cut short
    (an error in the trailers, the function gone) leaves the response unfinished, so the client sees
    the connection cut, as from a Function URL."""
    outcome = Relayed()

    async def watch() -> None:
        while (await receive())["type"] != "http.disconnect":
            pass
        stream.hang_up()

    watcher = asyncio.get_running_loop().create_task(watch())
    try:
        pending = b""
        while True:
            chunks, over = await asyncio.to_thread(more, stream, SLICE)
            data = b"".join(chunks)
            if outcome.status is None:
                pending += data
                if DELIMITER not in pending:
                    if over or (not chunks and ended()):
                        raise MalformedResponse("the stream ended before its prelude (status and headers)")
                    continue
                prelude, _, data = pending.partition(DELIMITER)
                outcome.status, headers = prelude_answer(prelude)
                await send({"type": "http.response.start", "status": outcome.status, "headers": headers})
            if data and not head:
                await send({"type": "http.response.body", "body": data, "more_body": True})
            if over or (not chunks and ended()):
                break
        if stream.hung_up:
            outcome.cut = "the client went away"
        elif stream.error is not None:
            error = stream.error if isinstance(stream.error, dict) else {}
            outcome.cut = f"{error.get('errorType', 'Error')}: {error.get('errorMessage', stream.error)}"
        elif not stream.complete:
            outcome.cut = "the function stopped before the end of the body"
        else:
            await send({"type": "http.response.body", "body": b""})
        return outcome
    finally:
        watcher.cancel()


def prelude_answer(prelude: bytes) -> tuple[int, list[tuple[bytes, bytes]]]:
    """Status and headers from the prelude, read as the front end reads them: `headers` and `cookies`
    (Function URL) or `multiValueHeaders` (REST). No Content-Length: the body goes out chunked."""
    try:
        shaped = json.loads(prelude)
    except ValueError as exc:
        raise MalformedResponse(f"the stream's prelude is not JSON: {exc}") from None
    if not isinstance(shaped, dict):
        raise MalformedResponse(f"the stream's prelude is not a JSON object: {prelude[:200]!r}")
    status, headers, _ = http_response({**shaped, "body": ""}, payload="v2")
    return status, [(name.lower().encode("latin-1"), value.encode("latin-1")) for name, value in headers if name.lower() not in HOP_BY_HOP]
