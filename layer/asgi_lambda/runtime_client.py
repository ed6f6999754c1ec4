"""The layer's own Lambda Runtime API client: the managed runtime's loop, plus response streaming.

    ASGI_INVOKE_MODE=response_stream with the exec wrapper (it starts this in place of the managed
    runtime's bootstrap), or `python -m asgi_lambda.runtime_client main.handler` as a container's
    command, or `asgi_lambda.runtime_client.serve(handler)` from a custom runtime's bootstrap script.

Standard library only. Each invocation is `GET next`, the handler, and one POST back. Function URL
events (payload 2.0 on a `lambda-url` domain) and REST API events (payload 1.0 without `version`)
stream: the POST is chunked (`Lambda-Runtime-Function-Response-Mode: streaming`), starts with a JSON
prelude (status, headers, cookies) and eight NUL bytes when the app starts its response, and carries
each body chunk as the app sends it, on the adapter's event loop (runtime_stream.py). Every other event, or every event
with ASGI_INVOKE_MODE=buffered, is answered whole, exactly as the Adapter answers it under the
managed runtime. https://docs.aws.amazon.com/lambda/latest/dg/runtimes-api.html
https://docs.aws.amazon.com/lambda/latest/dg/runtimes-custom.html#runtimes-custom-response-streaming
"""

from __future__ import annotations

import json
import logging
import os
import socket
import sys
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, NoReturn, Protocol, TypeGuard

from .runtime_support import LambdaContext, Logs, RequestId, RuntimeFault, error_result, load_handler, set_import_path

if TYPE_CHECKING:
    from .adapter import Adapter

# Nothing of the ASGI machinery (asyncio, the adapter, the sources) is imported here: a function whose
# handler is not an Adapter never loads it, and starts as fast as under the managed runtime's client.
# runtime_stream.py (the streaming cycle) is imported with the first event an Adapter answers.

logger = logging.getLogger("asgi_lambda.runtime")

PREFIX = "/2018-06-01/runtime"
ERROR_TYPE = "Lambda-Runtime-Function-Error-Type"


class RuntimeClientError(RuntimeError):
    """The Runtime API refused a request the client cannot do without (the next invocation)."""


# --- the connection to the Runtime API ------------------------------------------------------------


class RuntimeConnection:
    """HTTP/1.1 to the Runtime API on one kept-alive socket, blocking: the loop has nothing to do while
    the function waits for its next event, and a blocking wait lets SIGTERM's handler run at once."""

    def __init__(self, address: str) -> None:
        self.address = address
        host, _, port = address.rpartition(":")
        self.host, self.port = host.strip("[]"), int(port)
        self.sock: socket.socket | None = None
        self.file: Any = None

    def request(self, method: str, path: str, body: bytes = b"", headers: str = "") -> tuple[int, dict[str, str], bytes]:
        head = f"{method} {path} HTTP/1.1\r\nHost: {self.address}\r\nContent-Length: {len(body)}\r\n{headers}\r\n".encode()
        for attempt in (1, 2):
            reused = self.sock is not None
            if self.sock is None:
                self.sock = socket.create_connection((self.host, self.port))
                self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                self.file = self.sock.makefile("rb")
            try:
                if len(body) < 65536:
                    self.sock.sendall(head + body)  # one write
                else:
                    self.sock.sendall(head)
                    self.sock.sendall(body)
                return self.response()
            except (ConnectionError, EOFError):
                self.close()
                if not reused or attempt == 2:  # a kept-alive socket the API closed meanwhile: once more
                    raise
        raise AssertionError("unreachable")

    def response(self) -> tuple[int, dict[str, str], bytes]:
        status_line = self.file.readline(65537)
        if not status_line:
            raise EOFError("the Runtime API closed the connection")
        version, status, _ = status_line.decode("latin-1").split(" ", 2)
        headers: dict[str, str] = {}
        while (line := self.file.readline(65537)) not in (b"\r\n", b"\n", b""):
            name, _, value = line.decode("latin-1").partition(":")
            headers[name.strip().lower()] = value.strip()
        if "content-length" in headers:
            body = self.file.read(int(headers["content-length"]))
        else:
            body = self.file.read()  # delimited by the close
            headers["connection"] = "close"
        if version == "HTTP/1.0" or headers.get("connection", "").lower() == "close":
            self.close()
        return int(status), headers, body

    def close(self) -> None:
        if self.sock is not None:
            self.file.close()
            self.sock.close()
            self.sock = self.file = None

    def next(self) -> tuple[dict[str, str], bytes]:
        status, headers, body = self.request("GET", f"{PREFIX}/invocation/next")
        if status != 200:
            raise RuntimeClientError(f"GET {PREFIX}/invocation/next answered {status}: {body[:200]!r}")
        return headers, body

    def post(self, path: str, body: bytes, headers: str) -> None:
        status, _, answer = self.request("POST", f"{PREFIX}/{path}", body, headers)
        if status != 202:
            logger.error("POST %s/%s answered %d: %s", PREFIX, path, status, answer[:500].decode("utf-8", "replace"))

    def error(self, path: str, result: dict[str, Any], *, error_type: str | None = None) -> None:
        headers = f"Content-Type: application/json\r\n{ERROR_TYPE}: {error_type or result['errorType']}\r\n"
        self.post(path, json.dumps(result).encode(), headers)


# --- the invocation loop ---------------------------------------------------------------------------


STREAMED = object()  # the answer went out as a stream


class ErrorLog(Protocol):
    """Where an invocation's error is logged: `Logs` on Lambda; `asgi-lambda serve --stream` prints its own."""

    def error(self, result: dict[str, Any]) -> None: ...


class RuntimeClient:
    """GET next, run the handler, POST the answer; for ever."""

    def __init__(self, handler: Callable[..., Any], *, invoke_mode: str, connection: RuntimeConnection, logs: ErrorLog) -> None:
        self.handler = handler
        self.streaming = invoke_mode == "response_stream" and is_adapter(handler)
        self.connection = connection
        self.logs = logs

    def serve_forever(self) -> None:
        while True:
            self.invoke(*self.connection.next())

    def invoke(self, headers: Mapping[str, str], body: bytes) -> None:
        request_id = headers.get("lambda-runtime-aws-request-id", "")
        RequestId.request_id, RequestId.tenant_id = request_id, headers.get("lambda-runtime-aws-tenant-id")
        trace_id = headers.get("lambda-runtime-trace-id")
        if trace_id is not None:
            os.environ["_X_AMZN_TRACE_ID"] = trace_id
        else:
            os.environ.pop("_X_AMZN_TRACE_ID", None)
        try:
            context = LambdaContext(headers)
            event = unmarshal(body, headers.get("content-type"))
            result = self.answer(event, context, request_id) if self.streaming else self.handler(event, context)
            if result is STREAMED:
                return
            payload, content_type = marshal(result)
        except Exception as exc:
            failure = error_result(exc, request_id)
            self.logs.error(failure)
            self.connection.error(f"invocation/{request_id}/error", failure)
            return
        self.connection.post(f"invocation/{request_id}/response", payload, f"Content-Type: {content_type}\r\n")

    def answer(self, event: Any, context: Any, request_id: str) -> Any:
        from . import loop
        from .runtime_stream import stream_response, streams

        adapter: Adapter = self.handler  # type: ignore[assignment]
        mapped = adapter.map(event, context)
        if mapped.kind == "websocket":
            return adapter.websocket(mapped)
        if not streams(event, mapped):
            return adapter.http(mapped)
        loop.run(stream_response(adapter, mapped, self.connection, request_id))
        return STREAMED


def is_adapter(handler: Any) -> TypeGuard[Adapter]:
    """Whether `handler` is an Adapter, without importing the adapter: until something has imported
    it, nothing can be one."""
    adapter = sys.modules.get(f"{__package__}.adapter")
    return adapter is not None and isinstance(handler, adapter.Adapter)


def unmarshal(body: bytes, content_type: str | None) -> Any:
    if content_type != "application/json":
        return body
    try:
        return json.loads(body)
    except ValueError as exc:
        raise RuntimeFault("Runtime.UnmarshalError", f"Unable to unmarshal input: {exc}") from None


def marshal(result: Any) -> tuple[bytes, str]:
    if isinstance(result, bytes):
        return result, "application/unknown"
    try:
        return json.dumps(result).encode(), "application/json"
    except (TypeError, ValueError) as exc:
        raise RuntimeFault("Runtime.MarshalError", f"Unable to marshal response: {exc}") from None


# --- starting ------------------------------------------------------------------------------------


def serve(handler: Callable[..., Any], *, invoke_mode: str | None = None) -> None:
    """Serve `handler` (an Adapter streams; any other handler is answered buffered) until the
    process ends. `invoke_mode` is "buffered" or "response_stream"; None reads ASGI_INVOKE_MODE."""
    from .settings import parse_invoke_mode

    mode = parse_invoke_mode(
        os.environ.get("ASGI_INVOKE_MODE") if invoke_mode is None else invoke_mode,
        name="invoke_mode" if invoke_mode is not None else "ASGI_INVOKE_MODE",
    )
    connection = RuntimeConnection(os.environ["AWS_LAMBDA_RUNTIME_API"])
    RuntimeClient(handler, invoke_mode=mode, connection=connection, logs=Logs(os.environ)).serve_forever()


ZERO_CODE_HANDLER = "asgi_lambda.bootstrap.handler"


def code_first_handler(environ: Mapping[str, str]) -> Adapter | None:
    """Without ASGI_APP, the function's own Handler setting (kept by the wrapper in ASGI_ORIGINAL_HANDLER)
    when it names an Adapter: a code-first function streams with ASGI_INVOKE_MODE alone. Anything else
    (the console's default lambda_function.lambda_handler, an app) leaves the zero-code handler to say
    what is missing."""
    original = environ.get("ASGI_ORIGINAL_HANDLER", "")
    if environ.get("ASGI_APP", "").strip() or not original:
        return None
    try:
        handler = load_handler(original)
    except RuntimeFault as fault:
        missing = getattr(fault.__cause__, "name", None)
        if fault.error_type == "Runtime.ImportModuleError" and missing == original.rpartition(".")[0].replace("/", "."):
            return None  # no such module: a placeholder
        if fault.error_type in ("Runtime.MalformedHandlerName", "Runtime.HandlerNotFound", "Runtime.BuiltInModuleConflict"):
            return None
        raise  # the function's own module is broken: that is the init's error
    return handler if is_adapter(handler) else None


def main(argv: list[str] | None = None) -> None:
    """`python -m asgi_lambda.runtime_client [--layer DIR] [module.handler]`: the handler named (else
    `_HANDLER`), imported as the managed runtime imports it; a failure is the init's error."""
    args = sys.argv[1:] if argv is None else argv
    opt = None
    if args[:1] == ["--layer"]:  # from the exec wrapper: the layer's directory stands for /opt
        opt, args = args[1], args[2:]
        for entry in (f"{opt}/python", ""):  # the wrapper's way in, and -c's current directory
            if entry in sys.path:
                sys.path.remove(entry)
    environ = os.environ
    logs = Logs(environ)
    connection = RuntimeConnection(environ["AWS_LAMBDA_RUNTIME_API"])
    try:
        if opt is not None:
            set_import_path(opt, environ)
        from .settings import parse_invoke_mode

        mode = parse_invoke_mode(environ.get("ASGI_INVOKE_MODE"), name="ASGI_INVOKE_MODE")
        name = args[0] if args else environ.get("_HANDLER", "")
        handler: Callable[..., Any] | None = code_first_handler(environ) if name == ZERO_CODE_HANDLER else None
        if handler is None:
            handler = load_handler(name)
    except Exception as exc:
        fail(connection, logs, exc, "init/error", None, exit_code=1)
    if environ.get("AWS_LAMBDA_INITIALIZATION_TYPE") == "snap-start":
        snapshot(connection, logs)
    RuntimeClient(handler, invoke_mode=mode, connection=connection, logs=logs).serve_forever()


def snapshot(connection: RuntimeConnection, logs: Logs) -> None:
    """SnapStart: the runtime hooks registered with snapshot_restore_py (which the managed runtime ships)
    before the snapshot, newest first; GET restore/next, answered after each restore; the after-restore
    hooks in order. https://docs.aws.amazon.com/lambda/latest/dg/snapstart-runtime-hooks-python.html"""
    from snapshot_restore_py import get_after_restore, get_before_snapshot  # type: ignore[import-untyped,import-not-found,unused-ignore]

    try:
        for function, args, kwargs in reversed(get_before_snapshot()):
            function(*args, **kwargs)
    except Exception as exc:
        fail(connection, logs, exc, "init/error", "Runtime.BeforeSnapshotError", exit_code=64)
    status, _, body = connection.request("GET", f"{PREFIX}/restore/next")  # the snapshot is taken here
    if status != 200:
        raise RuntimeClientError(f"GET {PREFIX}/restore/next answered {status}: {body[:200]!r}")
    try:
        for function, args, kwargs in get_after_restore():
            function(*args, **kwargs)
    except Exception as exc:
        fail(connection, logs, exc, "restore/error", "Runtime.AfterRestoreError", exit_code=65)


def fail(connection: RuntimeConnection, logs: Logs, error: Exception, path: str, error_type: str | None, *, exit_code: int) -> NoReturn:
    """Log the error, report it where the Runtime API takes it, and end the process."""
    failure = error_result(error)
    logs.error(failure)
    connection.error(path, failure, error_type=error_type)
    sys.exit(exit_code)


if __name__ == "__main__":
    main()
