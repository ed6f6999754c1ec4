"""The WebSocket settings: the store and its options, from WS_* variables, Mangum's `ws_config` or
a `dsn`, checked by the same functions whatever the spelling (options.py); the scope's path, the
record's lifetime and where replies go. Imported only when a store is configured, so that an HTTP
function's cold start never pays for it.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from ..exceptions import ConfigError
from .options import (
    BY_VARIABLE,
    DEFAULT_FANOUT_PAGE,
    DEFAULT_FANOUT_THRESHOLD,
    DEFAULT_REDACTED_NAMES,
    DEFAULT_SESSION_MAX_BYTES,
    DEFAULT_TTL_SECONDS,
    DEFAULT_WS_PATH,
    Frozen,
    deprecated,
    parse_endpoint_url,
    parse_fanout_page,
    parse_fanout_queue_url,
    parse_fanout_threshold,
    parse_redact,
    parse_session_max_bytes,
    parse_ttl_seconds,
    read,
)

if TYPE_CHECKING:
    from ..stores.registry import StoreEntry

# Options every store takes in code, beside its own (WS_TTL_SECONDS, WS_ENDPOINT_URL, WS_REDACT,
# WS_SESSION_MAX_BYTES and the WS_FANOUT_* variables in the environment).
COMMON_PARAMS = (
    "ttl_seconds",
    "management_endpoint_url",
    "redact",
    "session_max_bytes",
    "fanout_queue_url",
    "fanout_threshold",
    "fanout_page",
)

# What a store must be on Lambda, where events of one connection reach many execution environments.
SHARED_STORES = "use dynamodb, redis, postgresql or s3, or sqlite with its file on an EFS mount (such as /mnt/efs/connections.sqlite3)"


class WebSocketSettings(Frozen):
    """The store and its options, the scope's path, the record's lifetime, where replies go, the
    header and query parameter names whose values the stored request never holds (`redact`), how
    large a session may be, and the fan-out of broadcasts (the queue, None for none; from how many
    connections; how many to a page)."""

    __slots__ = (
        "backend",
        "store_options",
        "path",
        "ttl_seconds",
        "endpoint_url",
        "region",
        "redact",
        "session_max_bytes",
        "fanout_queue_url",
        "fanout_threshold",
        "fanout_page",
    )

    def __init__(
        self,
        backend: str,
        store_options: Mapping[str, str],
        *,
        path: str = DEFAULT_WS_PATH,
        ttl_seconds: int = DEFAULT_TTL_SECONDS,
        endpoint_url: str | None = None,
        region: str = "us-east-1",
        redact: frozenset[str] = DEFAULT_REDACTED_NAMES,
        session_max_bytes: int = DEFAULT_SESSION_MAX_BYTES,
        fanout_queue_url: str | None = None,
        fanout_threshold: int = DEFAULT_FANOUT_THRESHOLD,
        fanout_page: int = DEFAULT_FANOUT_PAGE,
    ) -> None:
        self.backend = backend
        self.store_options = store_options
        self.path = path
        self.ttl_seconds = ttl_seconds
        self.endpoint_url = endpoint_url
        self.region = region
        self.redact = redact
        self.session_max_bytes = session_max_bytes
        self.fanout_queue_url = fanout_queue_url
        self.fanout_threshold = fanout_threshold
        self.fanout_page = fanout_page


def parse_store_name(value: object, *, name: str) -> StoreEntry:
    from ..stores import registry

    entry = registry.entry_for(str(value))
    if entry is None:
        from ..stores.failures import mask_password  # a DSN given as the name by mistake is shown masked

        raise ConfigError(f"{name}={mask_password(str(value))!r}: expected one of {registry.names()}.")
    return entry


def masked(value: object) -> object:
    """`value` (ws_config, or a part of it) as messages show it: every string masked as a DSN is,
    and the value of a key that names a secret (password) replaced whole."""
    from ..stores.failures import SECRET_VALUE, mask_password

    if isinstance(value, Mapping):
        return {key: "***" if SECRET_VALUE.match(f"{key}=") else masked(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [masked(item) for item in value]
    return mask_password(value) if isinstance(value, str) else value


def parse_store_option(entry: StoreEntry, keyword: str, value: object, *, name: str) -> str:
    text = str(value).strip()
    option = next(option for option in entry.options if option.keyword == keyword)
    if option.schemes and not text.startswith(option.schemes):
        from ..stores.failures import mask_password  # only on this error: it imports urllib.parse

        raise ConfigError(f"{name}={mask_password(text)!r}: expected a URL starting with {' or '.join(option.schemes)}.")
    return text


def on_lambda(environ: Mapping[str, str]) -> bool:
    """Lambda (or an emulator of it: the project's runtime tests) sets both; the local gateway neither.
    A local emulation that says so (AWS_SAM_LOCAL=true: `sam local`, and `asgi-lambda serve
    --runtime`) runs one execution environment, where connections in memory or /tmp are found."""
    if environ.get("AWS_SAM_LOCAL") == "true":
        return False
    return bool(environ.get("AWS_LAMBDA_FUNCTION_NAME")) or environ.get("AWS_EXECUTION_ENV", "").startswith("AWS_Lambda_")


def check_shared_store(entry: StoreEntry, options: Mapping[str, str], environ: Mapping[str, str], *, backend: str, path: str) -> None:
    """On Lambda, refuse a store whose connections would stay in one execution environment: API
    Gateway sends a connection's events to whichever environment is free, and each has its own
    memory and its own /tmp, so the others would not find it. `backend` and `path` name the
    setting at fault in the user's spelling."""
    if not on_lambda(environ):
        return
    if entry.name == "memory":
        fault = f"{backend} keeps connections in this process's memory"
    elif entry.name == "sqlite" and in_one_environment(options["path"]):
        value = options["path"]
        default = " (the default)" if value == next(option.default for option in entry.options if option.keyword == "path") else ""
        fault = f"{path}={value!r}{default} is " + ("in this process's memory" if value == ":memory:" else "under /tmp")
    else:
        return
    raise ConfigError(
        f"{fault}, but on Lambda each execution environment has its own memory and /tmp: a connection would "
        f"live in one environment only, and the events other environments handle would not find it; {SHARED_STORES}.",
        fix="store-not-shared",
    )


def in_one_environment(sqlite_path: str) -> bool:
    """An SQLite file under /tmp (Lambda's per-environment storage), or in memory."""
    if sqlite_path == ":memory:":
        return True
    real = os.path.realpath(sqlite_path)
    return real == "/tmp" or real.startswith("/tmp/")


# --- the WebSocket store: WS_* variables, ws_config or dsn --------------------------------------


def websocket_settings(entry: StoreEntry, options: dict[str, str], environ: Mapping[str, str], **chosen: Any) -> WebSocketSettings:
    """The store chosen, the rest from WS_* variables unless the code chose them (`chosen`)."""
    path = read("WS_PATH", environ)
    ttl = chosen.get("ttl_seconds") or read("WS_TTL_SECONDS", environ)
    endpoint = chosen.get("endpoint_url") or read("WS_ENDPOINT_URL", environ)
    redact = chosen["redact"] if "redact" in chosen else read("WS_REDACT", environ)  # empty from code: off
    region = environ.get("AWS_REGION") or environ.get("AWS_DEFAULT_REGION") or "us-east-1"
    return WebSocketSettings(
        entry.name,
        options,
        path=path,
        ttl_seconds=ttl,
        endpoint_url=endpoint,
        region=region,
        redact=redact,
        **rooms_and_fanout(environ, chosen),
    )


def rooms_and_fanout(environ: Mapping[str, str], chosen: Mapping[str, Any]) -> dict[str, Any]:
    """The session's limit and the fan-out's options: the code's choice, else WS_* variables."""
    if chosen.get("fanout_queue_url") is not None:
        queue = chosen["fanout_queue_url"]
    else:
        queue = parse_fanout_queue_url(
            environ.get("WS_FANOUT_QUEUE_URL", ""), name="WS_FANOUT_QUEUE_URL", text=True, sqs_endpoint=sqs_endpoint(environ)
        )
    return {
        "session_max_bytes": chosen.get("session_max_bytes") or read("WS_SESSION_MAX_BYTES", environ),
        "fanout_queue_url": queue,
        "fanout_threshold": chosen.get("fanout_threshold") or read("WS_FANOUT_THRESHOLD", environ),
        "fanout_page": chosen.get("fanout_page") or read("WS_FANOUT_PAGE", environ),
    }


def sqs_endpoint(environ: Mapping[str, str]) -> str | None:
    """Where boto3 sends SQS requests instead of AWS, if anywhere (moto, a local SQS)."""
    return environ.get("AWS_ENDPOINT_URL_SQS") or environ.get("AWS_ENDPOINT_URL") or None


def websocket_from_environ(environ: Mapping[str, str]) -> WebSocketSettings:
    entry = parse_store_name(environ.get("WS_BACKEND", ""), name="WS_BACKEND")
    options = {}
    for option in entry.options:
        if option.variable is None:
            continue
        value = environ.get(option.variable, "").strip() or option.default
        if value is None:
            if option.required:
                raise ConfigError(f"WS_BACKEND={entry.name} needs {option.variable}: {option.meaning}.", fix="store-variable-missing")
            continue
        options[option.keyword] = parse_store_option(entry, option.keyword, value, name=option.variable)
    check_shared_store(entry, options, environ, backend=f"WS_BACKEND={entry.name}", path="WS_SQLITE_PATH")
    return websocket_settings(entry, options, environ)


def websocket_from_ws_config(ws_config: Mapping[str, Any], environ: Mapping[str, str]) -> WebSocketSettings:
    """Mangum's `{"backend": NAME, "params": {...}}`, with Mangum's parameter names."""
    if not isinstance(ws_config, Mapping) or set(ws_config) - {"backend", "params"} or "backend" not in ws_config:
        raise ConfigError(f"ws_config={masked(ws_config)!r}: expected {{'backend': NAME, 'params': {{...}}}}.", fix="ws-config")
    entry = parse_store_name(ws_config["backend"], name="ws_config['backend']")
    params = dict(ws_config.get("params") or {})
    where = f"ws_config params for {entry.name}"
    accepted = [*(key for option in entry.options for key in option.params), *entry.parts, *COMMON_PARAMS]
    for key in params:
        if key not in accepted:
            raise ConfigError(f"{where}: unknown key {key!r}; accepted: {', '.join(accepted)}.", fix="ws-config")
    options = {}
    for option in entry.options:
        given = next((key for key in option.params if params.get(key) is not None), None)
        if given is not None:
            options[option.keyword] = parse_store_option(entry, option.keyword, params[given], name=f"ws_config['params'][{given!r}]")
        elif option.keyword == entry.dsn_whole and entry.from_parts is not None:
            built = entry.from_parts(params)
            if built is None:
                raise ConfigError(
                    f"{where}: give {option.params[0]} or the parts ({', '.join(entry.parts)}); accepted: {', '.join(accepted)}.",
                    fix="ws-config",
                )
            options[option.keyword] = built
        elif option.required:
            raise ConfigError(f"{where}: {option.params[0]!r} is required; accepted: {', '.join(accepted)}.", fix="ws-config")
        elif option.default is not None:
            options[option.keyword] = option.default
    check_shared_store(
        entry, options, environ, backend=f"ws_config['backend']={ws_config['backend']!r}", path="ws_config['params']['file_path']"
    )
    return websocket_settings(entry, options, environ, **common_options(params, name="ws_config['params']", environ=environ))


def websocket_from_dsn(dsn: str, environ: Mapping[str, str]) -> WebSocketSettings:
    """One URI names the store: dynamodb://table?region=eu-west-1, s3://bucket/prefix/,
    postgresql://... (the client's own DSN), redis://..., sqlite://file, memory://."""
    from ..stores import registry
    from ..stores.failures import mask_password  # its urllib import is paid for here anyway (parse_qsl)

    scheme, _, rest = str(dsn).partition("://")
    entry = next((entry for entry in registry.STORES if scheme.lower() in (entry.name, *entry.aliases, *entry.dsn_schemes)), None)
    if entry is None or not rest and (entry.dsn_whole or entry.dsn_location):
        raise ConfigError(
            f"dsn={mask_password(str(dsn))!r}: expected a URI such as dynamodb://table?region=eu-west-1, s3://bucket/prefix/, "
            "postgresql://user@host/db, redis://host:6379/0, sqlite://connections.db or memory://.",
            fix="ws-config",
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
    # Blank values are dropped, but for redact, where `redact=` means "redact nothing".
    query = {key: value for key, value in parse_qsl(query_string, keep_blank_values=True) if value or key == "redact"}
    accepted = [option.keyword for option in entry.options if option.keyword not in entry.dsn_location] + list(COMMON_PARAMS)
    for key in query:
        if key not in accepted:
            raise ConfigError(f"dsn for {entry.name}: unknown query parameter {key!r}; accepted: {', '.join(accepted)}.", fix="ws-config")
    options.update(
        {key: parse_store_option(entry, key, value, name=f"dsn {key}") for key, value in query.items() if key not in COMMON_PARAMS}
    )
    missing = [option.keyword for option in entry.options if option.required and not options.get(option.keyword)]
    if missing:
        raise ConfigError(
            f"dsn={mask_password(dsn)!r}: names no {missing[0]}; expected {entry.name}://{'/'.join(entry.dsn_location).upper()}.",
            fix="ws-config",
        )
    check_shared_store(entry, options, environ, backend=f"dsn={mask_password(dsn)!r}", path="dsn file")
    return websocket_settings(entry, options, environ, **common_options(query, name="dsn", environ=environ))


def common_options(params: Mapping[str, Any], *, name: str, environ: Mapping[str, str] | None = None) -> dict[str, Any]:
    chosen: dict[str, Any] = {}
    text = name == "dsn"  # a dsn's query is text, as a variable's; ws_config's params are values
    for key, parse in (
        ("session_max_bytes", parse_session_max_bytes),
        ("fanout_threshold", parse_fanout_threshold),
        ("fanout_page", parse_fanout_page),
    ):
        if params.get(key) is not None:
            chosen[key] = parse(params[key], name=f"{name}[{key!r}]", text=text)
    if params.get("fanout_queue_url") is not None:
        endpoint = sqs_endpoint(environ or {})
        chosen["fanout_queue_url"] = parse_fanout_queue_url(
            params["fanout_queue_url"], name=f"{name}['fanout_queue_url']", text=False, sqs_endpoint=endpoint
        )
    if params.get("ttl_seconds") is not None:
        chosen["ttl_seconds"] = parse_ttl_seconds(params["ttl_seconds"], name=f"{name}['ttl_seconds']", text=False)
    if params.get("management_endpoint_url") is not None:
        chosen["endpoint_url"] = parse_endpoint_url(
            params["management_endpoint_url"], name=f"{name}['management_endpoint_url']", text=False
        )
    if params.get("redact") is not None:
        # A list in ws_config; in a dsn's query string, comma-separated text (redact=authorization,token).
        chosen["redact"] = parse_redact(params["redact"], name=f"{name}['redact']", text=name == "dsn")
    return chosen


# --- unknown variables --------------------------------------------------------------------------


def all_variables() -> dict[str, str]:
    """Every variable the package reads, the stores' own included, with what it means."""
    from ..stores import registry

    variables = {name: option.doc for name, option in BY_VARIABLE.items()}
    for entry in registry.STORES:
        for option in entry.options:
            if option.variable:
                variables[option.variable] = option.meaning
    return variables


def management_api_overrides(
    websocket: WebSocketSettings | None, endpoint_url: str | None, region: str | None, environ: Mapping[str, str]
) -> WebSocketSettings:
    """Mangum 0.9's api_gateway_endpoint_url and api_gateway_region_name, over the store's settings."""
    if websocket is None:
        if not environ.get("WS_BACKEND", "").strip():
            raise ConfigError(
                "api_gateway_endpoint_url and api_gateway_region_name configure WebSocket replies, but no store is "
                "configured: give ws_config or dsn, or set WS_BACKEND.",
                fix="ws-backend-not-set",
            )
        websocket = websocket_from_environ(environ)
    changes: dict[str, Any] = {}
    if endpoint_url is not None:
        deprecated("api_gateway_endpoint_url", "ws_config params management_endpoint_url, or WS_ENDPOINT_URL", depth=1)
        changes["endpoint_url"] = parse_endpoint_url(endpoint_url, name="api_gateway_endpoint_url", text=False)
    if region is not None:
        deprecated("api_gateway_region_name", "AWS_REGION, which Lambda sets", depth=1)
        if not str(region).strip():
            raise ConfigError(f"api_gateway_region_name={region!r}: expected a region name, such as eu-west-1.")
        changes["region"] = str(region).strip()
    replaced: WebSocketSettings = websocket.replace(**changes)
    return replaced
