"""The zero-code layer's settings: every environment variable, read once and checked.

Each fault raises ConfigError naming the variable, the value seen and what would fix it, so
that the function fails its init with that message instead of starting with a default the
user did not choose.
"""

from __future__ import annotations

import logging
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
}


class Config:
    """The settings of the zero-code layer."""

    __slots__ = ("app", "lifespan", "base_path", "text_mime_types", "exclude_headers")

    def __init__(
        self,
        *,
        app: str,
        lifespan: LifespanMode = "auto",
        base_path: str = "/",
        text_mime_types: tuple[str, ...] = (),
        exclude_headers: tuple[str, ...] = (),
    ) -> None:
        self.app = app
        self.lifespan = lifespan
        self.base_path = base_path
        self.text_mime_types = text_mime_types
        self.exclude_headers = exclude_headers

    @classmethod
    def from_environ(cls, environ: Mapping[str, str]) -> Config:
        for name in sorted(environ):
            if name.startswith("ASGI_") and name not in VARIABLES:
                logger.warning("%s is not a variable asgi_lambda reads; ignored. Known: %s.", name, ", ".join(VARIABLES))
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
        )


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
