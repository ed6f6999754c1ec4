"""WSGI apps (Flask, Django, Bottle) as ASGI 3 apps, for the HTTP cycle to run like any other.

PEP 3333 is the contract: https://peps.python.org/pep-3333/. The request is whole by the time the
app runs (Lambda hands it over in one event), so `wsgi.input` is the body in memory and
CONTENT_LENGTH its length. SCRIPT_NAME is the scope's `root_path` (the stage and the base path) and
PATH_INFO the rest of the path, so the framework routes on PATH_INFO and builds URLs that carry the
prefix. The response goes out as ASGI messages: its status and headers with the first non-empty
chunk (so `start_response` may still replace them, with `exc_info`, until then), then each chunk as
the app's iterable yields it, which is what a streamed response (ASGI_INVOKE_MODE=response_stream)
sends chunk by chunk.

Where the app runs: with one invocation at a time (the Lambda default), on the calling thread, in
the invocation's own step, with the event loop hidden from it while it runs (`asyncio` sees no
running loop), so Django's ORM (which refuses to run inside an event loop) and asgiref's
`async_to_sync` (Flask's async views) work as under any WSGI server; it costs no thread hop. With
AWS_LAMBDA_MAX_CONCURRENCY above 1, invocations share the loop, so each WSGI call runs in a thread
of a pool of that size and hands each message to the loop: the loop stays free for the others.

Not a2wsgi's WSGIMiddleware, which Starlette points to: it runs every call in a thread and hands
each message across, which made a Flask "hello" cost about four times apig-wsgi's per call here
(make bench); it also sends the headers at `start_response` and leaves CONTENT_LENGTH unset when the
request had no Content-Length header (Werkzeug then reads an empty body).
"""

from __future__ import annotations

import sys
from collections.abc import Generator, Iterable, Iterator
from functools import partial
from io import BytesIO
from typing import TYPE_CHECKING, Any

from .http_cycle import HTTPCycle, HTTPCyclePhase

if TYPE_CHECKING:
    import asyncio
    from concurrent.futures import ThreadPoolExecutor

    from ..types import Headers, Message, Receive, Response, Scope, Send

WSGIApp = Any  # Callable[[dict[str, Any], StartResponse], Iterable[bytes]]

# Request header names as environ keys: the same few names come in every request.
ENVIRON_NAMES: dict[bytes, str] = {b"content-type": "CONTENT_TYPE", b"content-length": ""}
MAX_ENVIRON_NAMES = 512


PROTOCOLS = {"1.1": "HTTP/1.1", "2": "HTTP/2", "2.0": "HTTP/2.0", "1.0": "HTTP/1.0"}


class WSGINotForWebSocket(RuntimeError):
    """A scope other than HTTP reached a WSGI app (the adapter refuses WebSocket events before, and
    gives a WSGI app no lifespan): WSGI has only HTTP."""


class WSGIBridge:
    """The WSGI app `app` as an ASGI 3 app. `threads` above 1 runs each call in a pool of that many
    threads (concurrent invocations); otherwise calls run inline, one at a time."""

    __slots__ = ("app", "pool")

    def __init__(self, app: WSGIApp, *, threads: int = 1) -> None:
        self.app = app
        self.pool: ThreadPoolExecutor | None = None
        if threads > 1:
            from concurrent.futures import ThreadPoolExecutor

            self.pool = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="wsgi")

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            raise WSGINotForWebSocket(f"a WSGI app cannot take {scope['type']!r} scopes")
        message = await receive()
        body = message.get("body", b"")
        while message.get("more_body", False):  # the HTTP cycle sends it whole; any other caller may not
            message = await receive()
            body += message.get("body", b"")
        environ = environ_for(scope, body, threaded=self.pool is not None)
        if self.pool is not None:
            import asyncio  # loaded: this runs on the loop
            import contextvars

            running = asyncio.get_running_loop()
            call = contextvars.copy_context().run  # the invocation's request id reaches the app's log lines
            await running.run_in_executor(self.pool, call, in_thread, self.app, environ, send, running)
            return
        messages = respond(self.app, environ)
        try:
            while (message := outside_loop(next, messages, None)) is not None:
                await send(message)
        finally:
            outside_loop(messages.close)

    @property
    def inline(self) -> bool:
        """Whether calls run on the calling thread: a buffered answer then needs no event loop (`answer`)."""
        return self.pool is None

    def close(self) -> None:
        if self.pool is not None:
            self.pool.shutdown(wait=False)


def answer(bridge: WSGIBridge, cycle: HTTPCycle) -> Response:
    """A buffered answer of an inline WSGI call, with no coroutine and no event loop: the messages
    `respond` makes go straight into the cycle, `http.response.start` through the cycle's own checks
    (`HTTPCycle.start`), and the cycle's one rule (`HTTPCycle.outcome`) makes the answer. What the
    ASGI way (`WSGIBridge.__call__` under `HTTPCycle.run`) gives, for about a quarter less time."""
    error: Exception | None = None
    try:
        messages = respond(bridge.app, environ_for(cycle.scope, cycle.request_body))
        try:
            chunks = cycle.chunks
            for message in outside_loop_each(messages):
                if message["type"] == "http.response.start":
                    cycle.start(message)
                else:
                    chunks.append(message["body"])
        finally:
            outside_loop(messages.close)
        cycle.phase = HTTPCyclePhase.COMPLETE  # respond's last message has more_body False
    except Exception as raised:
        error = cycle.error = raised
    return cycle.outcome(error)


def outside_loop_each(messages: Iterator[Message]) -> Iterator[Message]:
    """`messages`, each made with the event loop hidden, if one runs (the layer's runtime client)."""
    asyncio = sys.modules.get("asyncio")
    if asyncio is None or asyncio._get_running_loop() is None:
        return messages
    return iter(partial(outside_loop, next, messages, None), None)


def outside_loop(function: Any, *arguments: Any) -> Any:
    """Call `function` with no running event loop in sight (the loop itself untouched): the WSGI
    app is synchronous code, and libraries check for a running loop to refuse or to change course.
    Without asyncio imported, no loop runs: an adapter serving the app inline never imports it."""
    asyncio = sys.modules.get("asyncio")
    if asyncio is None or (running := asyncio._get_running_loop()) is None:
        return function(*arguments)
    asyncio._set_running_loop(None)
    try:
        return function(*arguments)
    finally:
        asyncio._set_running_loop(running)


def in_thread(app: WSGIApp, environ: dict[str, Any], send: Send, running: asyncio.AbstractEventLoop) -> None:
    """One WSGI call in a pool thread: each message handed to the loop, and waited for, in turn."""
    import asyncio  # loaded: the loop runs

    messages = respond(app, environ)
    try:
        for message in messages:
            asyncio.run_coroutine_threadsafe(delivered(send, message), running).result()
    finally:
        messages.close()


async def delivered(send: Send, message: Message) -> None:
    await send(message)


def environ_for(scope: Scope, body: bytes, *, threaded: bool = False) -> dict[str, Any]:
    """PEP 3333's environ for an HTTP scope whose request body is `body`."""
    root_path: str = scope.get("root_path", "")
    path: str = scope["path"]
    if root_path and (path == root_path or path.startswith(root_path + "/")):
        path = path[len(root_path) :]  # else strip_root_path took it off already
    server = scope.get("server") or ("localhost", 80)
    environ: dict[str, Any] = {
        "REQUEST_METHOD": scope["method"],
        # Native strings holding bytes, as PEP 3333 asks: the UTF-8 of the decoded path, as latin-1.
        "SCRIPT_NAME": root_path if root_path.isascii() else root_path.encode("utf-8").decode("latin-1"),
        "PATH_INFO": path if path.isascii() else path.encode("utf-8").decode("latin-1"),
        "QUERY_STRING": scope.get("query_string", b"").decode("latin-1"),
        "SERVER_NAME": server[0],
        "SERVER_PORT": str(server[1]),
        "SERVER_PROTOCOL": PROTOCOLS.get(scope.get("http_version", "1.1")) or f"HTTP/{scope['http_version']}",
        "CONTENT_LENGTH": str(len(body)),
        "wsgi.version": (1, 0),
        "wsgi.url_scheme": scope.get("scheme", "https"),
        "wsgi.input": BytesIO(body),
        "wsgi.input_terminated": True,
        "wsgi.errors": sys.stderr,
        "wsgi.multithread": threaded,
        "wsgi.multiprocess": True,  # Lambda runs many execution environments of one function
        "wsgi.run_once": False,
        "aws.event": scope.get("aws.event"),
        "aws.context": scope.get("aws.context"),
    }
    client = scope.get("client")
    if client:
        environ["REMOTE_ADDR"] = client[0]
        environ["REMOTE_PORT"] = str(client[1])
    names = ENVIRON_NAMES
    for name, value in scope["headers"]:
        key = names.get(name)
        if key is None:
            key = environ_name(name)
        if not key:
            continue  # Content-Length: the body's own length stands; names with "_": dropped
        text = value.decode("latin-1")
        if key in environ:
            text = f"{environ[key]}{'; ' if key == 'HTTP_COOKIE' else ', '}{text}"
        environ[key] = text
    return environ


def environ_name(name: bytes) -> str:
    """HTTP_<NAME> for a request header; "" for a name with "_", which a header with "-" in its place
    would otherwise pass for (the way nginx and Gunicorn drop them)."""
    key = "" if b"_" in name else "HTTP_" + name.decode("latin-1").upper().replace("-", "_")
    if len(ENVIRON_NAMES) < MAX_ENVIRON_NAMES:
        ENVIRON_NAMES[name] = key
    return key


# Response headers as the app sends them (str pairs) and as ASGI has them (lowercased name, bytes):
# apps repeat their content types. Short values only, and a bounded number, as the HTTP cycle's checks.
ENCODED_HEADERS: dict[tuple[str, str], tuple[bytes, bytes]] = {}
MAX_ENCODED_HEADERS = 1024


def encoded_header(pair: tuple[str, str]) -> tuple[bytes, bytes]:
    name, value = pair
    header = (name.lower().encode("latin-1"), value.encode("latin-1"))
    if len(ENCODED_HEADERS) < MAX_ENCODED_HEADERS and len(value) <= 256:
        ENCODED_HEADERS[(name, value)] = header
    return header


class StartResponse:
    """PEP 3333's `start_response`, with what it was given kept until the first chunk goes out."""

    __slots__ = ("status", "headers", "sent", "written", "length")

    def __init__(self) -> None:
        self.status = 0
        self.headers: Headers = []
        self.sent = False
        self.written: list[bytes] = []
        self.length = -1  # the Content-Length the app set: the chunk that reaches it is the last

    def __call__(self, status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
        if exc_info is not None:
            try:
                if self.sent:
                    raise exc_info[1].with_traceback(exc_info[2])
            finally:
                exc_info = None  # no reference cycle through the traceback
        elif self.status:
            raise RuntimeError("the WSGI app called start_response a second time without exc_info")
        if type(status) is not str or not status[:3].isdigit() or status[3:4] not in (" ", ""):
            raise ValueError(f"the WSGI app sent the status {status!r}; expected a string such as '200 OK'")
        self.status = int(status[:3])
        self.length = -1
        encoded: Headers = []
        known = ENCODED_HEADERS
        try:
            for pair in headers:
                header = known.get(pair) if type(pair) is tuple else None
                if header is None:
                    header = encoded_header(pair)
                encoded.append(header)
                if header[0] == b"content-length" and header[1].isdigit():
                    self.length = int(header[1])
        except (AttributeError, TypeError, ValueError, UnicodeError):
            raise TypeError(f"the WSGI app sent headers as {headers!r:.80}; expected a list of (str, str) pairs in latin-1") from None
        self.headers = encoded
        return self.written.append  # PEP 3333's write(): its chunks go out before the iterable's

    def start(self) -> Message:
        if not self.status:
            raise RuntimeError("the WSGI app returned a body without calling start_response")
        self.sent = True
        return {"type": "http.response.start", "status": self.status, "headers": self.headers}


def respond(app: WSGIApp, environ: dict[str, Any]) -> Generator[Message, None, None]:
    """Call the app, and yield the ASGI messages of its response; the iterable closed at the end."""
    start_response = StartResponse()
    result: Iterable[bytes] = app(environ, start_response)
    sent = 0
    try:
        for chunk in chunks(start_response.written, result) if start_response.written else result:
            if type(chunk) is not bytes:
                if not isinstance(chunk, (bytearray, memoryview)):
                    raise TypeError(f"the WSGI app's response yielded {type(chunk).__name__}; expected bytes")
                chunk = bytes(chunk)
            if not chunk:
                continue
            if not start_response.sent:
                yield start_response.start()
            sent += len(chunk)
            if sent == start_response.length:  # the whole body, as the app declared it: done, one message fewer
                yield {"type": "http.response.body", "body": chunk, "more_body": False}
                return
            yield {"type": "http.response.body", "body": chunk, "more_body": True}
            if start_response.written:  # write() called while the iterable ran: those chunks next
                yield from respond_written(start_response)
        if not start_response.sent:
            yield start_response.start()
        yield {"type": "http.response.body", "body": b"", "more_body": False}
    finally:
        close = getattr(result, "close", None)
        if close is not None:
            close()


def respond_written(start_response: StartResponse) -> Iterator[Message]:
    written = start_response.written[:]
    start_response.written.clear()
    for chunk in written:
        if chunk:
            yield {"type": "http.response.body", "body": bytes(chunk), "more_body": True}


def chunks(written: list[bytes], result: Iterable[bytes]) -> Iterator[bytes]:
    """What the app passed to write() while it was called, then its iterable."""
    pending = written[:]
    written.clear()
    yield from pending
    yield from result
