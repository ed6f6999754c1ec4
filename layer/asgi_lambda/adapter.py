"""The adapter: a Lambda event in, the app run once, the Lambda response out.

Nothing here knows any event source's fields; `sources/` does.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

from . import loop
from .exceptions import ConfigError, UnknownEventError
from .http import HTTPCycle, internal_error
from .lifespan import Lifespan, NoLifespan
from .sources.alb import AlbEvent
from .sources.apigw_http import HttpApiEvent
from .sources.apigw_rest import RestApiEvent
from .sources.common import DEFAULT_TEXT_MIME_TYPES, SourceConfig

if TYPE_CHECKING:
    from .types import ASGIApp, EventSource, LambdaContext, LambdaEvent, LambdaResponse, LifespanMode, MappedEvent

logger = logging.getLogger("asgi_lambda.adapter")

# Tried in order; each `matches` is exclusive of the others, the order is for speed.
SOURCES: tuple[EventSource, ...] = (HttpApiEvent, RestApiEvent, AlbEvent)

LIFESPAN_MODES = ("auto", "on", "off")


class Adapter:
    """Wrap an ASGI app as a Lambda handler: `handler = Adapter(app)`.

    The keyword arguments mean what they mean in Mangum, so `from asgi_lambda import Adapter
    as Mangum` migrates a function; `ws_config` and `dsn` configure the WebSocket store as
    Mangum's WebSocket-era releases did (websocket/configure.py). Two differences on purpose: lifespan startup runs once,
    here, rather than around every invocation; `text_mime_types` extends the default text
    types instead of replacing them.
    """

    def __init__(
        self,
        app: ASGIApp,
        lifespan: LifespanMode = "auto",
        api_gateway_base_path: str | None = "/",
        text_mime_types: Iterable[str] | None = None,
        exclude_headers: Iterable[str] | None = None,
        custom_handlers: Iterable[type] | None = None,
        ws_config: Mapping[str, Any] | None = None,
        dsn: str | None = None,
    ) -> None:
        if lifespan not in LIFESPAN_MODES:
            raise ConfigError(f"lifespan={lifespan!r}: expected one of auto, on, off.")
        for name, value in (("text_mime_types", text_mime_types), ("exclude_headers", exclude_headers)):
            if isinstance(value, (str, bytes)):
                raise ConfigError(f"{name}={value!r}: expected a list of strings, such as [{value!r}].")
        self.app = app
        self.config = SourceConfig(
            base_path=normalise_base_path(api_gateway_base_path),
            text_mime_types=DEFAULT_TEXT_MIME_TYPES + tuple(entry.lower() for entry in text_mime_types or ()),
            exclude_headers=frozenset(name.lower() for name in exclude_headers or ()),
        )
        # Mangum-style handler classes, tried before the built-in sources.
        self.custom_handlers = tuple(custom_handlers or ())
        if self.custom_handlers:
            from .sources import mangum_custom

            self.mangum_config = mangum_custom.mangum_config(self.config)
        if ws_config is not None or dsn is not None:
            # The WebSocket store configured in code, checked now; it wins over WS_* variables.
            from .websocket.configure import install_from_code

            install_from_code(ws_config=ws_config, dsn=dsn)
        self.lifespan = NoLifespan() if lifespan == "off" else Lifespan(app, required=lifespan == "on")
        self.lifespan.startup()

    def __call__(self, event: LambdaEvent, context: LambdaContext | Any = None) -> LambdaResponse:
        request = self.request_for(event, context)
        if request is None:
            return self.websocket(event, context)
        if self.lifespan.state is not None:
            request.scope["state"] = self.lifespan.state.copy()
        response = loop.run(HTTPCycle(request.scope, request.body).run(self.app))
        shaped = request.to_response(response)
        size = response_size(shaped)
        if size > request.max_response_bytes:
            logger.error(
                "The response to %s %s is %d bytes, over the %d-byte limit of %s; answering 500 instead. "
                "Send large bodies another way (compression, a presigned S3 URL, pagination).",
                request.scope["method"],
                request.scope["path"],
                size,
                request.max_response_bytes,
                request.name,
            )
            shaped = request.to_response(internal_error())
        return shaped

    def websocket(self, event: LambdaEvent, context: Any) -> LambdaResponse:
        # Imported here: an HTTP-only function never loads the WebSocket code or a store.
        from .sources.apigw_websocket import WebSocketEvent
        from .websocket import cycle, runtime

        mapped = WebSocketEvent(event, context)
        return loop.run(cycle.handle(mapped, self.app, runtime=runtime.current(), state=self.lifespan.state))

    def request_for(self, event: LambdaEvent, context: Any) -> MappedEvent | None:
        """The HTTP mapping of the event; None for a WebSocket event."""
        if self.custom_handlers:
            from .sources import mangum_custom

            custom = mangum_custom.infer(self.custom_handlers, event, context, self.mangum_config)
            if custom is not None:
                return custom
        if isinstance(event, dict):
            for source in SOURCES:
                if source.matches(event):
                    return source(event, context, self.config)
            from .sources import apigw_websocket

            if apigw_websocket.matches(event):
                return None
        raise UnknownEventError(
            "The event is not one asgi_lambda handles. Supported sources: "
            + "; ".join([source.name for source in SOURCES] + ["API Gateway WebSocket API"])
            + f". Got {describe(event)}."
        )


def normalise_base_path(base_path: str | None) -> str:
    """"/", "" and None mean none; "api/", "/api" and "/api/" all mean "/api"."""
    stripped = (base_path or "").strip("/")
    return f"/{stripped}" if stripped else ""


def response_size(response: LambdaResponse) -> int:
    """Bytes of the JSON the runtime will send. Only large bodies can reach a limit, so small
    ones skip the serialisation (escaping can grow text up to six-fold)."""
    body = response.get("body") or ""
    if len(body) * 6 < AlbEvent.max_response_bytes - 64 * 1024:
        return len(body)
    import json  # only large responses pay for it

    return len(json.dumps(response).encode())


def describe(event: Any) -> str:
    if isinstance(event, dict):
        keys = ", ".join(sorted(map(str, event))[:12])
        return f"an event with keys [{keys}]"
    return f"a {type(event).__name__}"
