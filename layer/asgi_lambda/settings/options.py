"""Every option, declared once: its Settings field, its variable, its `Adapter` keyword, its default,
the one function that checks it, and its documentation. The environment reader and `Adapter`'s
keywords (settings/__init__.py), the WebSocket settings (websocket.py) and README's table of
variables (tools/variables_table.py, checked by a test) all come from `OPTIONS`.

A leaf of the settings: it imports nothing of the package but the exceptions, so that both the
settings and the WebSocket settings can build on it.

Each check takes the value and, as `name`, the variable or keyword it came in, for the message;
`text` says which: True for a variable's text (a switch is 1/true/yes/on, a list is comma-separated),
False for a value given in code (a switch is True or False, a list a list).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Iterable, Mapping
from typing import TYPE_CHECKING, Any, Literal

from ..exceptions import ConfigError

if TYPE_CHECKING:
    from ..types import LifespanMode

logger = logging.getLogger("asgi_lambda.settings")

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

# A connection's session (scope["aws.session"]) as saved, at most: 32 KB.
DEFAULT_SESSION_MAX_BYTES = 32 * 1024
MAX_SESSION_MAX_BYTES = 256 * 1024  # with the rest of the record, well within a DynamoDB item's 400 KB

# Fan-out: a broadcast to more connections than the threshold goes through the queue, in pages.
DEFAULT_FANOUT_THRESHOLD = 2000
DEFAULT_FANOUT_PAGE = 500
# SQS takes messages of 256 KiB. A page is the message (up to API Gateway's 128 KiB, as base64:
# 171 KiB), its endpoint and its connection ids, 19 bytes each in JSON for API Gateway's
# 16-character ids: 4,000 of them fit with room to spare.
MAX_FANOUT_PAGE = 4000

# The path WebSocket scopes get, on Lambda and in `asgi-lambda serve` alike. "/" as it has always
# been on Lambda (and in Mangum 0.9), so a deployed function keeps its routes.
DEFAULT_WS_PATH = "/"


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


# --- one check per option ---------------------------------------------------------------------


def parse_app(value: object, *, name: str, text: bool) -> str:
    app = str(value or "").strip()
    if not app:
        raise ConfigError(f"{name} is not set: set it to your ASGI app as module:attribute, for example main:app.", fix="asgi-app-not-set")
    return app


LIFESPAN_MODES: dict[str, LifespanMode] = {"auto": "auto", "on": "on", "off": "off"}


def parse_lifespan(value: object, *, name: str, text: bool) -> LifespanMode:
    mode = LIFESPAN_MODES.get(str(value).strip().lower() or "auto")
    if mode is None:
        raise ConfigError(f"{name}={value!r}: expected one of auto, on, off.")
    return mode


INTERFACES = ("auto", "asgi3", "asgi2", "wsgi")


def parse_interface(value: object, *, name: str, text: bool) -> str:
    """What the app is: "auto" (found from its shape, as uvicorn's --interface auto, WSGI added),
    or forced: "asgi3", "asgi2" or "wsgi"."""
    interface = str(value or "").strip().lower() or "auto"
    if interface not in INTERFACES:
        raise ConfigError(
            f"{name}={value!r}: expected one of auto, asgi3, asgi2, wsgi (auto finds it from the app: an async callable "
            "taking scope, receive and send is ASGI 3, a callable taking environ and start_response is WSGI)."
        )
    return interface


LOG_LEVELS = ("critical", "error", "warning", "info", "debug")


def parse_log_level(value: object, *, name: str, text: bool) -> str:
    level = str(value).strip().lower()
    if level not in LOG_LEVELS:
        raise ConfigError(f"{name}={value!r}: expected one of {', '.join(LOG_LEVELS)}.")
    return level.upper()


INVOKE_MODES = ("buffered", "response_stream")


def parse_invoke_mode(value: object, *, name: str, text: bool) -> str:
    """How responses go back: "buffered" (whole, as the managed runtime sends them) or
    "response_stream" (through the layer's own Runtime API client, as the app sends them)."""
    mode = str(value or "").strip().lower() or "buffered"
    if mode not in INVOKE_MODES:
        raise ConfigError(
            f"{name}={value!r}: expected buffered or response_stream (response_stream needs the Function URL's "
            "invoke mode RESPONSE_STREAM, or the REST method's responseTransferMode STREAM)."
        )
    return mode


RUNTIMES = ("layer", "managed")


def parse_runtime(value: object, *, name: str, text: bool) -> str:
    """Which Runtime API client the wrapper starts: "layer" (the layer's own, the default) or
    "managed" (the managed runtime's, awslambdaric). The wrapper reads the variable itself; this is
    the check, made by the layer's client (a bad value starts it) and by the settings."""
    runtime = str(value or "").strip().lower() or "layer"
    if runtime not in RUNTIMES:
        raise ConfigError(
            f"{name}={value!r}: expected layer (the layer's own Runtime API client, the default) or managed "
            "(the managed runtime's client, awslambdaric)."
        )
    return runtime


def parse_max_concurrency(value: object, *, name: str, text: bool) -> int:
    """How many invocations one execution environment takes at once: Lambda Managed Instances set
    AWS_LAMBDA_MAX_CONCURRENCY; unset, one."""
    digits = str(value or "").strip()
    if not digits:
        return 1
    if not (digits.isascii() and digits.isdigit()) or int(digits) == 0:
        raise ConfigError(f"{name}={value!r}: expected a whole number of invocations above 0, such as 16.")
    return int(digits)


def parse_base_path(value: object, *, name: str, text: bool) -> str:
    """ "", "/" and None mean none; "api/", "/api" and "/api/" all mean "/api"."""
    path = str(value or "").strip()
    if any(char in path for char in "?#% ") or "//" in path.strip("/"):
        raise ConfigError(f"{name}={value!r}: expected a path such as /v1 or /api/v2, without query, fragment or spaces.")
    stripped = path.strip("/")
    return f"/{stripped}" if stripped else ""


def parse_events_path(value: object, *, name: str, text: bool) -> str | None:
    """Where non-HTTP events go; None (unset) refuses them. "/" is a path like any other."""
    if value is None or not str(value).strip():
        return None
    return parse_base_path(value, name=name, text=text) or "/"


FLAG_WORDS = {"1": True, "true": True, "yes": True, "on": True, "0": False, "false": False, "no": False, "off": False, "": False}


def parse_flag(value: object, *, name: str, text: bool) -> bool:
    """A switch: in a variable 1/true/yes/on or 0/false/no/off, unset is off; in code, True or
    False only, so a string such as "false" is not taken for True."""
    if not text:
        if not isinstance(value, bool):
            raise ConfigError(f"{name}={value!r}: expected True or False.")
        return value
    flag = FLAG_WORDS.get(str(value).strip().lower())
    if flag is None:
        raise ConfigError(f"{name}={value!r}: expected 1 or 0 (or true/false, yes/no, on/off).")
    return flag


SNAPSTART_LIFESPAN: dict[str, SnapStartLifespan] = {"init": "init", "restore": "restore"}


def parse_snapstart_lifespan(value: object, *, name: str, text: bool) -> SnapStartLifespan:
    """Where lifespan startup runs under SnapStart; checked whether or not this init is a SnapStart one."""
    placement = SNAPSTART_LIFESPAN.get(str(value).strip().lower() or "init")
    if placement is None:
        raise ConfigError(
            f"{name}={value!r}: expected init (startup runs before the snapshot) or restore (after each restore, "
            "for apps whose startup opens connections)."
        )
    return placement


def entries(value: object, *, name: str, text: bool) -> list[str]:
    """A list option's entries: comma-separated in a variable, a list in code."""
    if text:
        return [item.strip() for item in str(value or "").split(",") if item.strip()]
    if isinstance(value, (str, bytes)):
        raise ConfigError(f"{name}={value!r}: expected a list of strings, such as [{value!r}].")
    return [str(entry).strip() for entry in value or ()]  # type: ignore[attr-defined]


def separated(text: bool) -> str:
    return ", separated by commas" if text else ""


def parse_text_mime_types(value: object, *, name: str, text: bool) -> TextTypes:
    extra = entries(value, name=name, text=text)
    for entry in extra:
        if "/" not in entry and not entry.startswith("+"):
            raise ConfigError(
                f"{name}={value!r}: {entry!r} is not a media type; expected entries such as "
                f"application/vnd.api+json, text/ or +yaml{separated(text)}."
            )
    return TextTypes(DEFAULT_TEXT_MIME_TYPES + tuple(entry.lower() for entry in extra)) if extra else DEFAULT_TEXT_TYPES


def parse_header_names(value: object, *, name: str, text: bool) -> frozenset[str]:
    names = entries(value, name=name, text=text)
    for header in names:
        if not header or not all(char.isalnum() or char in "!#$%&'*+-.^_`|~" for char in header):
            raise ConfigError(
                f"{name}={value!r}: {header!r} is not a header name; expected names such as server,x-powered-by{separated(text)}."
            )
    return frozenset(header.lower() for header in names)


def parse_ttl_seconds(value: object, *, name: str, text: bool) -> int:
    digits = str(value).strip()
    if text and not digits:
        return DEFAULT_TTL_SECONDS
    if not digits.isdigit() or int(digits) == 0:
        raise ConfigError(f"{name}={value!r}: expected a whole number of seconds above 0, such as {DEFAULT_TTL_SECONDS}.")
    return int(digits)


def parse_endpoint_url(value: object, *, name: str, text: bool) -> str | None:
    url = str(value or "").strip()
    if text and not url:
        return None  # unset: built from the event
    if not url.startswith(("http://", "https://")):
        raise ConfigError(f"{name}={value!r}: expected an http(s) URL, such as http://127.0.0.1:8001/prod.")
    return url


# What a WebSocket connection's stored $connect request never holds: header and query parameter
# names (any case) whose values are live credentials, replaced by REDACTED in the store.
DEFAULT_REDACT = "authorization,cookie,proxy-authorization,x-api-key,token,access_token,id_token"
DEFAULT_REDACTED_NAMES = frozenset(DEFAULT_REDACT.split(","))
REDACTED = "[redacted]"


def parse_redact(value: object, *, name: str, text: bool) -> frozenset[str]:
    """Header and query parameter names, lowercased; empty turns redaction off."""
    names = entries(value, name=name, text=text)
    for entry in names:
        if not all(char.isalnum() or char in "!#$%&'*+-.^_`|~" for char in entry):
            raise ConfigError(
                f"{name}={value!r}: {entry!r} is not a header or query parameter name; expected names such as "
                f"authorization,token{separated(text)} (empty: store every value)."
            )
    return frozenset(entry.lower() for entry in names)


def parse_ws_path(value: object, *, name: str, text: bool) -> str:
    """The path every WebSocket scope gets: WS_PATH, or `serve --ws-path`; empty means the default."""
    path = str(value or "").strip() or DEFAULT_WS_PATH
    if not path.startswith("/"):
        raise ConfigError(f"{name}={value!r}: expected a path starting with /, such as /ws.")
    fault = next((ws_path_fault(char) for char in path if ws_path_fault(char)), None)
    if fault is not None:
        raise ConfigError(f"{name}={value!r}: {fault}; expected a path such as /ws.")
    return path


def ws_path_fault(char: str) -> str | None:
    """Why `char` cannot be in a WebSocket path (clients connect to it as it is written), or None."""
    if char == "?":
        return "'?' starts a query string, which is not part of the path"
    if char == "#":
        return "'#' starts a fragment, which clients never send"
    if char == " ":
        return "a space is not allowed in a path"
    if char.isspace() or not char.isprintable():
        return f"{char!r} is not allowed in a path"
    return None


def whole_number(value: object, *, name: str, text: bool, default: int, low: int, high: int, unit: str) -> int:
    """A whole number from `low` to `high`; in a variable, empty means the default."""
    digits = str(value).strip().replace("_", "") if not isinstance(value, bool) else ""
    if text and not digits:
        return default
    if not digits.isdigit() or not low <= int(digits) <= high:
        raise ConfigError(f"{name}={value!r}: expected a whole number of {unit} from {low:,} to {high:,}, such as {default:,}.")
    return int(digits)


# Compression: bodies under this many bytes go out as they are (gzip would gain little, or lose).
DEFAULT_COMPRESSION_MIN_BYTES = 1024
MAX_COMPRESSION_MIN_BYTES = 6 * 1024 * 1024  # Lambda's buffered response limit: no larger body goes out buffered


def parse_compression_min_bytes(value: object, *, name: str, text: bool) -> int:
    return whole_number(
        value, name=name, text=text, default=DEFAULT_COMPRESSION_MIN_BYTES, low=0, high=MAX_COMPRESSION_MIN_BYTES, unit="bytes"
    )


def parse_session_max_bytes(value: object, *, name: str, text: bool) -> int:
    return whole_number(value, name=name, text=text, default=DEFAULT_SESSION_MAX_BYTES, low=2, high=MAX_SESSION_MAX_BYTES, unit="bytes")


def parse_fanout_threshold(value: object, *, name: str, text: bool) -> int:
    return whole_number(value, name=name, text=text, default=DEFAULT_FANOUT_THRESHOLD, low=1, high=10**9, unit="connections")


def parse_fanout_page(value: object, *, name: str, text: bool) -> int:
    return whole_number(value, name=name, text=text, default=DEFAULT_FANOUT_PAGE, low=1, high=MAX_FANOUT_PAGE, unit="connections")


# https://sqs.<region>.amazonaws.com/<account>/<name> (and .amazonaws.com.cn), or the legacy
# https://<region>.queue.amazonaws.com/<account>/<name>. A standard queue's name: 1 to 80 letters,
# digits, hyphens and underscores.
# (Patterns, not compiled at import: the cold start of a function without fan-out pays nothing.)
SQS_QUEUE_URL = (
    r"https://(?:sqs\.(?P<region>[a-z]{2}(?:-[a-z]+)+-\d)\.amazonaws\.com(?:\.cn)?"
    r"|(?P<legacy>[a-z]{2}(?:-[a-z]+)+-\d)\.queue\.amazonaws\.com)/\d{12}/[A-Za-z0-9_-]{1,80}"
)
QUEUE_PATH = r"/\d{12}/[A-Za-z0-9_-]{1,80}"


def parse_fanout_queue_url(value: object, *, name: str, text: bool, sqs_endpoint: str | None = None) -> str | None:
    """The fan-out queue's URL, as SQS gives it. With `sqs_endpoint` (AWS_ENDPOINT_URL_SQS: moto, a
    local SQS), any http(s) URL of that path shape: /<account>/<name>."""
    url = str(value or "").strip()
    if not url:
        if text or value is None:
            return None
        raise ConfigError(f"{name}={value!r}: expected an SQS queue URL, such as https://sqs.eu-west-1.amazonaws.com/123456789012/fanout.")
    if url.endswith(".fifo"):
        raise ConfigError(f"{name}={url!r}: a FIFO queue; fan-out needs a standard queue (its pages need no order).")
    if re.fullmatch(SQS_QUEUE_URL, url):
        return url
    if sqs_endpoint:
        from urllib.parse import urlsplit  # only for a queue elsewhere than AWS

        parts = urlsplit(url)
        if parts.scheme in ("http", "https") and parts.hostname and re.fullmatch(QUEUE_PATH, parts.path) and not parts.query:
            return url
    elsewhere = " (or, with AWS_ENDPOINT_URL_SQS set, an http(s) URL of that path: /<account>/<name>)"
    raise ConfigError(
        f"{name}={url!r}: expected an SQS queue URL, such as https://sqs.eu-west-1.amazonaws.com/123456789012/fanout"
        f"{elsewhere if not sqs_endpoint else ''}."
    )


def deprecated(name: str, instead: str, *, depth: int = 0) -> None:
    """Warn that a keyword of Mangum's WebSocket-era releases is taken, and what replaces it. The
    warning points at the user's `Adapter(...)` line (`depth`: calls between here and it, past 3)."""
    import warnings  # only when such a keyword is given

    message = f"{name} is Mangum 0.9's keyword, taken with its old meaning; use {instead} instead."
    warnings.warn(message, DeprecationWarning, stacklevel=4 + depth)


# --- the declaration ---------------------------------------------------------------------------

Parse = Callable[..., Any]


class Option:
    """One option. `field` is its Settings attribute (None: read elsewhere, such as the wrapper's
    variables or the WebSocket store's); `variable` and `keyword` its spellings (None where it has
    none); `default` the keyword's default, which is also what an unset variable means; `parse`
    the one check; `doc` and `shown` (the default as README shows it) its documentation."""

    __slots__ = ("field", "variable", "keyword", "default", "parse", "doc", "shown")

    def __init__(
        self,
        field: str | None,
        *,
        variable: str | None = None,
        keyword: str | None = None,
        default: Any = None,
        parse: Parse | None = None,
        doc: str,
        shown: str = "none",
    ) -> None:
        self.field = field
        self.variable = variable
        self.keyword = keyword
        self.default = default
        self.parse = parse
        self.doc = doc
        self.shown = shown

    def read(self, environ: Mapping[str, str]) -> Any:
        """The option from its variable: unset, the default; empty, what the check makes of "" (for
        most, the default too; for WS_REDACT, nothing redacted)."""
        assert self.variable is not None and self.parse is not None
        value = environ.get(self.variable)
        if value is None:
            value = "" if self.default is None else self.default
        return self.parse(value, name=self.variable, text=True)

    def take(self, value: Any) -> Any:
        """The option from its keyword's value."""
        assert self.keyword is not None and self.parse is not None
        return self.parse(value, name=self.keyword, text=False)


OPTIONS: tuple[Option, ...] = (
    Option(None, variable="AWS_LAMBDA_EXEC_WRAPPER", doc="`/opt/asgi-bootstrap`: Lambda runs the layer's wrapper first.", shown="–"),
    Option(
        "app",
        variable="ASGI_APP",
        parse=parse_app,
        doc="The app as `module:attribute`; the module may be dotted or a path (`src/api/main:app`), the attribute dotted (`main:api.app`).",
        shown="required",
    ),
    Option(
        "lifespan",
        variable="ASGI_LIFESPAN",
        keyword="lifespan",
        default="auto",
        parse=parse_lifespan,
        doc="`auto`, `on` or `off`, as the `lifespan` argument.",
        shown="`auto`",
    ),
    Option(
        "interface",
        variable="ASGI_INTERFACE",
        keyword="interface",
        default="auto",
        parse=parse_interface,
        doc="What the app is: `auto` (found from its shape, as uvicorn's `--interface auto`; a Flask, Django or Bottle "
        "app is WSGI), or `asgi3`, `asgi2` or `wsgi` to force it (see [WSGI apps](wsgi.md)).",
        shown="`auto`",
    ),
    Option(
        "snapstart",
        variable="ASGI_SNAPSTART_LIFESPAN",
        parse=parse_snapstart_lifespan,
        doc="With SnapStart, where lifespan startup runs: `init` (before the snapshot) or `restore` (after each restore); "
        "see [SnapStart](#snapstart).",
        shown="`init`",
    ),
    Option(
        "base_path",
        variable="ASGI_BASE_PATH",
        keyword="api_gateway_base_path",
        default="/",
        parse=parse_base_path,
        doc="A custom domain's base path mapping (`/v1`), as `api_gateway_base_path`.",
    ),
    Option(
        "strip_root_path",
        variable="ASGI_STRIP_ROOT_PATH",
        keyword="strip_root_path",
        default=False,
        parse=parse_flag,
        doc='`1` (or `true`, `yes`, `on`) gives the app `scope["path"]` and `raw_path` without the stage and base path, '
        "`root_path` still set, as `strip_root_path=True`: for Falcon and Sanic ([Frameworks](#frameworks)).",
        shown="`0`",
    ),
    Option(
        "text_mime_types",
        variable="ASGI_TEXT_MIME_TYPES",
        keyword="text_mime_types",
        parse=parse_text_mime_types,
        doc="Comma-separated media types to send as text, besides the defaults.",
    ),
    Option(
        "exclude_headers",
        variable="ASGI_EXCLUDE_HEADERS",
        keyword="exclude_headers",
        parse=parse_header_names,
        doc="Comma-separated response headers to drop.",
    ),
    Option(
        "events_path",
        variable="ASGI_EVENTS_PATH",
        keyword="events_path",
        parse=parse_events_path,
        doc="Where non-HTTP events are POSTed, such as `/events` ([Non-HTTP events](#non-http-events)).",
        shown="none: refused",
    ),
    Option(None, variable="ASGI_ORIGINAL_HANDLER", doc="The function's own Handler setting.", shown="set by the wrapper"),
    Option(
        "invoke_mode",
        variable="ASGI_INVOKE_MODE",
        parse=parse_invoke_mode,
        doc="`response_stream` streams Function URL and REST API responses through the layer's own Runtime API client "
        "([Response streaming](#response-streaming)).",
        shown="`buffered`",
    ),
    Option(
        "runtime",
        variable="ASGI_RUNTIME",
        parse=parse_runtime,
        doc="`managed` has the wrapper start the managed runtime's own client (awslambdaric) instead of the layer's, "
        "which answers before background work ends and serves concurrent invocations "
        "([The runtime client](#the-runtime-client)).",
        shown="`layer`",
    ),
    Option(
        None,
        variable="AWS_LAMBDA_MAX_CONCURRENCY",
        parse=parse_max_concurrency,
        doc="Set by Lambda Managed Instances: how many invocations the layer's client serves at once, on one event loop "
        "([Concurrent invocations](#concurrent-invocations)).",
        shown="1",
    ),
    Option(
        None,
        variable="ASGI_NEXT_WRAPPER",
        doc="Another layer's exec wrapper (`/opt/otel-instrument`), run by ours with the runtime's command "
        "([With OpenTelemetry, Datadog and Powertools](#with-opentelemetry-datadog-and-powertools)).",
    ),
    Option(
        "access_log",
        variable="ASGI_ACCESS_LOG",
        keyword="access_log",
        default=False,
        parse=parse_flag,
        doc="`1` (or `true`, `yes`, `on`) logs one line per request on the `asgi_lambda.access` logger, as `access_log=True` "
        "([Logs](#logs)). Off by default: API Gateway can log requests itself.",
        shown="`0`",
    ),
    Option(
        "compression",
        variable="ASGI_COMPRESSION",
        keyword="compression",
        default=False,
        parse=parse_flag,
        doc="`1` (or `true`, `yes`, `on`) compresses text, JSON, JavaScript, XML and SVG responses with gzip (brotli where "
        "the client prefers it and the `brotli` module is installed) when the request's `Accept-Encoding` allows, as "
        "`compression=True`, streamed ones chunk by chunk (docs/compression.md). Off by default: API Gateway REST "
        "and CloudFront can compress themselves.",
        shown="`0`",
    ),
    Option(
        "compression_min_bytes",
        variable="ASGI_COMPRESSION_MIN_BYTES",
        keyword="compression_min_bytes",
        default=DEFAULT_COMPRESSION_MIN_BYTES,
        parse=parse_compression_min_bytes,
        doc="With compression on, bodies smaller than this go out as they are, as `compression_min_bytes`; a streamed "
        "response is compressed unless its `Content-Length` says it is smaller.",
        shown=f"`{DEFAULT_COMPRESSION_MIN_BYTES}`",
    ),
    # The WebSocket store: WS_BACKEND and the store's own variables (stores/registry.py) are read by
    # websocket.py, as are these; in code the store comes as `ws_config` or `dsn`.
    Option(
        None,
        variable="WS_BACKEND",
        doc="The WebSocket connection store: {stores} ([WebSocket APIs](#websocket-apis)). Required once a WebSocket event "
        "arrives. On Lambda, `memory` and `sqlite` under `/tmp` are refused at init: each execution environment has its own. "
        "Not where `AWS_SAM_LOCAL=true` says the environment is a local one (`sam local`, `asgi-lambda serve --runtime`).",
    ),
    Option(
        None,
        variable="WS_PATH",
        parse=parse_ws_path,
        doc="The `path` WebSocket scopes get, on Lambda and under `asgi-lambda serve` (route your endpoint there, or set this "
        "to its route, such as `/ws`).",
        shown=f"`{DEFAULT_WS_PATH}`",
    ),
    Option(
        None,
        variable="WS_TTL_SECONDS",
        parse=parse_ttl_seconds,
        doc="How long a connection record lives: API Gateway's 2-hour limit and a minute.",
        shown=f"`{DEFAULT_TTL_SECONDS}`",
    ),
    Option(
        None,
        variable="WS_ENDPOINT_URL",
        parse=parse_endpoint_url,
        doc="Where replies go, instead of `https://{apiId}.execute-api.{region}.amazonaws.com/{stage}`.",
        shown="built",
    ),
    Option(
        None,
        variable="WS_REDACT",
        default=DEFAULT_REDACT,
        parse=parse_redact,
        doc="Comma-separated header and query parameter names (any case) whose values the stored `$connect` request keeps "
        f"as `{REDACTED}`: the app sees them at `$connect` only ([Security](#security)). Empty (`WS_REDACT=`) stores every value.",
        shown=f"`{DEFAULT_REDACT}`",
    ),
    Option(
        None,
        variable="WS_SESSION_MAX_BYTES",
        parse=parse_session_max_bytes,
        doc='The largest `scope["aws.session"]` saved, as JSON ([Sessions](#sessions)); a larger one is logged and not saved.',
        shown=f"`{DEFAULT_SESSION_MAX_BYTES}`",
    ),
    Option(
        None,
        variable="WS_FANOUT_QUEUE_URL",
        parse=parse_fanout_queue_url,
        doc="An SQS queue (`https://sqs.{region}.amazonaws.com/{account}/{name}`) through which broadcasts to more than "
        "`WS_FANOUT_THRESHOLD` connections go, in pages the same function posts ([Fan-out](#fan-out-over-sqs)).",
    ),
    Option(
        None,
        variable="WS_FANOUT_THRESHOLD",
        parse=parse_fanout_threshold,
        doc="A broadcast to more connections than this goes through `WS_FANOUT_QUEUE_URL`, when it is set.",
        shown=f"`{DEFAULT_FANOUT_THRESHOLD}`",
    ),
    Option(
        None,
        variable="WS_FANOUT_PAGE",
        parse=parse_fanout_page,
        doc=f"Connections per fan-out message, at most {MAX_FANOUT_PAGE:,} (what an SQS message holds with a 128 KB message).",
        shown=f"`{DEFAULT_FANOUT_PAGE}`",
    ),
    Option(None, keyword="ws_config", doc="The WebSocket store, as Mangum 0.9's `{'backend': NAME, 'params': {...}}`."),
    Option(None, keyword="dsn", doc="The WebSocket store as one URI: `dynamodb://table`, `redis://host:6379/0`, ..."),
    # Mangum 0.9's keywords, taken with their old meaning and a DeprecationWarning.
    Option(None, keyword="enable_lifespan", doc="Mangum 0.9's switch: True is `lifespan='auto'`, False `lifespan='off'`."),
    Option("log_level", keyword="log_level", parse=parse_log_level, doc="Mangum 0.9's: the `asgi_lambda` logger's level."),
    Option(None, keyword="api_gateway_endpoint_url", doc="Mangum 0.9's: where WebSocket replies go (`WS_ENDPOINT_URL`)."),
    Option(None, keyword="api_gateway_region_name", doc="Mangum 0.9's: the region of WebSocket replies (`AWS_REGION`)."),
)

BY_VARIABLE: dict[str, Option] = {option.variable: option for option in OPTIONS if option.variable}
BY_KEYWORD: dict[str, Option] = {option.keyword: option for option in OPTIONS if option.keyword}
KEYWORD_DEFAULTS: dict[str, Any] = {keyword: option.default for keyword, option in BY_KEYWORD.items()}


def read(variable: str, environ: Mapping[str, str]) -> Any:
    """One variable, checked as its option says: `read("ASGI_INVOKE_MODE", os.environ)`."""
    return BY_VARIABLE[variable].read(environ)


def warn_unknown(name: str, known: Iterable[str]) -> None:
    import difflib  # only when there is something to warn about

    known = list(known)
    close = difflib.get_close_matches(name, known, n=1)
    hint = f"did you mean {close[0]}?" if close else f"known: {', '.join(known)}."
    logger.warning("%s is not a variable asgi_lambda reads; ignored (%s)", name, hint)
