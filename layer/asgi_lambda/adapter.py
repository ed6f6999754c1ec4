"""The adapter: a Lambda event in, its source found, the app run once, the source's answer out.

Nothing here knows an event's fields or a result's shape: each source in `sources/` maps its
events and shapes their answers. The adapter picks the source, runs the cycle the source's
kind calls for (an HTTP request, or a WebSocket event with its connection bookkeeping), and
hands back what the source made of it.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Coroutine, Iterable, Mapping
from functools import partial
from inspect import iscoroutinefunction  # loaded by asyncio, and by importer.py, which a WSGI app's detection uses
from time import perf_counter, time
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

from . import sources
from .exceptions import ConfigError, MalformedEvent, UnknownEventError
from .protocols.http_cycle import HTTPCycle, internal_error
from .settings import KEYWORD_DEFAULTS, Settings
from .sources.common import printable, strip_root_path
from .sources.fields import FieldError, explain

if TYPE_CHECKING:
    import asyncio

    from .protocols.compression import Compression
    from .protocols.http_cycle import ResponseStream
    from .protocols.lifespan import Lifespan
    from .types import (
        ASGIApp,
        FanoutRequest,
        HandlerContext,
        HTTPRequest,
        LambdaEvent,
        LambdaResponse,
        MappedEvent,
        Response,
        WebSocketRequest,
    )
    from .websocket.hub import ConnectionHub

T = TypeVar("T")

logger = logging.getLogger("asgi_lambda.adapter")
access_logger = logging.getLogger("asgi_lambda.access")


class Adapter:
    """Wrap an ASGI app as a Lambda handler: `handler = Adapter(app)`.

    The keyword arguments mean what they mean in Mangum, so `from asgi_lambda import Adapter
    as Mangum` migrates a function; `ws_config` and `dsn` configure the WebSocket store as
    Mangum's WebSocket-era releases did. `events_path` turns on non-HTTP events (SQS, SNS,
    EventBridge, S3, DynamoDB and Kinesis streams), POSTed to the app under that path.
    `strip_root_path=True` gives the app `scope["path"]` (and `raw_path`) without the stage and
    base path, `root_path` still set, for frameworks that route on the whole path (Falcon, Sanic).
    `access_log=True` logs one line per request on the `asgi_lambda.access` logger.
    `compression=True` compresses text-like responses the client accepts compressed (gzip, or
    brotli), at least `compression_min_bytes` long (protocols/compression.py).
    `settings` gives every option at once (the zero-code layer's, from the environment) in
    place of the keyword arguments. Two differences from Mangum on purpose: lifespan startup
    runs once, here, rather than around every invocation; `text_mime_types` extends the
    default text types instead of replacing them.
    """

    def __init__(
        self,
        app: ASGIApp,
        lifespan: str = "auto",
        api_gateway_base_path: str | None = "/",
        text_mime_types: Iterable[str] | None = None,
        exclude_headers: Iterable[str] | None = None,
        custom_handlers: Iterable[type] | None = None,
        ws_config: Mapping[str, Any] | None = None,
        dsn: str | None = None,
        *,
        events_path: str | None = None,
        settings: Settings | None = None,
        enable_lifespan: bool | None = None,
        log_level: str | None = None,
        api_gateway_endpoint_url: str | None = None,
        api_gateway_region_name: str | None = None,
        strip_root_path: bool = False,
        access_log: bool = False,
        compression: bool = False,
        compression_min_bytes: int = 1024,
        interface: str = "auto",
    ) -> None:
        arguments = locals()  # the declared keywords (settings.options), passed through to the one check of each
        if settings is None:
            settings = Settings.from_arguments(**{keyword: arguments[keyword] for keyword in KEYWORD_DEFAULTS})
        elif given := [keyword for keyword, default in KEYWORD_DEFAULTS.items() if arguments[keyword] != default]:
            raise ConfigError(
                f"settings= and {', '.join(given)} both configure the adapter: give the settings, or the keyword arguments.",
                fix="conflicting-settings",
            )
        self.settings = settings
        self.interface, self.app = interfaced(app, settings)
        if settings.log_level is not None:
            logging.getLogger("asgi_lambda").setLevel(settings.log_level)
        if settings.access_log and access_logger.level == logging.NOTSET:
            # The managed runtime leaves the root logger at WARNING unless AWS_LAMBDA_LOG_LEVEL is
            # set: the lines asked for would be dropped. A level set on the logger stands.
            access_logger.setLevel(logging.INFO)
        self.sources = sources.SourceOrder(settings)
        # Imported only when on: a function without compression never loads it, nor zlib.
        self.compression: Compression | None = None
        if settings.compression:
            from .protocols.compression import Compression

            self.compression = Compression(settings.compression_min_bytes)
        # Mangum-style handler classes, tried before the built-in sources.
        self.custom_handlers = tuple(custom_handlers or ())
        if self.custom_handlers:
            from .sources import mangum_custom

            self.mangum_config = mangum_custom.mangum_config(settings)
        # The adapter's own WebSocket store and Management API clients, made (and checked) now.
        # Without one, WebSocket events use the environment's, from WS_* on first use.
        self.hub: ConnectionHub | None = None
        if settings.websocket is not None:
            from .websocket.hub import ConnectionHub

            self.hub = ConnectionHub(settings.websocket)
        if settings.snapstart is not None:
            from . import snapstart  # a SnapStart init only

            snapstart.install(settings)
        # A WSGI app run inline answers a buffered request with no coroutine and no event loop
        # (protocols/wsgi.py); with a WebSocket hub of its own, through `running`, which serves it.
        # Such an adapter imports the shared loop, and asyncio, only when an event needs them (a
        # streamed response, a WebSocket event); any other imports them now, not per call.
        self.wsgi_answer: Callable[[Any, HTTPCycle], Response] | None = None
        self.run: Runs = run_on_loop
        self.running_loop: Callable[[], asyncio.AbstractEventLoop] = running_loop
        if self.interface == "wsgi" and self.app.inline and self.hub is None:  # type: ignore[attr-defined]
            from .protocols.wsgi import answer

            self.wsgi_answer = answer
        else:
            import asyncio

            from .protocols import loop

            self.run, self.running_loop = loop.run, asyncio.get_running_loop
        if self.interface == "wsgi":
            if settings.lifespan == "on":
                logger.warning("Lifespan is 'on', but a WSGI app has no lifespan: it is off. Run startup code at import.")
            self.lifespan: Lifespan | NoLifespan = NoLifespan()
        elif settings.lifespan == "off":
            self.lifespan = NoLifespan()
        else:
            from .protocols.lifespan import Lifespan

            self.lifespan = Lifespan(self.app, required=settings.lifespan == "on")
        self.lifespan.startup()

    @classmethod
    def from_environ(cls, environ: Mapping[str, str], *, app_variable: str = "ASGI_APP") -> Adapter:
        """The zero-code layer's handler: settings from ASGI_* and WS_*, the app ASGI_APP names."""
        from .importer import import_app

        settings = Settings.from_environ(environ)
        if settings.snapstart is not None:
            from . import snapstart  # before the app is imported: its own hooks then run before ours at the snapshot

            snapstart.install(settings)
        app = import_app(settings.app or "", variable=app_variable, interface=settings.interface)
        if settings.interface == "asgi2":
            settings = settings.replace(interface="asgi3")  # import_app made it one
        return cls(app, settings=settings)

    def __call__(self, event: LambdaEvent, context: HandlerContext | Any = None) -> LambdaResponse:
        mapped = self.map(event, context)
        if mapped.kind == "websocket":
            return self.websocket(mapped)
        if mapped.kind == "fanout":
            return self.fanout(mapped)
        return self.http(mapped)

    def map(self, event: LambdaEvent, context: Any) -> MappedEvent:
        """The event, mapped by the first source that recognises it."""
        if self.custom_handlers:
            from .sources import mangum_custom

            custom = mangum_custom.infer(self.custom_handlers, event, context, self.mangum_config)
            if custom is not None:
                return custom
        source = self.sources.find(event) if isinstance(event, dict) else None
        if source is None:
            raise UnknownEventError(self.sources.unknown_event_message(event))
        try:
            # The cheap check of the fields the mapping does not check as it reads; `check` names one.
            if source.fields.unread and not source.fields.fits(event):
                source.fields.check(event)
            return source(event, context, self.settings)
        except UnknownEventError:
            raise  # the source's own refusal (an authorizer event), as it worded it
        except FieldError as fault:
            raise MalformedEvent(f"{source.name} event: {fault}.") from None
        except (TypeError, AttributeError, KeyError, IndexError, ValueError) as exc:  # UnicodeError is a ValueError
            raise MalformedEvent(f"{source.name} event: {explain(source.fields, event, exc)}.") from exc

    def http(self, request: HTTPRequest, stream: ResponseStream | None = None) -> LambdaResponse:
        """Run the app on `request`; its answer, shaped by the source. With `stream` (the layer's
        Runtime API client, for a source whose answer `streams`), the response goes out through it
        as the app sends it, and nothing is returned."""
        # The access log's clock, and the path before strip_root_path shortens it: read only when on.
        access = (perf_counter(), request.scope["path"]) if self.settings.access_log else None
        if stream is not None and self.compression is not None:
            stream = self.compression.streamed(request.scope, stream)
        cycle = HTTPCycle(request.scope, request.body, stream)
        if stream is None and self.wsgi_answer is not None:
            return self.shape(request, self.wsgi_answer(self.app, cycle), access)
        if stream is not None:
            try:
                self.run(self.streaming(request, cycle, stream))
            finally:
                if access is not None:  # the prelude's status once it went out; else the invocation failed: a 500
                    log_http_access(request, status=stream.status, started=access[0], path=access[1])
            return None
        return self.shape(request, self.run(self.running(request, cycle)), access)

    async def answer_http(self, request: HTTPRequest, stream: ResponseStream | None = None) -> Early:
        """The layer's runtime client's way: the app's response as soon as the answer is decided (its
        last body message sent, or a bad message that makes it a 500), while the app may still run
        (background tasks, code after its last `send`). That rest, if any, comes back as a
        `Remainder`, for the client to finish once it has sent the answer, which `shape` makes of the
        response. With `stream`, the response goes out through it, and the stream is ended by the
        remainder (or here, if the app is done)."""
        access = (perf_counter(), request.scope["path"]) if self.settings.access_log else None
        if stream is not None and self.compression is not None:
            stream = self.compression.streamed(request.scope, stream)
        cycle = HTTPCycle(request.scope, request.body, stream)
        if stream is None and self.wsgi_answer is not None:
            return Early(self.wsgi_answer(self.app, cycle), None, access)
        running_loop = self.running_loop()
        decided = cycle.decided = running_loop.create_future()
        task = running_loop.create_task(self.running(request, cycle))
        task.add_done_callback(partial(_settle, decided))
        await decided
        if stream is None:
            if task.done():
                return Early(task.result(), None, access)
            return Early(cycle.response(), Remainder(task, cycle), access)
        if not task.done() and stream.ended:  # the caller has the whole body: the rest runs after
            if access is not None:
                log_http_access(request, status=stream.status, started=access[0], path=access[1])
            return Early(None, Remainder(task, cycle, stream), None)
        try:
            await task  # a stream not ended yet: the app runs on, unbounded, as Adapter.http lets it
            await stream.conclude(cycle, task.result())
        finally:
            if access is not None:
                log_http_access(request, status=stream.status, started=access[0], path=access[1])
        return Early(None, None, None)

    def shape(self, request: HTTPRequest, response: Response, access: tuple[float, str] | None) -> LambdaResponse:
        """The app's response as the source answers it (compressed, when that is on and it
        qualifies), held to the source's size limit: the compressed body's size."""
        if self.compression is not None:
            response = self.compression.buffered(request.scope, response)
        shaped = request.to_response(response)
        size = response_size(shaped, limit=request.max_response_bytes)
        if size > request.max_response_bytes:
            logger.error(
                "The response to %s %s is %d bytes, over the %d-byte limit of %s; answering 500 instead. "
                "Send large bodies another way (compression, a presigned S3 URL, pagination).",
                printable(request.scope["method"]),
                printable(request.scope["path"]),
                size,
                request.max_response_bytes,
                request.name,
            )
            shaped = request.to_response(internal_error())
        if access is not None:
            status = 500 if size > request.max_response_bytes else response["status"]
            log_http_access(request, status=status, started=access[0], path=access[1])
        return shaped

    async def streaming(self, request: HTTPRequest, cycle: HTTPCycle, stream: ResponseStream) -> None:
        response = await self.running(request, cycle)
        await stream.conclude(cycle, response)

    def running(self, request: HTTPRequest, cycle: HTTPCycle) -> Coroutine[Any, Any, Response]:
        """The app run on `request` by `cycle`, for the shared loop to await: the scope made final
        (root path, lifespan state), the adapter's WebSocket hub the send API's."""
        if self.settings.strip_root_path:
            strip_root_path(request.scope)
        if self.lifespan.state is not None:
            request.scope["state"] = self.lifespan.state.copy()
        if self.hub is not None:
            from .websocket.hub import serving  # loaded already: the hub is made

            return serving(self.hub, cycle.run(self.app))
        return cycle.run(self.app)

    def websocket(self, event: WebSocketRequest) -> LambdaResponse:
        return self.run(self.answer_websocket(event))

    async def answer_websocket(self, event: WebSocketRequest) -> LambdaResponse:
        if self.interface == "wsgi":
            raise UnknownEventError(
                f"A WebSocket event ({event.event_type} on connection {event.connection_id}) reached a WSGI app, which has "
                "no WebSocket protocol: serve WebSocket routes with an ASGI app, or route them to another function."
            )
        # Imported here: an HTTP-only function never loads the WebSocket code or a store.
        from .websocket import bookkeeping, hub

        started = perf_counter() if self.settings.access_log else None
        outcome = await bookkeeping.handle(event, self.app, hub=self.hub or hub.default(), app_state=self.lifespan.state)
        if started is not None:
            log_websocket_access(event, status=outcome["status"], started=started)
        return event.to_response(outcome)

    def fanout(self, request: FanoutRequest) -> LambdaResponse:
        return self.run(self.answer_fanout(request))

    async def answer_fanout(self, request: FanoutRequest) -> LambdaResponse:
        """Post the pages a broadcast queued (websocket/fanout.py); the answer names those to deliver again."""
        from .websocket import fanout, hub

        failed = await fanout.drain(self.hub or hub.default(), request.pages)
        return request.to_response(failed)

    def close(self) -> None:
        """Run lifespan shutdown and release the adapter's store and clients (the process is ending)."""
        self.lifespan.shutdown()
        if self.interface == "wsgi":
            self.app.close()  # type: ignore[attr-defined]  # the WSGI bridge's threads, if any
        if self.hub is not None:
            self.run(self.hub.close())


def interfaced(app: Any, settings: Settings) -> tuple[str, ASGIApp]:
    """What the app is (settings.interface, or found from its shape) and the ASGI 3 app to run: a
    WSGI app behind protocols/wsgi.py's bridge, imported only then; an ASGI 2 app wrapped. An
    async callable (not a class: its `__call__` is its instances') is never a WSGI app: the common case
    decides without importer.py."""
    call = getattr(app, "__call__", None)  # noqa: B004  (the method itself, to ask whether it is async)
    if settings.interface == "auto" and not isinstance(app, type) and (iscoroutinefunction(app) or iscoroutinefunction(call)):
        return "asgi3", app
    from .importer import resolve

    interface, runnable = resolve(app, settings.interface)
    if interface == "wsgi":
        import os

        from .protocols.wsgi import WSGIBridge
        from .settings.options import read

        return interface, WSGIBridge(runnable, threads=read("AWS_LAMBDA_MAX_CONCURRENCY", os.environ))
    return interface, runnable


class Runs(Protocol):
    """What runs a coroutine to its end on the shared loop: protocols/loop.py's `run`."""

    def __call__(self, coroutine: Coroutine[Any, Any, T], /) -> T: ...


def run_on_loop(coroutine: Coroutine[Any, Any, T]) -> T:
    """protocols/loop.py's `run`, for an adapter that imports it (and asyncio) only on first use."""
    from .protocols import loop

    return loop.run(coroutine)


def running_loop() -> asyncio.AbstractEventLoop:
    """asyncio's `get_running_loop`, for an adapter that imports asyncio only on first use."""
    import asyncio

    return asyncio.get_running_loop()


class NoLifespan:
    """No lifespan (lifespan='off', or a WSGI app): protocols/lifespan.py's `Lifespan`'s surface,
    doing nothing, and importing neither it nor asyncio."""

    state: dict[str, Any] | None = None

    def startup(self) -> None:
        pass

    def shutdown(self) -> None:
        pass


class Early:
    """What `Adapter.answer_http` has once the answer is decided: the app's response (None when it
    was streamed), what the app still does after it (a `Remainder`, or None), and the access log's
    clock and path (for `Adapter.shape`)."""

    __slots__ = ("response", "rest", "access")

    def __init__(self, response: Response | None, rest: Remainder | None, access: tuple[float, str] | None) -> None:
        self.response = response
        self.rest = rest
        self.access = access


class Remainder:
    """What the app still does once its answer is decided: the rest of its task, and for a streamed
    response, the stream to close after it. `finish` lets it run for up to the time it is given,
    then cancels it, logged: the caller has its answer, so nothing of this is the invocation's error."""

    __slots__ = ("task", "cycle", "stream")

    def __init__(self, task: asyncio.Task[Response], cycle: HTTPCycle, stream: ResponseStream | None = None) -> None:
        self.task = task
        self.cycle = cycle
        self.stream = stream

    async def finish(self, deadline: float | None) -> None:
        """Let the app run to its end, until `deadline` (time.time() seconds, the invocation's)
        less AFTER_RESPONSE_MARGIN; then cancel it, logged."""
        import asyncio  # loaded: the task runs on its loop

        task = self.task
        timeout = None if deadline is None else max(deadline - time() - AFTER_RESPONSE_MARGIN, 0.0)
        if not task.done():
            await asyncio.wait((task,), timeout=timeout)
        if not task.done():
            logger.error(
                "The app's work after its response was still running %.0f ms before the invocation's deadline: cancelled.",
                AFTER_RESPONSE_MARGIN * 1000,
            )
            task.cancel()
            await asyncio.wait((task,), timeout=CANCEL_GRACE)
            if not task.done():
                logger.error("The app's work after its response did not stop when cancelled; it is left running.")
        if self.stream is not None:
            done = task.done() and not task.cancelled() and task.exception() is None
            await self.stream.conclude(self.cycle, task.result() if done else self.cycle.response())


# The time kept, before an invocation's deadline, to cancel the app's work after its response (and
# let it clean up, CANCEL_GRACE) and ask for the next event before Lambda times the invocation out.
AFTER_RESPONSE_MARGIN = 0.5
CANCEL_GRACE = 0.2


def _settle(future: asyncio.Future[None], task: asyncio.Task[Any]) -> None:
    if not future.done():
        future.set_result(None)


def log_http_access(request: HTTPRequest, *, status: int, started: float, path: str) -> None:
    """The access log's line for one HTTP request: method, path (no query string, which may carry
    secrets), the status the client got, the time the app and the answer took, the request id. The
    fields ride along as `extra`, so that a JSON log line (AWS_LAMBDA_LOG_FORMAT=JSON) carries each
    as its own key, for CloudWatch Logs Insights to filter on."""
    duration = round((perf_counter() - started) * 1000, 1)
    method = request.scope["method"]
    request_id = getattr(request.scope.get("aws.context"), "aws_request_id", None) or "-"
    fields = {"method": method, "path": path, "status": status, "durationMs": duration}
    access_logger.info("%s %s %d %.1fms %s", printable(method), printable(path), status, duration, request_id, extra=fields)


def log_websocket_access(event: WebSocketRequest, *, status: int, started: float) -> None:
    """The access log's line for one WebSocket event: CONNECT, MESSAGE or DISCONNECT, the connection,
    the status API Gateway got (at $connect, 403 for a refused connection), the time, the request id."""
    duration = round((perf_counter() - started) * 1000, 1)
    request_id = getattr(event.context, "aws_request_id", None) or "-"
    fields = {"eventType": event.event_type, "connectionId": event.connection_id, "status": status, "durationMs": duration}
    connection = printable(event.connection_id)
    access_logger.info("WebSocket %s %s %d %.1fms %s", event.event_type, connection, status, duration, request_id, extra=fields)


def response_size(result: Any, *, limit: int) -> int:
    """Bytes of the JSON the runtime will send (json.dumps, ASCII-escaped), or a bound a little
    above them, without serialising the body: a base64 body needs no escaping at all, and text's
    escapes are counted. Serialising would cost a 200 KB binary response about 1.5 ms."""
    body = result.get("body") if isinstance(result, dict) else None
    if not isinstance(body, str):
        return len(json_text(result))
    if len(body) * 12 < limit - 64 * 1024:  # no escaping can take it near the limit
        return len(body)
    rest = len(json_text({key: value for key, value in result.items() if key != "body"}))
    if result.get("isBase64Encoded") or result.get("bodyEncoding") == "base64":
        return rest + len(body) + len(', "body": ""')
    encoded = body.encode("utf-8", "surrogatepass")
    controls = len(encoded) - len(encoded.translate(None, CONTROL_BYTES))
    common = body.count("\n") + body.count("\r") + body.count("\t")
    escapes = body.count('"') + body.count("\\") + common + 5 * (controls - common)
    # A character outside ASCII is 1 to 3 bytes more in UTF-8 and 5 or 11 more as \uXXXX: at most 5 per byte.
    bound = rest + len(body) + len(', "body": ""') + escapes + 5 * (len(encoded) - len(body))
    return bound if bound <= limit else len(json_text(result))  # near the limit, the exact figure


def json_text(value: Any) -> str:
    import json  # only large responses, and non-HTTP events' answers, pay for it

    return json.dumps(value)


CONTROL_BYTES = bytes(range(32))
