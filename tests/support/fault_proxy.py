"""A loopback TCP proxy the tests control, to make a store's server fail on cue.

`FaultProxy` listens on 127.0.0.1 (a free port) and forwards each connection to a real server
on 127.0.0.1 (PostgreSQL, Redis, the moto server). A test can cut every live connection (RST,
or an orderly close), refuse new ones (accepted, then ended at once) and let them through again.
It runs an asyncio loop of its own in a daemon thread; the test thread's calls wait for the
proxy to have acted (bounded by CALL_TIMEOUT), so what a test does next sees the fault.

The fixtures below give a store pointed through a proxy, with the proxy: `proxied_<name>` for
postgresql, redis, dynamodb and s3. Each tears down in order: let connections through, close
the store, stop the proxy, remove the test's table, keys or bucket.
"""

from __future__ import annotations

import asyncio
import socket
import struct
import threading
from collections.abc import Coroutine, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, TypeVar

import pytest

from asgi_lambda.protocols import loop
from asgi_lambda.stores import Store

from .aws import REGION, aws_client, create_bucket, create_table, delete_bucket, fake_aws_environment, moto_url
from .services import (
    POSTGRES_HINT,
    POSTGRES_PORT,
    REDIS_HINT,
    REDIS_PORT,
    delete_keys,
    drop_table,
    require_package,
    require_server,
    unique_prefix,
    unique_table,
)

T = TypeVar("T")

CALL_TIMEOUT = 5.0  # seconds the test thread waits for the proxy to act
MAX_CONNECTIONS = 64  # live connections at most; more are ended at accept
CHUNK = 64 * 1024  # bytes read at once from either side
PASSWORD = "s3cret-proxied"


class FaultProxy:
    """Forwards 127.0.0.1:<port> to 127.0.0.1:<upstream_port>, with faults on demand."""

    def __init__(self, upstream_port: int, *, upstream_host: str = "127.0.0.1") -> None:
        self.upstream = (upstream_host, upstream_port)
        self.accepted = 0  # connections let through to the server
        self.refused = 0  # connections ended at accept
        self._refusing: bool | None = None  # None: let through; else refuse, with a reset (True) or a close
        self._live: dict[asyncio.StreamWriter, tuple[asyncio.StreamWriter, asyncio.Task[None]]] = {}
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name=f"fault-proxy-{upstream_port}", daemon=True)
        self._thread.start()
        self._server = self._call(asyncio.start_server(self._serve, "127.0.0.1", 0))
        self.port: int = self._server.sockets[0].getsockname()[1]

    def __enter__(self) -> FaultProxy:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def cut(self, *, reset: bool = True) -> int:
        """End every live connection on both sides now, with an RST (reset) or a FIN; how many there were."""
        return self._call(self._cut(reset))

    def refuse(self, *, reset: bool = True) -> None:
        """From now on, end each new connection as soon as it is accepted (RST, or FIN with reset=False)."""
        self._refusing = reset

    def allow(self) -> None:
        """Let new connections through to the server again."""
        self._refusing = None

    @contextmanager
    def outage(self, *, reset: bool = True) -> Iterator[None]:
        """The server is gone for the block: live connections cut, new ones refused; back afterwards."""
        self.refuse(reset=reset)
        self.cut(reset=reset)
        try:
            yield
        finally:
            self.allow()

    def close(self) -> None:
        """Stop listening, end every connection, stop the thread."""
        if self._loop.is_closed():
            return
        self._call(self._stop())
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(CALL_TIMEOUT)
        self._loop.close()

    def _call(self, work: Coroutine[Any, Any, T]) -> T:
        return asyncio.run_coroutine_threadsafe(work, self._loop).result(CALL_TIMEOUT)

    async def _serve(self, client_reader: asyncio.StreamReader, client: asyncio.StreamWriter) -> None:
        if self._refusing is not None or len(self._live) >= MAX_CONNECTIONS:
            self.refused += 1
            _end(client, reset=self._refusing is not False)
            return
        try:
            server_reader, server = await asyncio.open_connection(*self.upstream)
        except OSError:  # the server itself is down: the client sees its connection end
            self.refused += 1
            _end(client, reset=True)
            return
        self.accepted += 1
        pumps = asyncio.gather(_pump(client_reader, server), _pump(server_reader, client))
        task = asyncio.ensure_future(pumps)
        self._live[client] = (server, task)
        try:
            await task
        finally:
            self._live.pop(client, None)
            _end(client, reset=False)
            _end(server, reset=False)

    async def _stop(self) -> None:
        self._server.close()
        await self._cut(reset=False)
        await self._server.wait_closed()

    async def _cut(self, reset: bool) -> int:
        live = list(self._live.items())
        for client, (server, _) in live:
            _end(client, reset=reset)
            _end(server, reset=reset)
        # Both sockets are closed once their pumps have seen it: then the cut is on the wire.
        if live:
            await asyncio.wait([task for _, (_, task) in live], timeout=CALL_TIMEOUT)
        return len(live)


async def _pump(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    """Copy one direction until either side ends; then end the other direction's writer too."""
    try:
        while data := await reader.read(CHUNK):
            writer.write(data)
            await writer.drain()
    except OSError:
        pass
    finally:
        if not writer.is_closing():
            writer.close()


def _end(writer: asyncio.StreamWriter, *, reset: bool) -> None:
    """Close the connection: at once with an RST (SO_LINGER 0), or with an orderly FIN."""
    if writer.is_closing():
        return
    if reset:
        sock = writer.get_extra_info("socket")
        if sock is not None:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        writer.transport.abort()
    else:
        writer.close()


# --- stores pointed through a proxy --------------------------------------------------


@dataclass
class Proxied:
    """A store whose every connection goes through `proxy`; `named` is how its errors name it."""

    store: Store
    proxy: FaultProxy
    named: str


@contextmanager
def proxied(store: Store, proxy: FaultProxy, named: str) -> Iterator[Proxied]:
    with proxy:
        try:
            yield Proxied(store, proxy, named)
        finally:
            proxy.allow()  # closing the store may need its server
            loop.run(store.close())


@pytest.fixture
def proxied_postgresql() -> Iterator[Proxied]:
    require_package("asyncpg", "postgresql")
    require_server("PostgreSQL", POSTGRES_PORT, POSTGRES_HINT)
    from asgi_lambda.stores.postgresql import PostgresStore

    table = unique_table()
    proxy = FaultProxy(POSTGRES_PORT)
    # A password the server (trust) ignores, so the tests can check no error shows it.
    dsn = f"postgresql://postgres:{PASSWORD}@127.0.0.1:{proxy.port}/test"
    named = f"postgresql store at postgresql://postgres:***@127.0.0.1:{proxy.port}/test"
    try:
        with proxied(PostgresStore(dsn, table=table), proxy, named) as both:
            yield both
    finally:
        drop_table(table)


@pytest.fixture
def proxied_redis() -> Iterator[Proxied]:
    require_package("redis", "redis")
    require_server("Redis", REDIS_PORT, REDIS_HINT)
    from asgi_lambda.stores.redis_store import RedisStore

    prefix = unique_prefix()
    proxy = FaultProxy(REDIS_PORT)
    url = f"redis://127.0.0.1:{proxy.port}/0"
    try:
        with proxied(RedisStore(url, prefix=prefix), proxy, f"redis store at {url}") as both:
            yield both
    finally:
        delete_keys(prefix)


@pytest.fixture
def proxied_dynamodb(
    request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Proxied]:
    from asgi_lambda.stores.dynamodb import DynamoDBStore

    fake_aws_environment(monkeypatch, tmp_path_factory)
    moto = moto_url(request)
    table = create_table(moto)
    proxy = FaultProxy(int(moto.rpartition(":")[2]))
    endpoint = f"http://127.0.0.1:{proxy.port}"
    named = f"dynamodb store (table {table!r} in region {REGION} at {endpoint})"
    try:
        with proxied(DynamoDBStore(table, region=REGION, endpoint_url=endpoint), proxy, named) as both:
            yield both
    finally:
        aws_client("dynamodb", moto).delete_table(TableName=table)


@pytest.fixture
def proxied_s3(
    request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Proxied]:
    from asgi_lambda.stores.s3 import S3Store

    fake_aws_environment(monkeypatch, tmp_path_factory)
    moto = moto_url(request)
    bucket = create_bucket(moto)
    proxy = FaultProxy(int(moto.rpartition(":")[2]))
    endpoint = f"http://127.0.0.1:{proxy.port}"
    named = f"s3 store (bucket {bucket!r}, prefix 'asgi-lambda/connections/' in region {REGION} at {endpoint})"
    try:
        with proxied(S3Store(bucket, region=REGION, endpoint_url=endpoint), proxy, named) as both:
            yield both
    finally:
        delete_bucket(moto, bucket)
