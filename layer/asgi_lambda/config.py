"""The zero-code layer's settings: every environment variable, read once and checked.

Each fault raises ConfigError naming the variable, the value seen and what would fix it, so
that the function fails its init with that message instead of starting with a default the
user did not choose.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from typing import TYPE_CHECKING

from .exceptions import ConfigError

if TYPE_CHECKING:
    from .types import LifespanMode

logger = logging.getLogger("asgi_lambda.config")

LIFESPAN_MODES: dict[str, LifespanMode] = {"auto": "auto", "on": "on", "off": "off"}

# Every variable the layer reads, with its meaning; README's table says the same.
VARIABLES = {
    "ASGI_APP": "the ASGI app as module:attribute (required)",
    "ASGI_LIFESPAN": "auto, on or off (default auto)",
    "ASGI_BASE_PATH": "a custom domain's base path mapping, such as /v1 (default none)",
    "ASGI_TEXT_MIME_TYPES": "comma-separated media types to send as text, besides the defaults",
    "ASGI_EXCLUDE_HEADERS": "comma-separated response headers to drop",
    "ASGI_ORIGINAL_HANDLER": "set by the exec wrapper: the function's own Handler setting",
    "WS_BACKEND": "the WebSocket connection store: " + ", ".join(("dynamodb", "s3", "postgresql", "redis", "sqlite", "memory")),
    "WS_PATH": "the path WebSocket connections get in their scope (default /)",
    "WS_TTL_SECONDS": "how long a connection record lives (default 7260: API Gateway's 2 hours, and a minute)",
    "WS_ENDPOINT_URL": "where replies go instead of https://{apiId}.execute-api.{region}.amazonaws.com/{stage}",
    "WS_SQLITE_PATH": "the sqlite store's file (default /tmp/asgi-lambda-connections.sqlite3)",
    "WS_DYNAMODB_TABLE": "the dynamodb store's table (required with it)",
    "WS_S3_BUCKET": "the s3 store's bucket (required with it)",
    "WS_S3_PREFIX": "the s3 store's key prefix (default asgi-lambda/connections/)",
    "WS_POSTGRES_DSN": "the postgresql store's DSN (required with it)",
    "WS_REDIS_URL": "the redis store's URL (required with it)",
}

# Each store's variables: (variable, keyword argument of the store, default or None if required).
STORE_VARIABLES: dict[str, tuple[tuple[str, str, str | None], ...]] = {
    "memory": (),
    "sqlite": (("WS_SQLITE_PATH", "path", "/tmp/asgi-lambda-connections.sqlite3"),),
    "dynamodb": (("WS_DYNAMODB_TABLE", "table", None),),
    "s3": (("WS_S3_BUCKET", "bucket", None), ("WS_S3_PREFIX", "prefix", "asgi-lambda/connections/")),
    "postgresql": (("WS_POSTGRES_DSN", "dsn", None),),
    "redis": (("WS_REDIS_URL", "url", None),),
}
URL_SCHEMES = {"WS_POSTGRES_DSN": ("postgresql://", "postgres://"), "WS_REDIS_URL": ("redis://", "rediss://", "unix://")}
DEFAULT_TTL_SECONDS = 2 * 60 * 60 + 60  # a little over API Gateway's 2-hour connection limit


class Config:
    """The settings of the zero-code layer."""

    __slots__ = ("app", "lifespan", "base_path", "text_mime_types", "exclude_headers", "websocket")

    def __init__(
        self,
        *,
        app: str,
        lifespan: LifespanMode = "auto",
        base_path: str = "/",
        text_mime_types: tuple[str, ...] = (),
        exclude_headers: tuple[str, ...] = (),
        websocket: WebSocketSettings | None = None,
    ) -> None:
        self.app = app
        self.lifespan = lifespan
        self.base_path = base_path
        self.text_mime_types = text_mime_types
        self.exclude_headers = exclude_headers
        self.websocket = websocket

    @classmethod
    def from_environ(cls, environ: Mapping[str, str]) -> Config:
        for name in sorted(environ):
            if name.startswith(("ASGI_", "WS_")) and name not in VARIABLES:
                warn_unknown(name)
        app = environ.get("ASGI_APP", "").strip()
        if not app:
            raise ConfigError("ASGI_APP is not set: set it to your ASGI app as module:attribute, for example main:app.")
        lifespan = LIFESPAN_MODES.get(environ.get("ASGI_LIFESPAN", "auto").strip().lower() or "auto")
        if lifespan is None:
            raise ConfigError(f"ASGI_LIFESPAN={environ['ASGI_LIFESPAN']!r}: expected one of auto, on, off.")
        return cls(
            app=app,
            lifespan=lifespan,
            base_path=base_path(environ.get("ASGI_BASE_PATH", "")),
            text_mime_types=media_types(environ.get("ASGI_TEXT_MIME_TYPES", "")),
            exclude_headers=header_names(environ.get("ASGI_EXCLUDE_HEADERS", "")),
            # Checked at init when a store is chosen, so a bad WS_* value fails the init.
            websocket=WebSocketSettings.from_environ(environ) if environ.get("WS_BACKEND", "").strip() else None,
        )


def warn_unknown(name: str) -> None:
    import difflib  # only when there is something to warn about

    close = difflib.get_close_matches(name, VARIABLES, n=1)
    hint = f"did you mean {close[0]}?" if close else f"known: {', '.join(VARIABLES)}."
    logger.warning("%s is not a variable asgi_lambda reads; ignored (%s)", name, hint)


def comma_list(value: str) -> tuple[str, ...]:
    return tuple(item.strip() for item in value.split(",") if item.strip())


def base_path(value: str) -> str:
    path = value.strip()
    if not path or path == "/":
        return "/"
    if any(char in path for char in "?#% ") or "//" in path.strip("/"):
        raise ConfigError(f"ASGI_BASE_PATH={value!r}: expected a path such as /v1 or /api/v2, without query, fragment or spaces.")
    return "/" + path.strip("/")


def media_types(value: str) -> tuple[str, ...]:
    types = comma_list(value)
    for entry in types:
        if "/" not in entry and not entry.startswith("+"):
            raise ConfigError(
                f"ASGI_TEXT_MIME_TYPES={value!r}: {entry!r} is not a media type; expected entries such as "
                "application/vnd.api+json, text/ or +yaml, separated by commas."
            )
    return types


def header_names(value: str) -> tuple[str, ...]:
    names = comma_list(value)
    for name in names:
        if not all(char.isalnum() or char in "!#$%&'*+-.^_`|~" for char in name):
            raise ConfigError(
                f"ASGI_EXCLUDE_HEADERS={value!r}: {name!r} is not a header name; expected names such as "
                "server,x-powered-by, separated by commas."
            )
    return names


class WebSocketSettings:
    """The WebSocket settings: the store and its options, the scope's path, the record's lifetime
    and where replies go."""

    __slots__ = ("backend", "store_options", "path", "ttl_seconds", "endpoint_url", "region")

    def __init__(
        self,
        *,
        backend: str,
        store_options: dict[str, str],
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

    @classmethod
    def from_environ(cls, environ: Mapping[str, str] | None = None) -> WebSocketSettings:
        environ = os.environ if environ is None else environ
        backend = environ.get("WS_BACKEND", "").strip().lower()
        if not backend:
            raise ConfigError(
                "A WebSocket event arrived but WS_BACKEND is not set: set it to one of "
                f"{', '.join(STORE_VARIABLES)} to keep connections between invocations."
            )
        if backend not in STORE_VARIABLES:
            raise ConfigError(f"WS_BACKEND={environ['WS_BACKEND']!r}: expected one of {', '.join(STORE_VARIABLES)}.")
        options = {}
        for variable, keyword, default in STORE_VARIABLES[backend]:
            value = environ.get(variable, "").strip() or default
            if value is None:
                raise ConfigError(f"WS_BACKEND={backend} needs {variable}: {VARIABLES[variable].split(' (')[0]}.")
            schemes = URL_SCHEMES.get(variable)
            if schemes and not value.startswith(schemes):
                from .websocket.stores import mask_password  # only on this error: it imports urllib.parse

                raise ConfigError(f"{variable}={mask_password(value)!r}: expected a URL starting with {' or '.join(schemes)}")
            options[keyword] = value
        return cls.with_store(backend, options, environ)

    @classmethod
    def with_store(cls, backend: str, store_options: dict[str, str], environ: Mapping[str, str] | None = None) -> WebSocketSettings:
        """Settings for a store chosen here (in code, or by WS_BACKEND), the rest from WS_* variables."""
        environ = os.environ if environ is None else environ
        path = environ.get("WS_PATH", "/").strip() or "/"
        if not path.startswith("/"):
            raise ConfigError(f"WS_PATH={path!r}: expected a path starting with /, such as /ws.")
        ttl = environ.get("WS_TTL_SECONDS", "").strip() or str(DEFAULT_TTL_SECONDS)
        if not ttl.isdigit() or int(ttl) == 0:
            raise ConfigError(f"WS_TTL_SECONDS={ttl!r}: expected a whole number of seconds above 0, such as {DEFAULT_TTL_SECONDS}.")
        endpoint_url = environ.get("WS_ENDPOINT_URL", "").strip() or None
        if endpoint_url and not endpoint_url.startswith(("http://", "https://")):
            raise ConfigError(f"WS_ENDPOINT_URL={endpoint_url!r}: expected an http(s) URL, such as http://127.0.0.1:8001/prod.")
        region = environ.get("AWS_REGION") or environ.get("AWS_DEFAULT_REGION") or "us-east-1"
        return cls(backend=backend, store_options=store_options, path=path, ttl_seconds=int(ttl), endpoint_url=endpoint_url, region=region)

