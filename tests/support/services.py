"""PostgreSQL and Redis stores against the servers on 127.0.0.1.

Each test gets its own table (PostgreSQL, database `test`) or key prefix (Redis), removed
afterwards, so tests do not see each other's records. A server that is not listening fails
the test when CI is set and skips it otherwise, saying how to start one.
"""

from __future__ import annotations

import importlib.util
import os
import re
import socket
import uuid
from collections.abc import Iterator
from typing import TYPE_CHECKING, NoReturn

import pytest

from asgi_lambda.protocols import loop

from .net import closed_port

if TYPE_CHECKING:  # imported in the fixtures, so a missing asyncpg or redis fails only their tests
    from asgi_lambda.stores.postgresql import PostgresStore
    from asgi_lambda.stores.redis_store import RedisStore

POSTGRES_PORT = 5432
POSTGRES_DSN = f"postgresql://postgres@127.0.0.1:{POSTGRES_PORT}/test"
POSTGRES_HINT = "start one with: docker run -d -p 5432:5432 -e POSTGRES_HOST_AUTH_METHOD=trust -e POSTGRES_DB=test postgres:16"
REDIS_PORT = 6379
REDIS_URL = f"redis://127.0.0.1:{REDIS_PORT}/0"
REDIS_HINT = "start one with: docker run -d -p 6379:6379 redis:7"


def unavailable(reason: str) -> NoReturn:
    """Fail under CI, where every backend must be tested; skip, saying why, elsewhere."""
    if os.environ.get("CI"):
        pytest.fail(reason)
    pytest.skip(reason)


def require_package(package: str, extra: str) -> None:
    if importlib.util.find_spec(package) is None:
        unavailable(f"the {package!r} package is not installed: pip install -e '.[{extra}]'")


def require_server(service: str, port: int, hint: str) -> None:
    """Fail (under CI) or skip unless something listens on 127.0.0.1:<port>."""
    try:
        socket.create_connection(("127.0.0.1", port), timeout=1).close()
    except OSError as exc:
        unavailable(f"{service} is not reachable at 127.0.0.1:{port} ({exc}); {hint}")


def unique_table() -> str:
    return f"asgi_lambda_test_{uuid.uuid4().hex[:8]}"


def unique_prefix() -> str:
    return f"asgi-lambda-test:{uuid.uuid4().hex[:8]}:"


def drop_table(table: str) -> None:
    import asyncpg  # type: ignore[import-untyped]

    async def drop() -> None:
        connection = await asyncpg.connect(POSTGRES_DSN, timeout=5)
        try:
            await connection.execute(f'DROP TABLE IF EXISTS "{table}_rooms", "{table}"')  # its rooms' table, made with it
        finally:
            await connection.close()

    loop.run(drop())


def delete_keys(prefix: str) -> None:
    """Delete every key under the prefix, taken literally even if it holds glob characters."""
    import redis.asyncio

    async def delete() -> None:
        client = redis.asyncio.Redis.from_url(REDIS_URL)
        try:
            keys = [key async for key in client.scan_iter(match=re.sub(r"([*?\[\]\\])", r"\\\1", prefix) + "*", count=1000)]
            if keys:
                await client.delete(*keys)
        finally:
            await client.aclose()

    loop.run(delete())


@pytest.fixture
def store_postgresql() -> Iterator[PostgresStore]:
    require_package("asyncpg", "postgresql")
    require_server("PostgreSQL", POSTGRES_PORT, POSTGRES_HINT)
    from asgi_lambda.stores.postgresql import PostgresStore

    table = unique_table()
    store = PostgresStore(POSTGRES_DSN, table=table)
    try:
        yield store
    finally:
        loop.run(store.close())
        drop_table(table)


@pytest.fixture
def unreachable_postgresql() -> Iterator[PostgresStore]:
    require_package("asyncpg", "postgresql")
    from asgi_lambda.stores.postgresql import PostgresStore

    store = PostgresStore(f"postgresql://postgres@127.0.0.1:{closed_port()}/test")
    yield store
    loop.run(store.close())


@pytest.fixture
def store_redis() -> Iterator[RedisStore]:
    require_package("redis", "redis")
    require_server("Redis", REDIS_PORT, REDIS_HINT)
    from asgi_lambda.stores.redis_store import RedisStore

    prefix = unique_prefix()
    store = RedisStore(REDIS_URL, prefix=prefix)
    try:
        yield store
    finally:
        loop.run(store.close())
        delete_keys(prefix)
        delete_keys(store.rooms_prefix)  # the rooms beside the records


@pytest.fixture
def unreachable_redis() -> Iterator[RedisStore]:
    require_package("redis", "redis")
    from asgi_lambda.stores.redis_store import RedisStore

    store = RedisStore(f"redis://127.0.0.1:{closed_port()}/0")
    yield store
    loop.run(store.close())


def create_database(name: str) -> None:
    """A new, empty PostgreSQL database (dropped first if a run that was killed left it). From
    template0, which nobody connects to, so that several runs can create theirs at once."""
    import asyncpg

    async def create() -> None:
        connection = await asyncpg.connect(POSTGRES_DSN, timeout=5)
        try:
            await connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            await connection.execute(f'CREATE DATABASE "{name}" TEMPLATE template0')
        finally:
            await connection.close()

    loop.run(create())


def drop_database(name: str) -> None:
    import asyncpg

    async def drop() -> None:
        connection = await asyncpg.connect(POSTGRES_DSN, timeout=5)
        try:
            await connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            await connection.close()

    loop.run(drop())


def listening(port: int) -> bool:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=1).close()
    except OSError:
        return False
    return True
