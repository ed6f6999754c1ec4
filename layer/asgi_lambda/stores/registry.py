"""Every WebSocket connection store, as data: the one list the rest of the project reads.

The settings take names, aliases and options from here (`WS_BACKEND` and its variables,
`ws_config`, `dsn`); `build_layer.sh --with` takes the packages each store ships; pyproject's
extras and README's tables are tested against it. A store's module is imported only when that
store is chosen (`load`), so its library (boto3, asyncpg, redis) is never imported otherwise.

Adding a store: its module under `stores/`, one `StoreEntry` below.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, NamedTuple

from ..docs import fix

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping

    from . import Store


class StoreOption(NamedTuple):
    """One keyword argument of a store's class, and each way a user sets it."""

    keyword: str
    meaning: str
    variable: str | None = None  # the WS_* variable, None when only code sets it
    params: tuple[str, ...] = ()  # ws_config "params" keys (Mangum's first)
    default: str | None = None
    required: bool = False
    schemes: tuple[str, ...] = ()  # a URL option's accepted schemes
    doc: str = ""  # README's line for its variable


class StoreEntry(NamedTuple):
    name: str
    target: str  # "module:Class" under asgi_lambda.stores
    summary: str
    options: tuple[StoreOption, ...] = ()
    aliases: tuple[str, ...] = ()  # other names WS_BACKEND, ws_config and dsn schemes accept
    library: str | None = None  # the import name of the package it needs
    extra: str | None = None  # pip install 'asgi-lambda[extra]' installs it
    requirement: str | None = None  # that extra's requirement
    layer_packages: tuple[str, ...] = ()  # what `build_layer.sh --with NAME` ships (boto3: never, the runtime has it)
    dsn_schemes: tuple[str, ...] = ()  # more URI schemes naming it in `dsn` (besides its names)
    dsn_location: tuple[str, ...] = ()  # options a dsn's "scheme://a/b" names, in order; the rest come from its query
    dsn_whole: str | None = None  # the option a dsn is, whole (a client's own URL)
    parts: tuple[str, ...] = ()  # ws_config params that build `dsn_whole` (Mangum's)
    from_parts: Callable[[Mapping[str, object]], str | None] | None = None


def postgresql_from_parts(params: Mapping[str, object]) -> str | None:
    from urllib.parse import quote  # only for this spelling: the import costs a cold start 2 ms

    if not params.get("database"):
        return None
    user = quote(str(params.get("user") or "postgres"), safe="")
    password = params.get("password")
    secret = f":{quote(str(password), safe='')}" if password else ""
    host = params.get("host") or "localhost"
    return f"postgresql://{user}{secret}@{host}:{params.get('port') or 5432}/{quote(str(params['database']), safe='')}"


def redis_from_parts(params: Mapping[str, object]) -> str | None:
    from urllib.parse import quote

    password = params.get("password")
    secret = f":{quote(str(password), safe='')}@" if password else ""
    return f"redis://{secret}{params.get('host') or 'localhost'}:{params.get('port') or 6379}/0"


# The sqlite store's default file: `{uid}` is the user's id, so the directory is the user's own (sqlite.py).
SQLITE_DEFAULT_PATH = "/tmp/asgi-lambda-{uid}/connections.sqlite3"

REGION = StoreOption("region", "the AWS region (default: the function's)", params=("region_name",))
ENDPOINT_URL = StoreOption("endpoint_url", "another endpoint for the AWS service (tests, LocalStack)", params=("endpoint_url",))

STORES: tuple[StoreEntry, ...] = (
    StoreEntry(
        "dynamodb",
        "dynamodb:DynamoDBStore",
        "One item per connection; TTL on expires_at removes the expired ones.",
        options=(
            StoreOption(
                "table",
                "the dynamodb store's table",
                "WS_DYNAMODB_TABLE",
                ("table_name",),
                required=True,
                doc="The table: partition key `connection_id` (S), TTL on `expires_at`.",
            ),
            REGION,
            ENDPOINT_URL,
            # For a table keyed otherwise, such as connectionId as Mangum 0.9 made them (dynamodb.py).
            StoreOption(
                "key",
                "the dynamodb table's partition key (default: connection_id, or the table's)",
                "WS_DYNAMODB_KEY",
                ("key",),
                doc="The table's partition key attribute, for a table keyed otherwise (`connectionId`, as Mangum 0.9's were). "
                "Unset: `connection_id`, or, for a table that refuses it, its key, read once (`DescribeTable`).",
            ),
            StoreOption(
                "rooms_table",
                "the dynamodb store's table of room memberships",
                "WS_DYNAMODB_ROOMS_TABLE",
                ("rooms_table_name",),
                doc="The table of room memberships ([Rooms](#rooms)): partition key `room` (S), sort key `connection_id` (S), "
                "TTL on `expires_at`. Unset: `join` raises `ConfigError`.",
            ),
        ),
        library="boto3",
        extra="aws",
        requirement="boto3",
        dsn_location=("table",),
    ),
    StoreEntry(
        "s3",
        "s3:S3Store",
        "One object per connection under a prefix; a lifecycle rule removes the old ones.",
        options=(
            StoreOption("bucket", "the s3 store's bucket", "WS_S3_BUCKET", ("bucket",), required=True, doc="The `s3` store's bucket."),
            StoreOption(
                "prefix",
                "the s3 store's key prefix",
                "WS_S3_PREFIX",
                ("prefix",),
                default="asgi-lambda/connections/",
                doc="The `s3` store's key prefix.",
            ),
            StoreOption(
                "rooms_prefix",
                "the s3 store's key prefix of room memberships",
                "WS_S3_ROOMS_PREFIX",
                ("rooms_prefix",),
                doc="The `s3` store's key prefix of room memberships, apart from `WS_S3_PREFIX`. Unset: that prefix "
                "with `-rooms/` for its last `/` (`asgi-lambda/connections-rooms/`).",
            ),
            REGION,
            ENDPOINT_URL,
        ),
        library="boto3",
        extra="aws",
        requirement="boto3",
        dsn_location=("bucket", "prefix"),
    ),
    StoreEntry(
        "postgresql",
        "postgresql:PostgresStore",
        "One row per connection in a table made on first use.",
        options=(
            StoreOption(
                "dsn",
                "the postgresql store's DSN",
                "WS_POSTGRES_DSN",
                ("uri", "dsn"),
                required=True,
                schemes=("postgresql://", "postgres://"),
                doc="`postgresql://user:password@host:5432/db`.",
            ),
        ),
        aliases=("postgres",),
        library="asyncpg",
        extra="postgresql",
        requirement="asyncpg>=0.30",
        layer_packages=("asyncpg==0.32.0",),
        dsn_whole="dsn",
        parts=("database", "user", "password", "host", "port"),
        from_parts=postgresql_from_parts,
    ),
    StoreEntry(
        "redis",
        "redis_store:RedisStore",
        "One key per connection, expiring with it.",
        options=(
            StoreOption(
                "url",
                "the redis store's URL",
                "WS_REDIS_URL",
                ("url",),
                required=True,
                schemes=("redis://", "rediss://", "unix://"),
                doc="`redis://host:6379/0` or `rediss://...`.",
            ),
            StoreOption("prefix", "the redis store's key prefix", params=("prefix",)),
        ),
        dsn_schemes=("rediss",),
        library="redis",
        extra="redis",
        requirement="redis>=5",
        layer_packages=("redis==8.1.0",),
        dsn_whole="url",
        parts=("host", "port", "password"),
        from_parts=redis_from_parts,
    ),
    StoreEntry(
        "sqlite",
        "sqlite:SqliteStore",
        "A file: local development.",
        options=(
            StoreOption(
                "path",
                "the sqlite store's file",
                "WS_SQLITE_PATH",
                ("file_path",),
                default=SQLITE_DEFAULT_PATH,
                doc="The `sqlite` store's file, private to the user (`{uid}` is the user's id: the directory is made 0700, the file "
                "0600; one another user owns, or group or others may write, is refused); on Lambda it must be outside `/tmp`, "
                "on an EFS mount.",
            ),
        ),
        aliases=("sqlite3",),
        dsn_location=("path",),
    ),
    StoreEntry("memory", "memory:MemoryStore", "This process only: tests."),
)

BY_NAME: dict[str, StoreEntry] = {name: entry for entry in STORES for name in (entry.name, *entry.aliases)}


class MissingPackage(ImportError):
    """The chosen store needs a package that is not installed."""


def entry_for(name: str) -> StoreEntry | None:
    """The store a name or alias means (any case), None for a name no store has."""
    return BY_NAME.get(name.strip().lower())


def names() -> str:
    """The names users may give, for messages: 'dynamodb, s3, ... (or postgres, ...)'."""
    aliases = [alias for entry in STORES for alias in entry.aliases]
    return ", ".join(entry.name for entry in STORES) + (f" (or {', '.join(aliases)})" if aliases else "")


def load(entry: StoreEntry) -> type[Store]:
    """The store's class, importing its module (and so its library) now."""
    module_name, _, class_name = entry.target.partition(":")
    try:
        module = importlib.import_module(f"{__package__}.{module_name}")
    except ModuleNotFoundError as exc:
        if entry.library and exc.name and exc.name.split(".")[0] == entry.library:
            raise MissingPackage(
                f"WS_BACKEND={entry.name} needs the {entry.library!r} package: pip install {entry.library}, "
                f"or build the layer with ./build_layer.sh --with {entry.name}.{fix('missing-package')}"
            ) from exc
        raise
    store_class: type[Store] = getattr(module, class_name)
    return store_class
