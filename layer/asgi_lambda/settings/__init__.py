"""The settings: every option, from the environment or from code, checked in one place.

Each option is declared once, in options.py (`OPTIONS`): its field, variable, keyword, default,
check and documentation. `Settings.from_environ` (the zero-code layer's ASGI_* and WS_* variables)
and `Settings.from_arguments` (the Adapter's keyword arguments, Mangum's `ws_config` and `dsn`
included) read the declaration and build the same frozen `Settings`; a fault raises ConfigError
naming the variable or argument, the value seen and what would fix it, so a function fails its
init rather than start with a default nobody chose. The WebSocket store's settings are
websocket.py's, imported only when a store is configured.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from ..exceptions import ConfigError
from .options import (
    BY_KEYWORD,
    BY_VARIABLE,
    DEFAULT_TEXT_MIME_TYPES,
    DEFAULT_TEXT_TYPES,
    KEYWORD_DEFAULTS,
    OPTIONS,
    Frozen,
    SnapStartLifespan,
    TextTypes,
    deprecated,
    parse_invoke_mode,
    warn_unknown,
)

if TYPE_CHECKING:
    from ..types import LifespanMode
    from .websocket import WebSocketSettings

__all__ = [
    "DEFAULT_TEXT_MIME_TYPES",
    "KEYWORD_DEFAULTS",
    "OPTIONS",
    "Settings",
    "TextTypes",
    "parse_invoke_mode",
]


class Settings(Frozen):
    __slots__ = (
        "app",
        "lifespan",
        "base_path",
        "text_mime_types",
        "exclude_headers",
        "events_path",
        "websocket",
        "log_level",
        "strip_root_path",
        "snapstart",
        "access_log",
        "invoke_mode",
        "runtime",
        "compression",
        "compression_min_bytes",
        "interface",
    )

    def __init__(
        self,
        *,
        app: str | None = None,  # the zero-code layer's ASGI_APP
        lifespan: LifespanMode = "auto",
        base_path: str = "",  # "" or "/segment[/segment...]"
        text_mime_types: TextTypes = DEFAULT_TEXT_TYPES,
        exclude_headers: frozenset[str] = frozenset(),
        events_path: str | None = None,  # None: non-HTTP events are refused
        websocket: WebSocketSettings | None = None,
        log_level: str | None = None,  # Mangum 0.9's log_level: the asgi_lambda logger's level
        strip_root_path: bool = False,  # scope["path"] without root_path (Falcon, Sanic)
        snapstart: SnapStartLifespan | None = None,  # a SnapStart init: where lifespan startup runs; None otherwise
        access_log: bool = False,  # one log line per request, on the asgi_lambda.access logger
        invoke_mode: str = "buffered",  # how the layer's runtime client answers (ASGI_INVOKE_MODE)
        runtime: str = "layer",  # the runtime client the wrapper starts (ASGI_RUNTIME)
        compression: bool = False,  # responses compressed where the client accepts it (ASGI_COMPRESSION)
        compression_min_bytes: int = 1024,  # smaller bodies go out as they are
        interface: str = "auto",  # what the app is: auto, asgi3, asgi2 or wsgi (ASGI_INTERFACE)
    ) -> None:
        self.app = app
        self.lifespan = lifespan
        self.base_path = base_path
        self.text_mime_types = text_mime_types
        self.exclude_headers = exclude_headers
        self.events_path = events_path
        self.websocket = websocket
        self.log_level = log_level
        self.strip_root_path = strip_root_path
        self.snapstart = snapstart
        self.access_log = access_log
        self.invoke_mode = invoke_mode
        self.runtime = runtime
        self.compression = compression
        self.compression_min_bytes = compression_min_bytes
        self.interface = interface

    @classmethod
    def from_environ(cls, environ: Mapping[str, str]) -> Settings:
        """The zero-code layer's settings: every declared variable, checked; ASGI_APP required."""
        if any(name.startswith(("ASGI_", "WS_")) for name in environ):
            warn_about_unknown_variables(environ)
        websocket = None
        if environ.get("WS_BACKEND", "").strip():
            # Checked at init when a store is chosen, so a bad WS_* value fails the init.
            from .websocket import websocket_from_environ

            websocket = websocket_from_environ(environ)
        fields: dict[str, Any] = {
            option.field: option.read(environ) for option in OPTIONS if option.field and option.variable and option.field != "snapstart"
        }
        if fields["runtime"] == "managed" and fields["invoke_mode"] == "response_stream":
            raise ConfigError(
                "ASGI_INVOKE_MODE=response_stream needs the layer's runtime client, and ASGI_RUNTIME=managed asks for "
                "the managed runtime's: unset ASGI_RUNTIME to stream.",
                fix="conflicting-settings",
            )
        return cls(**fields, snapstart=snapstart_from_environ(environ), websocket=websocket)

    @classmethod
    def from_arguments(cls, *, environ: Mapping[str, str] = os.environ, **keywords: Any) -> Settings:
        """The Adapter's keyword arguments: any of the declared keywords, the rest their defaults."""
        if unknown := sorted(keywords.keys() - KEYWORD_DEFAULTS.keys()):
            raise TypeError(f"Settings.from_arguments() got unexpected keyword arguments: {', '.join(unknown)}")
        given = {**KEYWORD_DEFAULTS, **keywords}
        lifespan, log_level = given["lifespan"], given["log_level"]
        ws_config, dsn = given["ws_config"], given["dsn"]
        if ws_config is not None and dsn is not None:
            raise ConfigError("ws_config and dsn both configure the WebSocket store: give one of them.", fix="conflicting-settings")
        websocket = None
        if ws_config is not None:
            from .websocket import websocket_from_ws_config

            websocket = websocket_from_ws_config(ws_config, environ)
        elif dsn is not None:
            from .websocket import websocket_from_dsn

            websocket = websocket_from_dsn(dsn, environ)
        if (enable_lifespan := given["enable_lifespan"]) is not None:
            # Mangum 0.9's switch, kept with its meaning: True is "auto", False is "off".
            if lifespan != "auto":
                raise ConfigError(
                    f"lifespan={lifespan!r} and enable_lifespan={enable_lifespan!r} both set the lifespan: give lifespan only.",
                    fix="conflicting-settings",
                )
            deprecated("enable_lifespan", f"lifespan={'auto' if enable_lifespan else 'off'!r}")
            lifespan = "auto" if enable_lifespan else "off"
        if log_level is not None:
            deprecated("log_level", "the 'asgi_lambda' logger's level (logging.getLogger('asgi_lambda').setLevel(...))")
        endpoint_url, region = given["api_gateway_endpoint_url"], given["api_gateway_region_name"]
        if endpoint_url is not None or region is not None:
            from .websocket import management_api_overrides

            websocket = management_api_overrides(websocket, endpoint_url, region, environ)
        given["lifespan"] = lifespan
        fields: dict[str, Any] = {
            option.field: option.take(given[keyword])
            for keyword, option in BY_KEYWORD.items()
            if option.field and (keyword != "log_level" or log_level is not None)
        }
        return cls(**fields, snapstart=snapstart_from_environ(environ), websocket=websocket)


def snapstart_from_environ(environ: Mapping[str, str]) -> SnapStartLifespan | None:
    """Where lifespan startup runs in a SnapStart init; None in any other. ASGI_SNAPSTART_LIFESPAN is
    checked on every init, so a typo fails before a version that would snapshot it is published."""
    placement: SnapStartLifespan = BY_VARIABLE["ASGI_SNAPSTART_LIFESPAN"].read(environ)
    return placement if environ.get("AWS_LAMBDA_INITIALIZATION_TYPE") == "snap-start" else None


def warn_about_unknown_variables(environ: Mapping[str, str]) -> None:
    """A warning for each ASGI_* or WS_* variable nothing reads: a typo, most likely."""
    known: Mapping[str, Any] = BY_VARIABLE
    if any(name.startswith("WS_") for name in environ):
        from .websocket import all_variables

        known = all_variables()
    for name in sorted(environ):
        if name.startswith(("ASGI_", "WS_")) and name not in known:
            warn_unknown(name, known)
