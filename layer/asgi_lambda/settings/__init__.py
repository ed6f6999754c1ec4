"""The settings: every option, from the environment or from code, checked in one place.

The WebSocket store's settings, and their three spellings (WS_* variables, `ws_config`, `dsn`),
are in websocket_settings.py, imported only when a store is configured.

`Settings.from_environ` (the zero-code layer's ASGI_* and WS_* variables) and
`Settings.from_arguments` (the Adapter's keyword arguments, Mangum's `ws_config` and `dsn`
included) build the same frozen `Settings`. Each option has one function that checks it, whatever
spelling it came in; a fault raises ConfigError naming the variable or argument, the value seen and
what would fix it, so a function fails its init rather than start with a default nobody chose.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any, Literal

from ..exceptions import ConfigError

if TYPE_CHECKING:
    from ..types import LifespanMode
    from .websocket import WebSocketSettings

logger = logging.getLogger("asgi_lambda.settings")

LIFESPAN_MODES: dict[str, LifespanMode] = {"auto": "auto", "on": "on", "off": "off"}
SnapStartLifespan = Literal["init", "restore"]

# Media types whose bodies go out as text. An entry matches when it occurs in the response's
# media type (parameters dropped), as in Mangum: "text/" covers text/html, "+json" covers
# application/problem+json. Users' text_mime_types extend this.
DEFAULT_TEXT_MIME_TYPES: tuple[str, ...] = (
    "text/",
    "application/json",
    "+json",
    "application/xml",
    "+xml",
    "application/javascript",
    "application/ecmascript",
    "application/x-www-form-urlencoded",
    "application/graphql",
    "application/yaml",
    "application/x-yaml",
    "application/vnd.oai.openapi",
    "image/svg+xml",
)
DEFAULT_TTL_SECONDS = 2 * 60 * 60 + 60  # a little over API Gateway's 2-hour connection limit

# The variables besides each store's own (stores/registry.py has those); README's table says the same.
VARIABLES = {
    "ASGI_APP": "the ASGI app as module:attribute (required)",
    "ASGI_LIFESPAN": "auto, on or off (default auto)",
    "ASGI_BASE_PATH": "a custom domain's base path mapping, such as /v1 (default none)",
    "ASGI_STRIP_ROOT_PATH": "1 to give the app scope['path'] without root_path, for frameworks that route on the whole path (Falcon, Sanic)",
    "ASGI_TEXT_MIME_TYPES": "comma-separated media types to send as text, besides the defaults",
    "ASGI_EXCLUDE_HEADERS": "comma-separated response headers to drop",
    "ASGI_EVENTS_PATH": "where non-HTTP events (SQS, SNS, EventBridge, S3, DynamoDB, Kinesis) are POSTed, such as /events (default: refused)",
    "ASGI_ORIGINAL_HANDLER": "set by the exec wrapper: the function's own Handler setting",
    "ASGI_NEXT_WRAPPER": "another layer's exec wrapper (such as /opt/otel-instrument) that the exec wrapper runs next (default none)",
    "ASGI_SNAPSTART_LIFESPAN": "with SnapStart, where lifespan startup runs: init (in the snapshot) or restore (after each restore) (default init)",
    "ASGI_INVOKE_MODE": "buffered, or response_stream to stream Function URL and REST API responses (default buffered)",
    "ASGI_ACCESS_LOG": "1 to log one line per request on the asgi_lambda.access logger (default off: API Gateway logs requests)",
    "WS_BACKEND": "the WebSocket connection store",
    "WS_PATH": "the path WebSocket connections get in their scope (default /)",
    "WS_TTL_SECONDS": f"how long a connection record lives (default {DEFAULT_TTL_SECONDS}: API Gateway's 2 hours, and a minute)",
    "WS_ENDPOINT_URL": "where replies go instead of https://{apiId}.execute-api.{region}.amazonaws.com/{stage}",
}


class TextTypes:
    """The media types whose bodies go out as text, and which Content-Type values are one.
    Apps send few distinct Content-Type values, so each is judged once (bounded anyway)."""

    __slots__ = ("entries", "seen")

    def __init__(self, entries: tuple[str, ...]) -> None:
        self.entries = entries
        self.seen: dict[bytes, bool] = {}

    def is_text(self, content_type: bytes) -> bool:
        seen = self.seen
        if content_type not in seen:
            if len(seen) > 256:
                seen.clear()
            media_type = content_type.split(b";", 1)[0].strip().lower().decode("latin-1")
            seen[content_type] = bool(media_type) and any(entry in media_type for entry in self.entries)
        return seen[content_type]

    def __eq__(self, other: object) -> bool:
        return isinstance(other, TextTypes) and other.entries == self.entries

    def __hash__(self) -> int:
        return hash(self.entries)

    def __repr__(self) -> str:
        return f"TextTypes({self.entries!r})"


DEFAULT_TEXT_TYPES = TextTypes(DEFAULT_TEXT_MIME_TYPES)


class Frozen:
    """Set once, in __init__; equal when every field is. (Plain slots rather than a dataclass or
    NamedTuple: building those classes at import would cost a cold start about half a millisecond.)"""

    __slots__: tuple[str, ...] = ()

    def __setattr__(self, name: str, value: object) -> None:
        if hasattr(self, name):
            raise AttributeError(f"{type(self).__name__} is frozen: {name} cannot be changed; make another with replace().")
        object.__setattr__(self, name, value)

    def fields(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in self.__slots__}

    def replace(self, **changes: Any) -> Any:
        return type(self)(**{**self.fields(), **changes})

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Frozen) and type(other) is type(self) and self.fields() == other.fields()

    def __repr__(self) -> str:
        return f"{type(self).__name__}({', '.join(f'{name}={value!r}' for name, value in self.fields().items())})"


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

    @classmethod
    def from_environ(cls, environ: Mapping[str, str]) -> Settings:
        if any(name.startswith(("ASGI_", "WS_")) for name in environ):
            known = VARIABLES
            if any(name.startswith("WS_") for name in environ):
                from .websocket import all_variables

                known = all_variables()
            for name in sorted(environ):
                if name.startswith(("ASGI_", "WS_")) and name not in known:
                    warn_unknown(name, known)
        websocket = None
        if environ.get("WS_BACKEND", "").strip():
            # Checked at init when a store is chosen, so a bad WS_* value fails the init.
            from .websocket import websocket_from_environ

            websocket = websocket_from_environ(environ)
        app = environ.get("ASGI_APP", "").strip()
        if not app:
            raise ConfigError("ASGI_APP is not set: set it to your ASGI app as module:attribute, for example main:app.")
        return cls(
            app=app,
            lifespan=parse_lifespan(environ.get("ASGI_LIFESPAN", ""), name="ASGI_LIFESPAN"),
            base_path=parse_base_path(environ.get("ASGI_BASE_PATH", ""), name="ASGI_BASE_PATH"),
            text_mime_types=parse_text_mime_types(environ.get("ASGI_TEXT_MIME_TYPES"), name="ASGI_TEXT_MIME_TYPES"),
            exclude_headers=parse_header_names(environ.get("ASGI_EXCLUDE_HEADERS"), name="ASGI_EXCLUDE_HEADERS"),
            events_path=parse_events_path(environ.get("ASGI_EVENTS_PATH", ""), name="ASGI_EVENTS_PATH"),
            strip_root_path=parse_flag(environ.get("ASGI_STRIP_ROOT_PATH", ""), name="ASGI_STRIP_ROOT_PATH"),
            access_log=parse_flag(environ.get("ASGI_ACCESS_LOG", ""), name="ASGI_ACCESS_LOG"),
            snapstart=snapstart_from_environ(environ),
            websocket=websocket,
        )

    @classmethod
    def from_arguments(
        cls,
        *,
        lifespan: str = "auto",
        api_gateway_base_path: str | None = "/",
        text_mime_types: Iterable[str] | None = None,
        exclude_headers: Iterable[str] | None = None,
        events_path: str | None = None,
        ws_config: Mapping[str, Any] | None = None,
        dsn: str | None = None,
        enable_lifespan: bool | None = None,
        log_level: str | None = None,
        api_gateway_endpoint_url: str | None = None,
        api_gateway_region_name: str | None = None,
        strip_root_path: bool = False,
        access_log: bool = False,
        environ: Mapping[str, str] = os.environ,
    ) -> Settings:
        if ws_config is not None and dsn is not None:
            raise ConfigError("ws_config and dsn both configure the WebSocket store: give one of them.")
        websocket = None
        if ws_config is not None:
            from .websocket import websocket_from_ws_config

            websocket = websocket_from_ws_config(ws_config, environ)
        elif dsn is not None:
            from .websocket import websocket_from_dsn

            websocket = websocket_from_dsn(dsn, environ)
        if enable_lifespan is not None:
            # Mangum 0.9's switch, kept with its meaning: True is "auto", False is "off".
            if lifespan != "auto":
                raise ConfigError(
                    f"lifespan={lifespan!r} and enable_lifespan={enable_lifespan!r} both set the lifespan: give lifespan only."
                )
            deprecated("enable_lifespan", f"lifespan={'auto' if enable_lifespan else 'off'!r}")
            lifespan = "auto" if enable_lifespan else "off"
        if log_level is not None:
            deprecated("log_level", "the 'asgi_lambda' logger's level (logging.getLogger('asgi_lambda').setLevel(...))")
            log_level = parse_log_level(log_level, name="log_level")
        if api_gateway_endpoint_url is not None or api_gateway_region_name is not None:
            from .websocket import management_api_overrides

            websocket = management_api_overrides(websocket, api_gateway_endpoint_url, api_gateway_region_name, environ)
        return cls(
            lifespan=parse_lifespan(lifespan, name="lifespan"),
            log_level=log_level,
            base_path=parse_base_path(api_gateway_base_path, name="api_gateway_base_path"),
            text_mime_types=parse_text_mime_types(text_mime_types, name="text_mime_types"),
            exclude_headers=parse_header_names(exclude_headers, name="exclude_headers"),
            events_path=parse_events_path(events_path, name="events_path"),
            strip_root_path=parse_flag(strip_root_path, name="strip_root_path"),
            access_log=parse_flag(access_log, name="access_log"),
            snapstart=snapstart_from_environ(environ),
            websocket=websocket,
        )


# --- one check per option ---------------------------------------------------------------------


LOG_LEVELS = ("critical", "error", "warning", "info", "debug")


def parse_log_level(value: object, *, name: str) -> str:
    level = str(value).strip().lower()
    if level not in LOG_LEVELS:
        raise ConfigError(f"{name}={value!r}: expected one of {', '.join(LOG_LEVELS)}.")
    return level.upper()


def deprecated(name: str, instead: str, *, depth: int = 0) -> None:
    """Warn that a keyword of Mangum's WebSocket-era releases is taken, and what replaces it. The
    warning points at the user's `Adapter(...)` line (`depth`: calls between here and it, past 3)."""
    import warnings  # only when such a keyword is given

    message = f"{name} is Mangum 0.9's keyword, taken with its old meaning; use {instead} instead."
    warnings.warn(message, DeprecationWarning, stacklevel=4 + depth)


def parse_lifespan(value: str, *, name: str) -> LifespanMode:
    mode = LIFESPAN_MODES.get(str(value).strip().lower() or "auto")
    if mode is None:
        raise ConfigError(f"{name}={value!r}: expected one of auto, on, off.")
    return mode


INVOKE_MODES = ("buffered", "response_stream")


def parse_invoke_mode(value: str | None, *, name: str) -> str:
    """How responses go back: "buffered" (whole, as the managed runtime sends them) or
    "response_stream" (through the layer's own Runtime API client, as the app sends them)."""
    mode = str(value or "").strip().lower() or "buffered"
    if mode not in INVOKE_MODES:
        raise ConfigError(
            f"{name}={value!r}: expected buffered or response_stream (response_stream needs the Function URL's "
            "invoke mode RESPONSE_STREAM, or the REST method's responseTransferMode STREAM)."
        )
    return mode


def parse_base_path(value: str | None, *, name: str) -> str:
    """ "", "/" and None mean none; "api/", "/api" and "/api/" all mean "/api"."""
    path = (value or "").strip()
    if any(char in path for char in "?#% ") or "//" in path.strip("/"):
        raise ConfigError(f"{name}={value!r}: expected a path such as /v1 or /api/v2, without query, fragment or spaces.")
    stripped = path.strip("/")
    return f"/{stripped}" if stripped else ""


FLAG_WORDS = {"1": True, "true": True, "yes": True, "on": True, "0": False, "false": False, "no": False, "off": False, "": False}


def parse_flag(value: object, *, name: str) -> bool:
    """A switch: in a variable (an upper-case name) 1/true/yes/on or 0/false/no/off, unset is off;
    in code, True or False only, so a string such as "false" is not taken for True."""
    if not name.isupper():
        if not isinstance(value, bool):
            raise ConfigError(f"{name}={value!r}: expected True or False.")
        return value
    flag = FLAG_WORDS.get(str(value).strip().lower())
    if flag is None:
        raise ConfigError(f"{name}={value!r}: expected 1 or 0 (or true/false, yes/no, on/off).")
    return flag


SNAPSTART_LIFESPAN: dict[str, SnapStartLifespan] = {"init": "init", "restore": "restore"}


def snapstart_from_environ(environ: Mapping[str, str]) -> SnapStartLifespan | None:
    """Where lifespan startup runs in a SnapStart init; None in any other. ASGI_SNAPSTART_LIFESPAN is
    checked on every init, so a typo fails before a version that would snapshot it is published."""
    placement = parse_snapstart_lifespan(environ.get("ASGI_SNAPSTART_LIFESPAN", ""), name="ASGI_SNAPSTART_LIFESPAN")
    return placement if environ.get("AWS_LAMBDA_INITIALIZATION_TYPE") == "snap-start" else None


def parse_snapstart_lifespan(value: str, *, name: str) -> SnapStartLifespan:
    """Where lifespan startup runs under SnapStart; checked whether or not this init is a SnapStart one."""
    placement = SNAPSTART_LIFESPAN.get(str(value).strip().lower() or "init")
    if placement is None:
        raise ConfigError(
            f"{name}={value!r}: expected init (startup runs before the snapshot) or restore (after each restore, "
            "for apps whose startup opens connections)."
        )
    return placement


def parse_events_path(value: str | None, *, name: str) -> str | None:
    """Where non-HTTP events go; None (unset) refuses them. "/" is a path like any other."""
    if value is None or not value.strip():
        return None
    return parse_base_path(value, name=name) or "/"


def entries(value: str | Iterable[str] | None, *, name: str) -> list[str]:
    """A list option's entries: comma-separated in a variable (an upper-case name), a list in code."""
    if name.isupper():
        return [item.strip() for item in str(value or "").split(",") if item.strip()]
    if isinstance(value, (str, bytes)):
        raise ConfigError(f"{name}={value!r}: expected a list of strings, such as [{value!r}].")
    return [str(entry).strip() for entry in value or ()]


def parse_text_mime_types(value: str | Iterable[str] | None, *, name: str) -> TextTypes:
    extra = entries(value, name=name)
    for entry in extra:
        if "/" not in entry and not entry.startswith("+"):
            raise ConfigError(
                f"{name}={value!r}: {entry!r} is not a media type; expected entries such as "
                f"application/vnd.api+json, text/ or +yaml{separated(name)}."
            )
    return TextTypes(DEFAULT_TEXT_MIME_TYPES + tuple(entry.lower() for entry in extra)) if extra else DEFAULT_TEXT_TYPES


def parse_header_names(value: str | Iterable[str] | None, *, name: str) -> frozenset[str]:
    names = entries(value, name=name)
    for header in names:
        if not header or not all(char.isalnum() or char in "!#$%&'*+-.^_`|~" for char in header):
            raise ConfigError(
                f"{name}={value!r}: {header!r} is not a header name; expected names such as server,x-powered-by{separated(name)}."
            )
    return frozenset(header.lower() for header in names)


def separated(name: str) -> str:
    return ", separated by commas" if name.isupper() else ""


def warn_unknown(name: str, known: Mapping[str, str]) -> None:
    import difflib  # only when there is something to warn about

    close = difflib.get_close_matches(name, known, n=1)
    hint = f"did you mean {close[0]}?" if close else f"known: {', '.join(known)}."
    logger.warning("%s is not a variable asgi_lambda reads; ignored (%s)", name, hint)
