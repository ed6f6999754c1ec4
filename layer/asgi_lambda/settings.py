"""The settings: every option, from the environment or from code, checked in one place.

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
from typing import TYPE_CHECKING, Any

from .exceptions import ConfigError

if TYPE_CHECKING:
    from .stores.registry import StoreEntry
    from .types import LifespanMode

logger = logging.getLogger("asgi_lambda.settings")

LIFESPAN_MODES: dict[str, LifespanMode] = {"auto": "auto", "on": "on", "off": "off"}

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
# Options every store takes in code, beside its own (WS_TTL_SECONDS and WS_ENDPOINT_URL in the environment).
COMMON_PARAMS = ("ttl_seconds", "management_endpoint_url")

# The variables besides each store's own (stores/registry.py has those); README's table says the same.
VARIABLES = {
    "ASGI_APP": "the ASGI app as module:attribute (required)",
    "ASGI_LIFESPAN": "auto, on or off (default auto)",
    "ASGI_BASE_PATH": "a custom domain's base path mapping, such as /v1 (default none)",
    "ASGI_TEXT_MIME_TYPES": "comma-separated media types to send as text, besides the defaults",
    "ASGI_EXCLUDE_HEADERS": "comma-separated response headers to drop",
    "ASGI_EVENTS_PATH": "where non-HTTP events (SQS, SNS, EventBridge, S3, DynamoDB, Kinesis) are POSTed, such as /events (default: refused)",
    "ASGI_ORIGINAL_HANDLER": "set by the exec wrapper: the function's own Handler setting",
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


class WebSocketSettings(Frozen):
    """The store and its options, the scope's path, the record's lifetime and where replies go."""

    __slots__ = ("backend", "store_options", "path", "ttl_seconds", "endpoint_url", "region")

    def __init__(
        self,
        backend: str,
        store_options: Mapping[str, str],
        *,
        path: str = "/",
        ttl_seconds: int = DEFAULT_TTL_SECONDS,
        endpoint_url: str | None = None,
        region: str = "us-east-1",
    ) -> None:
        self.backend = backend
        self.store_options = store_options
        self.path = path
        self.ttl_seconds = ttl_seconds
        self.endpoint_url = endpoint_url
        self.region = region


class Settings(Frozen):
    __slots__ = ("app", "lifespan", "base_path", "text_mime_types", "exclude_headers", "events_path", "websocket")

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
    ) -> None:
        self.app = app
        self.lifespan = lifespan
        self.base_path = base_path
        self.text_mime_types = text_mime_types
        self.exclude_headers = exclude_headers
        self.events_path = events_path
        self.websocket = websocket

    @classmethod
    def from_environ(cls, environ: Mapping[str, str]) -> Settings:
        if any(name.startswith(("ASGI_", "WS_")) for name in environ):
            known = all_variables() if any(name.startswith("WS_") for name in environ) else VARIABLES
            for name in sorted(environ):
                if name.startswith(("ASGI_", "WS_")) and name not in known:
                    warn_unknown(name, known)
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
            # Checked at init when a store is chosen, so a bad WS_* value fails the init.
            websocket=websocket_from_environ(environ) if environ.get("WS_BACKEND", "").strip() else None,
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
        environ: Mapping[str, str] = os.environ,
    ) -> Settings:
        if ws_config is not None and dsn is not None:
            raise ConfigError("ws_config and dsn both configure the WebSocket store: give one of them.")
        websocket = None
        if ws_config is not None:
            websocket = websocket_from_ws_config(ws_config, environ)
        elif dsn is not None:
            websocket = websocket_from_dsn(dsn, environ)
        return cls(
            lifespan=parse_lifespan(lifespan, name="lifespan"),
            base_path=parse_base_path(api_gateway_base_path, name="api_gateway_base_path"),
            text_mime_types=parse_text_mime_types(text_mime_types, name="text_mime_types"),
            exclude_headers=parse_header_names(exclude_headers, name="exclude_headers"),
            events_path=parse_events_path(events_path, name="events_path"),
            websocket=websocket,
        )


# --- one check per option ---------------------------------------------------------------------


def parse_lifespan(value: str, *, name: str) -> LifespanMode:
    mode = LIFESPAN_MODES.get(str(value).strip().lower() or "auto")
    if mode is None:
        raise ConfigError(f"{name}={value!r}: expected one of auto, on, off.")
    return mode


def parse_base_path(value: str | None, *, name: str) -> str:
    """ "", "/" and None mean none; "api/", "/api" and "/api/" all mean "/api"."""
    path = (value or "").strip()
    if any(char in path for char in "?#% ") or "//" in path.strip("/"):
        raise ConfigError(f"{name}={value!r}: expected a path such as /v1 or /api/v2, without query, fragment or spaces.")
    stripped = path.strip("/")
    return f"/{stripped}" if stripped else ""


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


def parse_ttl_seconds(value: object, *, name: str) -> int:
    text = str(value).strip()
    if not text.isdigit() or int(text) == 0:
        raise ConfigError(f"{name}={value!r}: expected a whole number of seconds above 0, such as {DEFAULT_TTL_SECONDS}.")
    return int(text)


def parse_endpoint_url(value: object, *, name: str) -> str:
    text = str(value).strip()
    if not text.startswith(("http://", "https://")):
        raise ConfigError(f"{name}={value!r}: expected an http(s) URL, such as http://127.0.0.1:8001/prod.")
    return text


def parse_store_name(value: object, *, name: str) -> StoreEntry:
    from .stores import registry

    entry = registry.entry_for(str(value))
    if entry is None:
        raise ConfigError(f"{name}={value!r}: expected one of {registry.names()}.")
    return entry


def parse_store_option(entry: StoreEntry, keyword: str, value: object, *, name: str) -> str:
    text = str(value).strip()
    option = next(option for option in entry.options if option.keyword == keyword)
    if option.schemes and not text.startswith(option.schemes):
        from .stores.failures import mask_password  # only on this error: it imports urllib.parse

        raise ConfigError(f"{name}={mask_password(text)!r}: expected a URL starting with {' or '.join(option.schemes)}.")
    return text


# --- the WebSocket store: WS_* variables, ws_config or dsn --------------------------------------


def websocket_settings(entry: StoreEntry, options: dict[str, str], environ: Mapping[str, str], **chosen: Any) -> WebSocketSettings:
    """The store chosen, the rest from WS_* variables unless the code chose them (`chosen`)."""
    path = environ.get("WS_PATH", "/").strip() or "/"
    if not path.startswith("/"):
        raise ConfigError(f"WS_PATH={path!r}: expected a path starting with /, such as /ws.")
    ttl = chosen.get("ttl_seconds") or parse_ttl_seconds(
        environ.get("WS_TTL_SECONDS", "").strip() or DEFAULT_TTL_SECONDS, name="WS_TTL_SECONDS"
    )
    endpoint = chosen.get("endpoint_url")
    if endpoint is None and environ.get("WS_ENDPOINT_URL", "").strip():
        endpoint = parse_endpoint_url(environ["WS_ENDPOINT_URL"], name="WS_ENDPOINT_URL")
    region = environ.get("AWS_REGION") or environ.get("AWS_DEFAULT_REGION") or "us-east-1"
    return WebSocketSettings(entry.name, options, path=path, ttl_seconds=ttl, endpoint_url=endpoint, region=region)


def websocket_from_environ(environ: Mapping[str, str]) -> WebSocketSettings:
    entry = parse_store_name(environ.get("WS_BACKEND", ""), name="WS_BACKEND")
    options = {}
    for option in entry.options:
        if option.variable is None:
            continue
        value = environ.get(option.variable, "").strip() or option.default
        if value is None:
            if option.required:
                raise ConfigError(f"WS_BACKEND={entry.name} needs {option.variable}: {option.meaning}.")
            continue
        options[option.keyword] = parse_store_option(entry, option.keyword, value, name=option.variable)
    return websocket_settings(entry, options, environ)


def websocket_from_ws_config(ws_config: Mapping[str, Any], environ: Mapping[str, str]) -> WebSocketSettings:
    """Mangum's `{"backend": NAME, "params": {...}}`, with Mangum's parameter names."""
    if not isinstance(ws_config, Mapping) or set(ws_config) - {"backend", "params"} or "backend" not in ws_config:
        raise ConfigError(f"ws_config={ws_config!r}: expected {{'backend': NAME, 'params': {{...}}}}.")
    entry = parse_store_name(ws_config["backend"], name="ws_config['backend']")
    params = dict(ws_config.get("params") or {})
    where = f"ws_config params for {entry.name}"
    accepted = [*(key for option in entry.options for key in option.params), *entry.parts, *COMMON_PARAMS]
    for key in params:
        if key not in accepted:
            raise ConfigError(f"{where}: unknown key {key!r}; accepted: {', '.join(accepted)}.")
    options = {}
    for option in entry.options:
        given = next((key for key in option.params if params.get(key) is not None), None)
        if given is not None:
            options[option.keyword] = parse_store_option(entry, option.keyword, params[given], name=f"ws_config['params'][{given!r}]")
        elif option.keyword == entry.dsn_whole and entry.from_parts is not None:
            built = entry.from_parts(params)
            if built is None:
                raise ConfigError(
                    f"{where}: give {option.params[0]} or the parts ({', '.join(entry.parts)}); accepted: {', '.join(accepted)}."
                )
            options[option.keyword] = built
        elif option.required:
            raise ConfigError(f"{where}: {option.params[0]!r} is required; accepted: {', '.join(accepted)}.")
        elif option.default is not None:
            options[option.keyword] = option.default
    return websocket_settings(entry, options, environ, **common_options(params, name="ws_config['params']"))


def websocket_from_dsn(dsn: str, environ: Mapping[str, str]) -> WebSocketSettings:
    """One URI names the store: dynamodb://table?region=eu-west-1, s3://bucket/prefix/,
    postgresql://... (the client's own DSN), redis://..., sqlite://file, memory://."""
    from .stores import registry

    scheme, _, rest = str(dsn).partition("://")
    entry = next((entry for entry in registry.STORES if scheme.lower() in (entry.name, *entry.aliases, *entry.dsn_schemes)), None)
    if entry is None or not rest and (entry.dsn_whole or entry.dsn_location):
        raise ConfigError(
            f"dsn={dsn!r}: expected a URI such as dynamodb://table?region=eu-west-1, s3://bucket/prefix/, "
            "postgresql://user@host/db, redis://host:6379/0, sqlite://connections.db or memory://."
        )
    if entry.dsn_whole:
        # The DSN is the client's own: its query string means what asyncpg or redis-py say it does.
        return websocket_settings(entry, {entry.dsn_whole: dsn}, environ)
    from urllib.parse import parse_qsl  # only for this spelling: the import costs a cold start 2 ms

    location, _, query_string = rest.partition("?")
    options = {option.keyword: option.default for option in entry.options if option.default is not None}
    if entry.dsn_location:
        values = location.split("/", len(entry.dsn_location) - 1) if len(entry.dsn_location) > 1 else [location]
        options.update({keyword: value for keyword, value in zip(entry.dsn_location, values, strict=False) if value})
    query = dict(parse_qsl(query_string))
    accepted = [option.keyword for option in entry.options if option.keyword not in entry.dsn_location] + list(COMMON_PARAMS)
    for key in query:
        if key not in accepted:
            raise ConfigError(f"dsn for {entry.name}: unknown query parameter {key!r}; accepted: {', '.join(accepted)}.")
    options.update(
        {key: parse_store_option(entry, key, value, name=f"dsn {key}") for key, value in query.items() if key not in COMMON_PARAMS}
    )
    missing = [option.keyword for option in entry.options if option.required and not options.get(option.keyword)]
    if missing:
        raise ConfigError(f"dsn={dsn!r}: names no {missing[0]}; expected {entry.name}://{'/'.join(entry.dsn_location).upper()}.")
    return websocket_settings(entry, options, environ, **common_options(query, name="dsn"))


def common_options(params: Mapping[str, Any], *, name: str) -> dict[str, Any]:
    chosen: dict[str, Any] = {}
    if params.get("ttl_seconds") is not None:
        chosen["ttl_seconds"] = parse_ttl_seconds(params["ttl_seconds"], name=f"{name}['ttl_seconds']")
    if params.get("management_endpoint_url") is not None:
        chosen["endpoint_url"] = parse_endpoint_url(params["management_endpoint_url"], name=f"{name}['management_endpoint_url']")
    return chosen


# --- unknown variables --------------------------------------------------------------------------


def all_variables() -> dict[str, str]:
    """VARIABLES and every store's own."""
    from .stores import registry

    variables = dict(VARIABLES)
    variables["WS_BACKEND"] += ": " + registry.names()
    for entry in registry.STORES:
        for option in entry.options:
            if option.variable:
                variables[option.variable] = option.meaning + (
                    f" (default {option.default})" if option.default else f" (required with {entry.name})"
                )
    return variables


def warn_unknown(name: str, known: Mapping[str, str]) -> None:
    import difflib  # only when there is something to warn about

    close = difflib.get_close_matches(name, known, n=1)
    hint = f"did you mean {close[0]}?" if close else f"known: {', '.join(known)}."
    logger.warning("%s is not a variable asgi_lambda reads; ignored (%s)", name, hint)
