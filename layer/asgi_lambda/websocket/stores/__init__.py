"""Where WebSocket connections live between invocations: one record per connection.

`WS_BACKEND` picks a store by name. Each name maps to an import string, so a store's module,
and the library it needs (boto3, asyncpg, redis), is imported only when chosen.

Every store keeps the same record and honours its expiry (`expires_at`): a record past it
is never returned, whether or not the backend has removed it yet. Per event: `save` on
$connect, `load` per message, `pop` (delete and return, in one operation where the backend
allows) on $disconnect, `scan` for broadcasts.
"""

from __future__ import annotations

import errno
import importlib
import json
import re
import time
from typing import Any, Protocol
from urllib.parse import unquote, urlsplit, urlunsplit

# WS_BACKEND name -> "module:Class" under asgi_lambda.websocket.stores.
STORES = {
    "memory": "memory:MemoryStore",
    "sqlite": "sqlite:SqliteStore",
    "dynamodb": "dynamodb:DynamoDBStore",
    "s3": "s3:S3Store",
    "postgresql": "postgresql:PostgresStore",
    "redis": "redis:RedisStore",
}

# The package each store needs, and where it comes from.
PACKAGES = {"dynamodb": "boto3", "s3": "boto3", "postgresql": "asyncpg", "redis": "redis"}


class StoreUnavailable(RuntimeError):
    """The store could not be reached or answered with an error; the message names both."""


class MissingPackage(ImportError):
    """The chosen store needs a package that is not installed."""


class Connection:
    """One WebSocket connection as stored: what later invocations need to serve it.

    `scope` holds the JSON-safe parts of the $connect scope (path, query_string and headers as
    text, subprotocol, client), `endpoint` the Management API URL replies go to, `pending` what
    the app sent during $connect, to deliver once the connection is open.
    """

    __slots__ = ("connection_id", "endpoint", "scope", "expires_at", "pending")

    def __init__(
        self,
        connection_id: str,
        *,
        endpoint: str,
        scope: dict[str, Any],
        expires_at: int,
        pending: list[dict[str, str]] | None = None,
    ) -> None:
        self.connection_id = connection_id
        self.endpoint = endpoint
        self.scope = scope
        self.expires_at = expires_at
        self.pending = pending or []

    def expired(self, now: float | None = None) -> bool:
        return self.expires_at <= (time.time() if now is None else now)

    def to_json(self) -> str:
        return json.dumps(
            {
                "connection_id": self.connection_id,
                "endpoint": self.endpoint,
                "scope": self.scope,
                "expires_at": self.expires_at,
                "pending": self.pending,
            },
            separators=(",", ":"),
        )

    @classmethod
    def from_json(cls, data: str | bytes) -> Connection:
        record = json.loads(data)
        return cls(
            record["connection_id"],
            endpoint=record["endpoint"],
            scope=record["scope"],
            expires_at=record["expires_at"],
            pending=record.get("pending"),
        )

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Connection) and self.to_json() == other.to_json()

    def __repr__(self) -> str:
        return f"Connection({self.connection_id!r}, expires_at={self.expires_at})"


class Store(Protocol):
    """A connection store. Made once per execution environment; its clients and pools are reused."""

    name: str

    async def save(self, connection: Connection) -> None:
        """Write the record (one write), replacing any with the same id."""

    async def load(self, connection_id: str) -> Connection | None:
        """The record, or None when there is none or it has expired (one read, no write)."""

    async def pop(self, connection_id: str) -> Connection | None:
        """Delete the record and return what it was, None when there was none or it had expired."""

    async def scan(self) -> list[Connection]:
        """Every record that has not expired, for broadcasts."""

    async def close(self) -> None:
        """Release clients and pools."""


def store_class(backend: str) -> type[Store]:
    """The class for a WS_BACKEND name, importing only its module."""
    module_name, _, class_name = STORES[backend].partition(":")
    try:
        module = importlib.import_module(f"{__name__}.{module_name}")
    except ModuleNotFoundError as exc:
        package = PACKAGES.get(backend)
        if package and exc.name and exc.name.split(".")[0] == package:
            extra = "aws" if package == "boto3" else backend
            raise MissingPackage(
                f"WS_BACKEND={backend} needs the {package!r} package: pip install 'asgi-lambda[{extra}]', "
                f"or build the layer with ./build_layer.sh --with {backend}."
            ) from exc
        raise
    cls: type[Store] = getattr(module, class_name)
    return cls


# --- for stores reached by URL: errors that say what failed, never with the password ---------


def mask_password(url: str) -> str:
    """The URL or DSN with any password replaced by ***, fit for error messages and logs."""
    try:
        parts = urlsplit(url)
    except ValueError:  # not parseable as a URL: mask anything between "user:" and "@"
        return re.sub(r"(?i)(password=)[^&\s]*", r"\1***", re.sub(r":[^:@/]*@", ":***@", url))
    userinfo, at, hosts = parts.netloc.rpartition("@")
    if at and ":" in userinfo:
        parts = parts._replace(netloc=f"{userinfo.partition(':')[0]}:***@{hosts}")
    # Query parameters (?password=...) and keyword DSNs (host=... password=...) alike.
    return re.sub(r"(?i)(password=)[^&\s]*", r"\1***", urlunsplit(parts))


def describe_failure(exc: BaseException, url: str, *, timeouts: tuple[type[BaseException], ...], connect_timeout: float) -> str:
    """The cause, in words, without the URL's password even if the error repeats it."""
    if refused(exc):
        text = f"connection refused ({exc})"
    elif isinstance(exc, timeouts):
        text = f"timed out ({str(exc) or f'no answer within {connect_timeout:g} s'})"
    else:
        text = f"{type(exc).__name__}: {exc}"
    try:
        password = urlsplit(url).password
    except ValueError:
        password = None
    for secret in {password, unquote(password)} - {""} if password else ():
        text = text.replace(secret, "***")
    return text


def refused(exc: BaseException | None) -> bool:
    """Whether the error, or one it was raised from, is a refused connection (client libraries wrap it)."""
    seen: set[int] = set()
    while exc is not None and id(exc) not in seen:
        if isinstance(exc, OSError) and exc.errno == errno.ECONNREFUSED:
            return True
        seen.add(id(exc))
        exc = exc.__cause__ or exc.__context__
    return False
