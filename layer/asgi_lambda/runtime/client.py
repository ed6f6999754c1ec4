"""The layer's own Lambda Runtime API client: the managed runtime's loop, plus response streaming.

    ASGI_INVOKE_MODE=response_stream with the exec wrapper (it starts this in place of the managed
    runtime's bootstrap), or `python -m asgi_lambda.runtime_client main.handler` as a container's
    command, or `asgi_lambda.runtime_client.serve(handler)` from a custom runtime's bootstrap script.

Standard library only. Each invocation is `GET next`, the handler, and one POST back (the
connection and its errors are api.py). A source whose answer can stream (`streams`: a Function URL
event, a REST API event) is answered through a `StreamedResponse` (stream.py): a chunked POST that
starts with a JSON prelude when the app starts its response and carries each body chunk as the app
sends it, on the adapter's event loop. Every other event, or every event with
ASGI_INVOKE_MODE=buffered, is answered whole, exactly as the Adapter answers it under the managed
runtime. https://docs.aws.amazon.com/lambda/latest/dg/runtimes-api.html
"""

from __future__ import annotations

import gc
import logging
import os
import sys

from .api import PREFIX, RuntimeClientError, RuntimeConnection, RuntimeFault, error_result, xray_cause
from .context import LambdaContext
from .handler import load_handler, set_import_path
from .invocation import STREAMED, begin, is_adapter, marshal, unmarshal
from .logs import Logs

TYPE_CHECKING = False  # typing is not imported on a plain handler's path (api.py says why)
if TYPE_CHECKING:
    from collections.abc import Callable, Mapping
    from typing import Any, NoReturn, Protocol

    from ..adapter import Adapter
    from .invocation import ErrorLog

    class Serving(Protocol):
        def serve_forever(self) -> None: ...


# Nothing of the ASGI machinery (asyncio, the adapter, the sources), of the settings or of typing is
# imported here: a function whose handler is not an Adapter never loads them, and starts faster than
# under the managed runtime's client. stream.py (the streamed response) is imported with the first
# event that streams.


class RuntimeClient:
    """GET next, run the handler, POST the answer; for ever. An Adapter's answer is POSTed as soon as
    the app has sent its last body message; the app then runs to its end (background tasks, code
    after its last `send`), bounded by the invocation's deadline less a margin (`Remainder`), before
    the next GET."""

    def __init__(self, handler: Callable[..., Any], *, invoke_mode: str, connection: RuntimeConnection, logs: ErrorLog) -> None:
        self.handler = handler
        self.adapter = handler if is_adapter(handler) else None
        self.streaming = invoke_mode == "response_stream"
        self.connection = connection
        self.logs = logs

    def serve_forever(self) -> None:
        while True:
            self.invoke(*self.connection.next())

    def invoke(self, headers: Mapping[str, str], body: bytes) -> None:
        request_id, echo = begin(headers)
        if self.adapter is None:
            try:
                context = LambdaContext(headers)
                payload, content_type = marshal(self.handler(unmarshal(body, headers.get("content-type")), context))
            except Exception as exc:
                self.failed(exc, request_id, echo)
                return
            self.connection.post(f"invocation/{request_id}/response", payload, f"Content-Type: {content_type}\r\n{echo}")
            return
        if self.adapter.wsgi_answer is not None and not self.streaming:
            # A WSGI app run inline answers with no event loop, and leaves no work after its answer:
            # asyncio is not even imported (Adapter.http), unless an event needs it.
            self.invoke_adapter(self.adapter, headers, body, request_id, echo)
            return
        from ..protocols import loop  # loaded with the adapter

        loop.hold()  # a SIGTERM now waits for the app's work after the answer too
        try:
            self.invoke_adapter(self.adapter, headers, body, request_id, echo)
        finally:
            loop.release()

    def invoke_adapter(self, adapter: Adapter, headers: Mapping[str, str], body: bytes, request_id: str, echo: str) -> None:
        from ..protocols.http_cycle import internal_error

        rest = None
        try:
            context = LambdaContext(headers)
            event = unmarshal(body, headers.get("content-type"))
            mapped = adapter.map(event, context)
            if mapped.kind == "websocket":
                result = adapter.websocket(mapped)
            elif mapped.kind == "fanout":
                result = adapter.fanout(mapped)
            elif self.streaming and mapped.streams:
                from ..protocols import loop
                from .stream import StreamedResponse

                stream = StreamedResponse(mapped, self.connection, request_id, headers=echo)
                rest = loop.run(adapter.answer_http(mapped, stream)).rest
                result = STREAMED
            elif adapter.wsgi_answer is not None:
                result = adapter.http(mapped)  # inline, no loop; its access and size-limit lines as under __call__
            else:
                from ..protocols import loop

                early = loop.run(adapter.answer_http(mapped))
                rest, response = early.rest, early.response or internal_error()  # a response: nothing streamed
                # Shaped here, outside the loop, as Adapter.__call__ shapes it: its log lines alike.
                result = adapter.shape(mapped, response, early.access)
            if result is not STREAMED:
                payload, content_type = marshal(result)
        except Exception as exc:
            self.failed(exc, request_id, echo)
        else:
            if result is not STREAMED:
                self.connection.post(f"invocation/{request_id}/response", payload, f"Content-Type: {content_type}\r\n{echo}")
        if rest is not None:
            from ..protocols import loop

            loop.run(rest.finish(context._deadline_ms / 1000 or None))

    def failed(self, error: Exception, request_id: str, echo: str) -> None:
        failure = error_result(error, request_id)
        self.logs.error(failure)
        self.connection.error(f"invocation/{request_id}/error", failure, cause=xray_cause(error), headers=echo)


# --- starting ------------------------------------------------------------------------------------


def serve(handler: Callable[..., Any], *, invoke_mode: str | None = None) -> None:
    """Serve `handler` (an Adapter streams; any other handler is answered buffered) until the
    process ends. `invoke_mode` is "buffered" or "response_stream"; None reads ASGI_INVOKE_MODE."""
    mode, concurrency = client_options(os.environ)
    if invoke_mode is not None:
        from ..settings.options import parse_invoke_mode

        mode = parse_invoke_mode(invoke_mode, name="invoke_mode", text=False)
    connection = RuntimeConnection(os.environ["AWS_LAMBDA_RUNTIME_API"])
    run(client(handler, invoke_mode=mode, connection=connection, logs=Logs(os.environ), concurrency=concurrency))


ZERO_CODE_HANDLER = "asgi_lambda.bootstrap.handler"

# The variables this client reads before it serves. Each is declared and checked once, by its option
# in settings/options.py; unset or blank, each means its option's default, which these are (a unit
# test holds them to the declaration), so that a function that sets none of them never imports the
# settings, and a plain handler starts without them.
CLIENT_VARIABLES = ("ASGI_INVOKE_MODE", "ASGI_RUNTIME", "AWS_LAMBDA_MAX_CONCURRENCY")
UNSET_INVOKE_MODE = "buffered"
UNSET_CONCURRENCY = 1


def client_options(environ: Mapping[str, str]) -> tuple[str, int]:
    """ASGI_INVOKE_MODE and AWS_LAMBDA_MAX_CONCURRENCY, checked, and ASGI_RUNTIME checked (a bad value
    has the wrapper start this client); a bad value raises ConfigError."""
    if not any(environ.get(variable, "").strip() for variable in CLIENT_VARIABLES):
        return UNSET_INVOKE_MODE, UNSET_CONCURRENCY
    from ..settings.options import read

    mode: str = read("ASGI_INVOKE_MODE", environ)
    read("ASGI_RUNTIME", environ)
    concurrency: int = read("AWS_LAMBDA_MAX_CONCURRENCY", environ)
    return mode, concurrency


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
    thresholds = pause_collector()
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
    if environ.get("AWS_EXECUTION_ENV", "") in PREVIEW_RUNTIMES and not environ.get("LAMBDA_DISABLE_PREVIEW_WARN"):
        logging.warning(PREVIEW_WARNING)
    try:
        if opt is not None:
            set_import_path(opt, environ)
        mode, concurrency = client_options(environ)
        name = args[0] if args else environ.get("_HANDLER", "")
        handler: Callable[..., Any] | None = code_first_handler(environ) if name == ZERO_CODE_HANDLER else None
        if handler is None:
            handler = load_handler(name)
    except Exception as exc:
        logging.warning(UNHANDLED_WARNING)  # as awslambdaric, before the error
        fail(connection, logs, exc, "init/error", None, exit_code=1)
    if environ.get("AWS_LAMBDA_INITIALIZATION_TYPE") == "snap-start":
        snapshot(connection, logs)
    resume_collector(thresholds)
    run(client(handler, invoke_mode=mode, connection=connection, logs=logs, concurrency=concurrency))


def pause_collector() -> tuple[int, int, int]:
    """No cyclic garbage collection during the init: imports and the app's startup make objects by
    the hundred thousand and free few, and a FastAPI app's init spends some 3% of its instructions
    collecting. Automatic collection stops (threshold 0) rather than gc.disable(), so that an app that
    disables the collector itself, or sets its own thresholds, during its init is not overruled by
    `resume_collector`. Returns the thresholds to restore."""
    thresholds = gc.get_threshold()
    gc.set_threshold(0, *thresholds[1:])
    return thresholds


def resume_collector(thresholds: tuple[int, int, int]) -> None:
    """After the init, unless the app set thresholds of its own: every object the init left is moved
    to the collector's permanent generation (gc.freeze(), the Python docs' recipe for a pre-forking
    server), so no collection scans them again, and automatic collection resumes. Cyclic garbage
    left by the init is not reclaimed (about 340 KiB, 1.6% of the init's memory, for a FastAPI app);
    an app whose init leaves much can call gc.collect() at the end of its module."""
    if gc.get_threshold()[0] == 0:
        gc.freeze()
        gc.set_threshold(*thresholds)


def client(handler: Callable[..., Any], *, invoke_mode: str, connection: RuntimeConnection, logs: Logs, concurrency: int) -> Serving:
    """One invocation at a time, or with AWS_LAMBDA_MAX_CONCURRENCY above 1 (Lambda Managed
    Instances) that many at once, on the event loop (concurrency.py)."""
    if concurrency == 1:
        return RuntimeClient(handler, invoke_mode=invoke_mode, connection=connection, logs=logs)
    from .concurrency import ConcurrentClient

    connection.close()
    return ConcurrentClient(handler, invoke_mode=invoke_mode, address=connection.address, logs=logs, limit=concurrency)


def run(serving: Serving) -> NoReturn:
    """Serve until the Runtime API refuses an answer or goes away: then, as awslambdaric, write the
    reason where its C client writes it, and end the process with the exception."""
    try:
        serving.serve_forever()
    except RuntimeClientError as exc:
        exc.write_report()
        raise
    raise AssertionError("unreachable")


# awslambdaric's words (lambda_literals.py), logged as it logs them.
LAMBDA_WARNING = "LAMBDA_WARNING"
UNHANDLED_WARNING = (
    f"{LAMBDA_WARNING}: Unhandled exception. The most likely cause is an issue in the function code. However, in rare cases, "
    "a Lambda runtime update can cause unexpected function behavior. For functions using managed runtimes, runtime updates "
    "can be triggered by a function change, or can be applied automatically. To determine if the runtime has been updated, "
    "check the runtime version in the INIT_START log entry. If this error correlates with a change in the runtime version, "
    "you may be able to mitigate this error by temporarily rolling back to the previous runtime version. For more "
    "information, see https://docs.aws.amazon.com/lambda/latest/dg/runtimes-update.html\r"
)
PREVIEW_RUNTIMES = frozenset({"AWS_Lambda_python3.15"})
PREVIEW_WARNING = (
    f"{LAMBDA_WARNING}: This is a preview runtime version and should not be used for production workloads. For further "
    "information and to provide feedback, see https://docs.aws.amazon.com/lambda/latest/dg/lambda-runtimes.html\r"
)


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
