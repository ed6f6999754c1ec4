"""A Lambda Runtime API (2018-06-01) emulator on 127.0.0.1, so a real runtime client such as awslambdaric
can run a function on this machine: https://docs.aws.amazon.com/lambda/latest/dg/runtimes-api.html

    with RuntimeAPI() as api:
        # start the runtime with AWS_LAMBDA_RUNTIME_API=api.address, then:
        result = api.invoke({"hello": "world"})

Standard library only. One invocation is handed out per GET /next, in the order they were queued;
with `max_concurrency=N` (Lambda Managed Instances' AWS_LAMBDA_MAX_CONCURRENCY), at most N are out
unanswered at once, and a further GET /next waits for one of their answers. Each invocation records
when it was handed out and answered (time.monotonic()), and `next_times` when each GET /next came.
A streamed response (chunked, `Lambda-Runtime-Function-Response-Mode: streaming`) is recorded as it
arrives: `api.stream(request_id, timeout)` gives its `Stream` (bytes with their arrival times, the
prelude, the trailers) while it is still coming.
"""

from __future__ import annotations

import base64
import dataclasses
import json
import socket
import sys
import threading
import time
import traceback
import uuid
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

PREFIX = "/2018-06-01/runtime"
ERROR_TYPE_HEADER = "Lambda-Runtime-Function-Error-Type"
DEFAULT_ARN = "arn:aws:lambda:us-east-1:123456789012:function:test-function"


@dataclass(frozen=True)
class Invocation:
    """What the function answered for one request id."""

    request_id: str
    ok: bool  # True: POST .../response; False: POST .../error
    payload: Any  # the body parsed as JSON, or the raw bytes when it is not JSON
    error_type: str | None  # from the error-type header, else the body's "errorType"
    body: bytes
    content_type: str | None
    stream: Stream | None = None  # a streamed response (Lambda-Runtime-Function-Response-Mode: streaming)
    handed_out: float = 0.0  # time.monotonic() when GET /next handed the event out
    answered: float = 0.0  # time.monotonic() when the answer came (the end of a streamed one)


STREAM_ERROR_BODY_HEADER = "Lambda-Runtime-Function-Error-Body"
PRELUDE_CONTENT_TYPE = "application/vnd.awslambda.http-integration-response"
PRELUDE_DELIMITER = b"\0" * 8


class Stream:
    """A streamed response as it arrives: each HTTP chunk with the time it came (time.monotonic()),
    then the trailers. For an http-integration-response, `prelude` is the JSON before the eight NUL
    bytes and `body` what follows them. Tests compare bytes, never chunk boundaries, which Lambda
    does not keep either. `pause()`/`resume()` stop and restart reading (a slow caller); `hang_up()`
    closes the connection (a caller that went away)."""

    def __init__(self, request_id: str, content_type: str | None, connection: socket.socket, cond: threading.Condition) -> None:
        self.request_id = request_id
        self.content_type = content_type
        self.chunks: list[tuple[float, bytes]] = []
        self.trailers: dict[str, str] = {}
        self.complete = False  # the last chunk came
        self.hung_up = False
        self.reading = threading.Event()
        self.reading.set()
        self._connection = connection
        self._cond = cond

    @property
    def raw(self) -> bytes:
        return b"".join(data for _, data in self.chunks)

    @property
    def prelude(self) -> Any:
        raw = self.raw
        if self.content_type != PRELUDE_CONTENT_TYPE or PRELUDE_DELIMITER not in raw:
            return None
        return json.loads(raw[: raw.index(PRELUDE_DELIMITER)])

    @property
    def body(self) -> bytes:
        raw = self.raw
        if self.content_type == PRELUDE_CONTENT_TYPE and PRELUDE_DELIMITER in raw:
            return raw[raw.index(PRELUDE_DELIMITER) + len(PRELUDE_DELIMITER) :]
        return raw if self.content_type != PRELUDE_CONTENT_TYPE else b""

    @property
    def error(self) -> Any:
        """The error the trailers carry (their body decoded), or None."""
        if STREAM_ERROR_BODY_HEADER not in self.trailers:
            return None
        return _parse(base64.b64decode(self.trailers[STREAM_ERROR_BODY_HEADER]))

    def arrived(self, data: bytes) -> float | None:
        """When the body first held `data` (monotonic seconds), or None if it does not."""
        raw, offset = b"", None
        for when, chunk in self.chunks:
            raw += chunk
            if offset is None and PRELUDE_DELIMITER in raw and self.content_type == PRELUDE_CONTENT_TYPE:
                offset = raw.index(PRELUDE_DELIMITER) + len(PRELUDE_DELIMITER)
            if data in raw[offset or 0 :]:
                return when
        return None

    def wait_for(self, data: bytes, timeout: float) -> bool:
        """True once the body holds `data`; False if the stream ended or timeout passed first."""
        with self._cond:
            self._cond.wait_for(lambda: data in self.body or self.complete or self.hung_up, timeout)
            return data in self.body

    def wait_complete(self, timeout: float) -> bool:
        with self._cond:
            return self._cond.wait_for(lambda: self.complete or self.hung_up, timeout)

    def pause(self) -> None:
        self.reading.clear()

    def resume(self) -> None:
        self.reading.set()

    def hang_up(self) -> None:
        with self._cond:
            self.hung_up = True
            self._cond.notify_all()
        self.reading.set()
        try:
            self._connection.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass

    # -- the server side --------------------------------------------------------------------------------

    def read(self, rfile: Any) -> None:
        """Read chunks up to the last one and the trailers after it (RFC 9112 section 7.1)."""
        while True:
            self.reading.wait()
            size_line = rfile.readline(1026)
            if self.hung_up or not size_line:
                return
            size = int(size_line.split(b";")[0], 16)
            if size == 0:
                break
            data = rfile.read(size)
            rfile.readline(3)
            with self._cond:
                self.chunks.append((time.monotonic(), data))
                self._cond.notify_all()
        while (line := rfile.readline(65537)) not in (b"\r\n", b"\n", b""):
            name, _, value = line.decode("latin-1").partition(":")
            self.trailers[name.strip()] = value.strip()
        with self._cond:
            self.complete = True
            self._cond.notify_all()


def _parse(body: bytes) -> Any:
    try:
        return json.loads(body)
    except ValueError:  # also covers UnicodeDecodeError
        return body


class RuntimeAPI:
    """The emulator. Starts serving on construction; `close()` (or leaving the `with` block) stops it."""

    def __init__(self, port: int = 0, *, max_concurrency: int | None = None) -> None:
        self._cond = threading.Condition()
        self._pending: deque[tuple[str, bytes, dict[str, str]]] = deque()
        self._taken: dict[str, float] = {}  # handed out by /next, not answered yet: when
        self.max_concurrency = max_concurrency  # None: as many as GET /next asks for
        self.next_times: deque[float] = deque(maxlen=10_000)  # time.monotonic() of each GET /next, latest last
        self.next_waiting = 0  # GET /next calls waiting for an event now
        self._results: dict[str, Invocation] = {}
        self._streams: dict[str, Stream] = {}
        self._init_errors: list[dict[str, Any]] = []
        self._forgotten: set[str] = set()  # forgotten before their answer came: it is dropped as it comes
        self._closed = False
        self.next_calls = 0
        self.snapshot = SnapshotPoint(self._cond)  # SnapStart: GET /restore/next waits here for restore()
        self.requests: list[tuple[str, str]] = []  # (method, path), for debugging
        self.server_errors: list[str] = []  # tracebacks of handler failures, instead of printing them
        self._server = _Server(("127.0.0.1", port), _handler_class(self))
        self._server.errors = self.server_errors
        # a short poll interval: shutdown() waits up to one interval, and tests open and close many emulators
        self._thread = threading.Thread(target=self._server.serve_forever, args=(0.05,), name="runtime-api", daemon=True)
        self._thread.start()

    @property
    def address(self) -> str:
        """host:port, the value for AWS_LAMBDA_RUNTIME_API."""
        return f"127.0.0.1:{self._server.server_address[1]}"

    def __enter__(self) -> RuntimeAPI:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        with self._cond:
            self._closed = True
            self._cond.notify_all()  # releases any /next long-poll, so its thread ends
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(5)

    # -- the test side -------------------------------------------------------------------------------------

    def submit(
        self,
        event: Any,
        *,
        timeout: float = 30,
        function_arn: str = DEFAULT_ARN,
        deadline_ms: int | None = None,
        trace_id: str | None = None,
        tenant_id: str | None = None,
        extra_headers: dict[str, str] | None = None,
    ) -> str:
        """Queue one invocation (event JSON-serialised unless bytes); returns its request id. `trace_id`:
        the X-Ray header the runtime gets (Root=...;Parent=...;Sampled=...), by default a new unsampled one;
        `tenant_id`: Lambda-Runtime-Aws-Tenant-Id, as for a function with tenant isolation; `extra_headers`:
        any other header of GET /next's answer (a Client Context, say), or one of these replaced."""
        request_id = str(uuid.uuid4())
        body = event if isinstance(event, bytes) else json.dumps(event).encode()
        if deadline_ms is None:
            deadline_ms = int((time.time() + timeout) * 1000)
        headers = {
            "Content-Type": "application/json",  # awslambdaric JSON-decodes the event only with this type
            "Lambda-Runtime-Aws-Request-Id": request_id,
            "Lambda-Runtime-Deadline-Ms": str(deadline_ms),
            "Lambda-Runtime-Invoked-Function-Arn": function_arn,
            "Lambda-Runtime-Trace-Id": trace_id or f"Root=1-{int(time.time()):08x}-{uuid.uuid4().hex[:24]};Sampled=0",
        }
        if tenant_id is not None:
            headers["Lambda-Runtime-Aws-Tenant-Id"] = tenant_id
        headers.update(extra_headers or {})
        with self._cond:
            self._pending.append((request_id, body, headers))
            self._cond.notify_all()
        return request_id

    def result(self, request_id: str, timeout: float) -> Invocation | None:
        """The answer for request_id, waiting up to timeout seconds; None if none came yet."""
        with self._cond:
            self._cond.wait_for(lambda: request_id in self._results, timeout)
            return self._results.get(request_id)

    def invoke(self, event: Any, *, timeout: float = 30, function_arn: str = DEFAULT_ARN, deadline_ms: int | None = None) -> Invocation:
        """Queue one invocation and block until the function posts /response or /error for it."""
        request_id = self.submit(event, timeout=timeout, function_arn=function_arn, deadline_ms=deadline_ms)
        found = self.result(request_id, timeout)
        if found is None:
            self.cancel(request_id)
            raise TimeoutError(f"no /response or /error for request {request_id} within {timeout}s")
        return found

    def stream(self, request_id: str, timeout: float) -> Stream | None:
        """The streamed response to request_id once it has begun (its headers came), or None."""
        with self._cond:
            self._cond.wait_for(lambda: request_id in self._streams or request_id in self._results, timeout)
            return self._streams.get(request_id)

    def forget(self, request_id: str) -> None:
        """Keep nothing more of request_id: its answer and stream, now or when they come. The local
        gateway reads each once; a long session would otherwise keep every response."""
        with self._cond:
            self._results.pop(request_id, None)
            self._streams.pop(request_id, None)
            if request_id in self._taken:
                self._forgotten.add(request_id)

    def cancel(self, request_id: str) -> None:
        """Drop a queued invocation that no /next took yet (so a later runtime never sees a stale event)."""
        with self._cond:
            self._pending = deque(item for item in self._pending if item[0] != request_id)

    def wait_ready(self, timeout: float) -> bool:
        """True once the runtime has called /next, i.e. its init phase is over."""
        with self._cond:
            return self._cond.wait_for(lambda: self.next_calls > 0, timeout)

    def wait_init_error(self, timeout: float) -> dict[str, Any] | None:
        """The body posted to /init/error, or None if none came within timeout."""
        with self._cond:
            self._cond.wait_for(lambda: bool(self._init_errors), timeout)
            return self.init_error

    @property
    def init_error(self) -> dict[str, Any] | None:
        return self._init_errors[-1] if self._init_errors else None

    # -- the runtime side (called from the server's handler threads) ---------------------------------------

    def note(self, method: str, path: str) -> None:
        """One request in `requests`, which keeps the last thousand or so."""
        with self._cond:
            self.requests.append((method, path))
            if len(self.requests) > 2048:
                del self.requests[:1024]

    def _next(self) -> tuple[str, bytes, dict[str, str]] | None:
        with self._cond:
            self.next_calls += 1
            self.next_times.append(time.monotonic())
            self.next_waiting += 1
            self._cond.notify_all()
            limit = self.max_concurrency
            try:
                self._cond.wait_for(lambda: (bool(self._pending) and (limit is None or len(self._taken) < limit)) or self._closed)
            finally:
                self.next_waiting -= 1
            if self._closed:
                return None
            item = self._pending.popleft()
            self._taken[item[0]] = time.monotonic()
            return item

    def _answer(self, request_id: str, invocation: Invocation) -> bool:
        with self._cond:
            if request_id not in self._taken:  # unknown, or already answered
                return False
            handed_out = self._taken.pop(request_id)
            if request_id in self._forgotten:
                self._forgotten.discard(request_id)
                self._streams.pop(request_id, None)
            else:
                self._results[request_id] = dataclasses.replace(invocation, handed_out=handed_out, answered=time.monotonic())
            self._cond.notify_all()
            return True

    def _init_failed(self, error: dict[str, Any]) -> None:
        with self._cond:
            self._init_errors.append(error)
            self._cond.notify_all()


class SnapshotPoint:
    """SnapStart's snapshot and restore, as the runtime client sees them: after its before-snapshot
    hooks, it calls GET /restore/next, which Lambda answers in each environment restored from the
    snapshot; the after-restore hooks run then. Here the call waits until the test calls `restore()`."""

    def __init__(self, cond: threading.Condition) -> None:
        self._cond = cond
        self.calls = 0  # GET /restore/next calls so far
        self.restored = False
        self.errors: list[dict[str, Any]] = []  # bodies POSTed to /restore/error

    def wait(self, timeout: float, *, calls: int = 1) -> bool:
        """True once /restore/next has been called `calls` times: the before-snapshot hooks have run."""
        with self._cond:
            return self._cond.wait_for(lambda: self.calls >= calls, timeout)

    def restore(self) -> None:
        """Answer the waiting /restore/next calls, and every later one."""
        with self._cond:
            self.restored = True
            self._cond.notify_all()

    def wait_error(self, timeout: float) -> dict[str, Any] | None:
        """The body posted to /restore/error (an after-restore hook failed), or None within timeout."""
        with self._cond:
            self._cond.wait_for(lambda: bool(self.errors), timeout)
            return self.errors[-1] if self.errors else None

    def taken(self, closed: Callable[[], bool]) -> bool:
        """The runtime side of GET /restore/next: True once restored, False if the emulator closes first."""
        with self._cond:
            self.calls += 1
            self._cond.notify_all()
            self._cond.wait_for(lambda: self.restored or closed())
            return self.restored

    def failed(self, error: dict[str, Any]) -> None:
        with self._cond:
            self.errors.append(error)
            self._cond.notify_all()


class _Server(ThreadingHTTPServer):
    daemon_threads = True  # a /next long-poll must never keep the test process alive
    # A connection a request (HTTP/1.0), and with max_concurrency many clients at once: socketserver's
    # backlog of 5 would drop their SYNs, each then retried a second later.
    request_queue_size = 1024
    errors: list[str]

    def handle_error(self, request: Any, client_address: Any) -> None:
        # Quiet, never fatal: a killed function leaves its /next connection dead (a normal end, ignored);
        # anything else is kept for debugging. The serving thread carries on either way.
        exc = sys.exc_info()[1]
        if not isinstance(exc, ConnectionError):
            self.errors.append(traceback.format_exc())


def _handler_class(api: RuntimeAPI) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        # HTTP/1.0: one request per connection, so no keep-alive thread outlives a request.
        def log_message(self, format: str, *args: Any) -> None:  # quiet: no access log on stderr
            pass

        def setup(self) -> None:
            super().setup()
            # No Nagle: a reply is never held back waiting for the ACK of the one before it.
            self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

        def _send(self, status: int, payload: Any = None, headers: dict[str, str] | None = None, body: bytes | None = None) -> None:
            if body is None:
                body = json.dumps(payload if payload is not None else {"status": "OK"}).encode()
            lines = [f"{self.protocol_version} {status} {HTTPStatus(status).phrase}"]
            lines += [f"{name}: {value}" for name, value in (headers or {"Content-Type": "application/json"}).items()]
            lines += [f"Content-Length: {len(body)}", "", ""]
            # Head and body in one write: written apart, the body of a reply on a kept-alive
            # connection would wait for the client's delayed ACK of the head (~40 ms).
            self.wfile.write("\r\n".join(lines).encode("latin-1") + body)

        def _not_found(self) -> None:
            self._send(404, {"errorMessage": f"unknown path {self.path}", "errorType": "NotFound"})

        def do_GET(self) -> None:
            api.note("GET", self.path)
            if self.path == f"{PREFIX}/restore/next":
                restored = api.snapshot.taken(lambda: api._closed)
                return self._send(200) if restored else self._send(500, {"errorMessage": "emulator closed", "errorType": "Emulator.Closed"})
            if self.path != f"{PREFIX}/invocation/next":
                return self._not_found()
            item = api._next()
            if item is None:  # emulator closing: the runtime treats a non-2xx as fatal, which is fine here
                return self._send(500, {"errorMessage": "emulator closed", "errorType": "Emulator.Closed"})
            _, body, headers = item
            self._send(200, headers=headers, body=body)

        def do_POST(self) -> None:
            api.note("POST", self.path)
            if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
                return self._streamed()
            try:
                length = int(self.headers.get("Content-Length") or 0)
                if length < 0:  # read(-1) would wait for an EOF the client never sends
                    raise ValueError(f"Content-Length {length}")
                body = self.rfile.read(length)
            except (ValueError, OSError) as exc:
                return self._send(400, {"errorMessage": f"bad request body: {exc}", "errorType": "BadRequest"})
            parts = self.path[len(PREFIX) :].strip("/").split("/") if self.path.startswith(PREFIX + "/") else []
            if parts == ["restore", "error"]:
                parsed = _parse(body)
                api.snapshot.failed(parsed if isinstance(parsed, dict) else {"body": parsed})
                return self._send(202)
            if parts == ["init", "error"]:
                parsed = _parse(body)
                api._init_failed(parsed if isinstance(parsed, dict) else {"body": parsed})
                return self._send(202)
            if len(parts) == 3 and parts[0] == "invocation" and parts[2] in ("response", "error"):
                ok = parts[2] == "response"
                payload = _parse(body)
                error_type = self.headers.get(ERROR_TYPE_HEADER)
                if not ok and error_type is None and isinstance(payload, dict):
                    error_type = payload.get("errorType")
                invocation = Invocation(parts[1], ok, payload, error_type, body, self.headers.get("Content-Type"))
                if not api._answer(parts[1], invocation):
                    return self._send(400, {"errorMessage": f"unknown request id {parts[1]}", "errorType": "InvalidRequestID"})
                return self._send(202)
            self._not_found()

        def _streamed(self) -> None:
            """A response POSTed with Lambda-Runtime-Function-Response-Mode: streaming."""
            parts = self.path[len(PREFIX) :].strip("/").split("/") if self.path.startswith(PREFIX + "/") else []
            if len(parts) != 3 or parts[0] != "invocation" or parts[2] != "response":
                return self._not_found()
            stream = Stream(parts[1], self.headers.get("Content-Type"), self.connection, api._cond)
            with api._cond:
                if parts[1] not in api._taken:
                    return self._send(400, {"errorMessage": f"unknown request id {parts[1]}", "errorType": "InvalidRequestID"})
                api._streams[parts[1]] = stream
                api._cond.notify_all()
            try:
                stream.read(self.rfile)
            except (OSError, ValueError):
                stream.hang_up()
            error = stream.error
            error_type = stream.trailers.get(ERROR_TYPE_HEADER)
            body = stream.body
            ok = error is None and not stream.hung_up
            invocation = Invocation(parts[1], ok, error or body, error_type, body, stream.content_type, stream)
            api._answer(parts[1], invocation)
            if not stream.hung_up:
                self._send(202)

    return Handler
