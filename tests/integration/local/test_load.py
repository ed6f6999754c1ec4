"""Load through the local gateway: 200 WebSocket clients send 10 messages each to an echo app,
on the Redis store and on the PostgreSQL store, chosen by WS_* variables as a deployment chooses
them. Every message is answered exactly once, in the order it was sent, and once the clients
have left the store holds none of their connections.

`make bench` times the same load (benchmarks/ws_load.py), with the helpers below.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import WebSocketException

from tests.support.local import Served, serve_gateway
from tests.support.services import (
    POSTGRES_DSN,
    POSTGRES_HINT,
    POSTGRES_PORT,
    REDIS_HINT,
    REDIS_PORT,
    REDIS_URL,
    require_package,
    require_server,
)

if TYPE_CHECKING:  # imported where used, so a missing redis fails only its test
    import redis.asyncio

APP = "benchmarks.ws_stores:echo_app"  # raw ASGI: each message answered with its own text
CLIENTS = 200
MESSAGES = 10
TIMEOUT_S = 120.0  # for a whole run (a few seconds here): a lost message fails its client then, never hangs the run
SETTLE_S = 30.0  # for the gateway to finish the $disconnect events once the clients have left


# --- the clients ---------------------------------------------------------------------------------


@dataclass
class Client:
    """One client's run: what came back (in order, up to the close) and how long each answer took."""

    name: str
    received: list[str] = field(default_factory=list)
    seconds: list[float] = field(default_factory=list)  # send to answer, per message; for make bench only
    error: str | None = None


async def talk(url: str, name: str, messages: int, deadline: float) -> Client:
    """Send `name:0` .. `name:<messages - 1>`, each once the previous one's answer is in, then close.
    Whatever arrives between the last answer and the gateway's close frame is kept too, so a
    duplicate of the last message shows. Gives up at `deadline` (the loop's clock)."""
    client = Client(name)
    try:
        # The deadline bounds the opening handshake too; the close keeps websockets' own bound (10 s).
        async with asyncio.timeout_at(deadline), connect(url, open_timeout=None, ping_interval=None) as ws:
            for number in range(messages):
                text = f"{name}:{number}"
                started = time.perf_counter()
                await ws.send(text)
                client.received.append(str(await ws.recv()))
                client.seconds.append(time.perf_counter() - started)
            await ws.close()
            client.received += [str(late) async for late in ws]  # queued before the close frame
    except (OSError, TimeoutError, WebSocketException) as exc:
        client.error = repr(exc)
    return client


def run_clients(url: str, clients: int, messages: int) -> list[Client]:
    """`clients` clients at once, each talking as `talk` does."""

    async def everyone() -> list[Client]:
        deadline = asyncio.get_running_loop().time() + TIMEOUT_S
        return await asyncio.gather(*(talk(url, f"c{number:03d}", messages, deadline) for number in range(clients)))

    return asyncio.run(everyone())


# --- what the gateway did ----------------------------------------------------------------------------


def tally(lines: list[str]) -> Counter[tuple[str, str]]:
    """The gateway's log lines counted by what and status: ("WS $default", "200"), ("POST", "200")
    (a Management API call, the function's reply to a client)."""
    counts: Counter[tuple[str, str]] = Counter()
    for line in lines:
        parts = line.split()
        counts[(f"WS {parts[1]}", parts[3]) if parts[0] == "WS" else (parts[0], parts[2])] += 1
    return counts


def connection_ids(lines: list[str]) -> list[str]:
    return [line.split()[2] for line in lines if line.startswith("WS $connect ")]


def wait_for_disconnects(served: Served, count: int) -> None:
    """The $disconnect events run after the clients have gone; wait until `count` are logged."""
    deadline = time.monotonic() + SETTLE_S
    while tally(served.lines)[("WS $disconnect", "200")] < count and time.monotonic() < deadline:
        time.sleep(0.05)


# --- the stores, as WS_* variables choose them -------------------------------------------------------


class RedisKeys:
    """The store's default key prefix (no WS_* variable changes it); the keys of the connections
    this run made are deleted afterwards."""

    def variables(self) -> dict[str, str]:
        return {"WS_BACKEND": "redis", "WS_REDIS_URL": REDIS_URL}

    def keys(self, ids: list[str]) -> list[str]:
        from asgi_lambda.stores.redis_store import PREFIX

        return [PREFIX + connection_id for connection_id in ids]

    def client(self) -> redis.asyncio.Redis:
        import redis.asyncio

        return redis.asyncio.Redis.from_url(REDIS_URL)

    async def create(self) -> None:
        pass

    async def kept(self, ids: list[str]) -> int:
        if not ids:
            return 0
        async with self.client() as client:
            return int(await client.exists(*self.keys(ids)))

    async def remove(self, ids: list[str]) -> None:
        if ids:
            async with self.client() as client:
                await client.delete(*self.keys(ids))


class PostgresSchema:
    """A schema of this run's own, named by the DSN's search_path (asyncpg sends the parameters it
    does not know as server settings), so the store makes its table there; dropped afterwards."""

    def __init__(self) -> None:
        self.schema = f"asgi_lambda_load_{uuid.uuid4().hex[:8]}"

    def variables(self) -> dict[str, str]:
        return {"WS_BACKEND": "postgresql", "WS_POSTGRES_DSN": f"{POSTGRES_DSN}?search_path={self.schema}"}

    async def execute(self, sql: str) -> Any:
        import asyncpg  # type: ignore[import-untyped]

        connection = await asyncpg.connect(POSTGRES_DSN, timeout=5)
        try:
            return await connection.fetchval(sql)
        finally:
            await connection.close()

    async def create(self) -> None:
        await self.execute(f'CREATE SCHEMA "{self.schema}"')

    async def kept(self, ids: list[str]) -> int:
        from asgi_lambda.stores.postgresql import TABLE

        count: int = await self.execute(f'SELECT count(*) FROM "{self.schema}"."{TABLE}"')
        return count

    async def remove(self, ids: list[str]) -> None:
        await self.execute(f'DROP SCHEMA IF EXISTS "{self.schema}" CASCADE')


STORES: dict[str, Callable[[], RedisKeys | PostgresSchema]] = {"redis": RedisKeys, "postgresql": PostgresSchema}


@contextmanager
def gateway_on(backend: str, monkeypatch: pytest.MonkeyPatch, state_dir: Path) -> Iterator[tuple[Served, Callable[[], int]]]:
    """The gateway serving the echo app on `backend`, and how many of its connections' records the
    store still holds. The caller checks first that the store's package and server are there."""
    store = STORES[backend]()
    for name, value in {**store.variables(), "ASGI_LIFESPAN": "off"}.items():
        monkeypatch.setenv(name, value)
    lines: list[str] = []
    try:
        asyncio.run(store.create())
        with serve_gateway(APP, monkeypatch, state_dir) as served:
            lines = served.lines
            yield served, lambda: asyncio.run(store.kept(connection_ids(lines)))
    finally:
        asyncio.run(store.remove(connection_ids(lines)))


# --- the test ----------------------------------------------------------------------------------------------


@pytest.fixture(params=list(STORES))
def loaded(request: pytest.FixtureRequest, function_env: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[tuple[Served, Callable[[], int]]]:
    if request.param == "redis":
        require_package("redis", "redis")
        require_server("Redis", REDIS_PORT, REDIS_HINT)
    else:
        require_package("asyncpg", "postgresql")
        require_server("PostgreSQL", POSTGRES_PORT, POSTGRES_HINT)
    with gateway_on(request.param, function_env, tmp_path / ".asgi-lambda") as gateway:
        yield gateway


def test_every_message_of_200_clients_is_answered_once_and_in_order(loaded: tuple[Served, Callable[[], int]]) -> None:
    served, records_kept = loaded

    clients = run_clients(served.ws_url, CLIENTS, MESSAGES)

    # Each client got back exactly its own messages, each once, in the order it sent them.
    names = [f"c{number:03d}" for number in range(CLIENTS)]
    assert {client.name: client.received for client in clients} == {name: [f"{name}:{n}" for n in range(MESSAGES)] for name in names}
    assert [client.error for client in clients if client.error] == []
    wait_for_disconnects(served, CLIENTS)
    # One invocation per event, each answered 200, and one Management API POST per message.
    assert tally(served.lines) == {
        ("WS $connect", "200"): CLIENTS,
        ("WS $default", "200"): CLIENTS * MESSAGES,
        ("POST", "200"): CLIENTS * MESSAGES,
        ("WS $disconnect", "200"): CLIENTS,
    }
    assert records_kept() == 0
