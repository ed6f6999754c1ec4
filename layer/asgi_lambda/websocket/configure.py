"""WebSocket stores configured in code, in the two forms Mangum's WebSocket-era releases took:

    Adapter(app, ws_config={"backend": "dynamodb", "params": {"table_name": "connections"}})
    Adapter(app, dsn="dynamodb://connections?region=eu-west-1")

Both give the same settings WS_BACKEND and its variables give; code wins over those variables.
WS_PATH, WS_TTL_SECONDS and WS_ENDPOINT_URL still apply unless the code sets `ttl_seconds` or
`management_endpoint_url`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import parse_qsl, quote, urlsplit

from ..config import WebSocketSettings
from ..exceptions import ConfigError
from .runtime import WebSocketRuntime, install

ALIASES = {"sqlite3": "sqlite", "postgres": "postgresql"}

# backend -> {params key: the store's keyword}. Mangum's keys first, then ours.
PARAMS: dict[str, dict[str, str]] = {
    "dynamodb": {"table_name": "table", "region_name": "region", "endpoint_url": "endpoint_url"},
    "s3": {"bucket": "bucket", "prefix": "prefix", "region_name": "region", "endpoint_url": "endpoint_url"},
    "postgresql": {"uri": "dsn", "dsn": "dsn"},
    "redis": {"url": "url", "prefix": "prefix"},
    "sqlite": {"file_path": "path"},
    "memory": {},
}
# Keys that build a DSN or URL from parts, as Mangum's postgresql and redis params did.
PARTS = {"postgresql": ("database", "user", "password", "host", "port"), "redis": ("host", "port", "password")}
REQUIRED = {"dynamodb": "table_name", "s3": "bucket"}
COMMON = ("ttl_seconds", "management_endpoint_url")
DEFAULT_SQLITE_PATH = "/tmp/asgi-lambda-connections.sqlite3"


def install_from_code(*, ws_config: Mapping[str, Any] | None, dsn: str | None) -> None:
    """Check the code's configuration and make it the environment's WebSocket runtime."""
    if ws_config is not None and dsn is not None:
        raise ConfigError("ws_config and dsn both configure the WebSocket store: give one of them.")
    settings = from_ws_config(ws_config) if ws_config is not None else from_dsn(dsn or "")
    install(WebSocketRuntime(settings))


def from_ws_config(ws_config: Mapping[str, Any]) -> WebSocketSettings:
    if not isinstance(ws_config, Mapping) or set(ws_config) - {"backend", "params"} or "backend" not in ws_config:
        raise ConfigError(f"ws_config={ws_config!r}: expected {{'backend': NAME, 'params': {{...}}}}.")
    name = str(ws_config["backend"])
    backend = ALIASES.get(name, name)
    if backend not in PARAMS:
        raise ConfigError(f"ws_config backend {name!r}: expected one of {', '.join(PARAMS)} (or sqlite3, postgres).")
    params = dict(ws_config.get("params") or {})
    accepted = [*PARAMS[backend], *PARTS.get(backend, ()), *COMMON]
    for key in params:
        if key not in accepted:
            raise ConfigError(f"ws_config params for {backend}: unknown key {key!r}; accepted: {', '.join(accepted)}.")
    required = REQUIRED.get(backend)
    if required and not params.get(required):
        raise ConfigError(f"ws_config params for {backend}: {required!r} is required; accepted: {', '.join(accepted)}.")
    options = {PARAMS[backend][key]: str(value) for key, value in params.items() if key in PARAMS[backend]}
    if backend in PARTS and "dsn" not in options and "url" not in options:
        built = from_parts(backend, params)
        if built is None:
            raise ConfigError(
                f"ws_config params for {backend}: give {'uri' if backend == 'postgresql' else 'url'} or the parts "
                f"({', '.join(PARTS[backend])}); accepted: {', '.join(accepted)}."
            )
        options["dsn" if backend == "postgresql" else "url"] = built
    if backend == "sqlite":
        options.setdefault("path", DEFAULT_SQLITE_PATH)
    return finish(WebSocketSettings.with_store(backend, options), params, where=f"ws_config params for {backend}")


def from_parts(backend: str, params: Mapping[str, Any]) -> str | None:
    host = params.get("host") or "localhost"
    password = params.get("password")
    if backend == "postgresql":
        if not params.get("database"):
            return None
        user = quote(str(params.get("user") or "postgres"), safe="")
        secret = f":{quote(str(password), safe='')}" if password else ""
        return f"postgresql://{user}{secret}@{host}:{params.get('port') or 5432}/{quote(str(params['database']), safe='')}"
    secret = f":{quote(str(password), safe='')}@" if password else ""
    return f"redis://{secret}{host}:{params.get('port') or 6379}/0"


def from_dsn(dsn: str) -> WebSocketSettings:
    """One URI names the store: sqlite://file, dynamodb://table, s3://bucket/prefix/,
    postgresql:// (postgres://), redis:// (rediss://), memory://."""
    scheme, _, rest = dsn.partition("://")
    backend = {"postgres": "postgresql", "rediss": "redis", "sqlite3": "sqlite"}.get(scheme, scheme)
    if not rest and backend != "memory" or backend not in PARAMS:
        raise ConfigError(
            f"dsn={dsn!r}: expected a URI such as dynamodb://table?region=eu-west-1, s3://bucket/prefix/, "
            "postgresql://user@host/db, redis://host:6379/0, sqlite://connections.db or memory://."
        )
    if backend in ("postgresql", "redis"):
        # The DSN is the client's own: its query string means what asyncpg or redis-py say it does.
        return WebSocketSettings.with_store(backend, {"dsn" if backend == "postgresql" else "url": dsn})
    if backend in ("sqlite", "memory"):
        return WebSocketSettings.with_store(backend, {"path": rest} if backend == "sqlite" else {})
    parts = urlsplit(dsn)
    query = dict(parse_qsl(parts.query))
    accepted = ["region", "endpoint_url", *COMMON]
    for key in query:
        if key not in accepted:
            raise ConfigError(f"dsn for {backend}: unknown query parameter {key!r}; accepted: {', '.join(accepted)}.")
    options = {"table" if backend == "dynamodb" else "bucket": parts.netloc}
    if backend == "s3" and parts.path.strip("/"):
        options["prefix"] = parts.path.lstrip("/")
    options.update({"region" if key == "region" else key: value for key, value in query.items() if key in ("region", "endpoint_url")})
    return finish(WebSocketSettings.with_store(backend, options), query, where=f"dsn for {backend}")


def finish(settings: WebSocketSettings, params: Mapping[str, Any], *, where: str) -> WebSocketSettings:
    """The common settings the code may set, over the WS_* variables."""
    if "ttl_seconds" in params:
        ttl = str(params["ttl_seconds"])
        if not ttl.isdigit() or int(ttl) == 0:
            raise ConfigError(f"{where}: ttl_seconds={params['ttl_seconds']!r}: expected a whole number of seconds above 0.")
        settings.ttl_seconds = int(ttl)
    endpoint = params.get("management_endpoint_url")
    if endpoint is not None:
        if not str(endpoint).startswith(("http://", "https://")):
            raise ConfigError(f"{where}: management_endpoint_url={endpoint!r}: expected an http(s) URL.")
        settings.endpoint_url = str(endpoint)
    return settings
