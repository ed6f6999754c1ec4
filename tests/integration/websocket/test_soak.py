"""10,000 WebSocket events through the Adapter ($connect, 8 messages, $disconnect, over and over),
on the Redis and on the PostgreSQL store, replies to the Management API stub: after warm-up,
the process holds as many open file descriptors, asyncio tasks on the adapter's loop and pooled
connections (the store's, the Management API client's) at the end as at the start.

`make bench` prints the counts (benchmarks/soak.py), with the helpers below.
"""

from __future__ import annotations

import asyncio
import gc
import os
import time
from dataclasses import dataclass
from typing import Any

import pytest

from asgi_lambda import Adapter
from asgi_lambda.protocols import loop
from asgi_lambda.stores import Store
from asgi_lambda.websocket.hub import ConnectionHub
from benchmarks.ws_stores import echo_app
from tests.support.events import load_event
from tests.support.management_api import ManagementAPIStub

MESSAGES = 8  # per connection
EVENTS_PER_CYCLE = MESSAGES + 2  # with its $connect and $disconnect
EVENTS = 10_000
WARMUP = 20  # cycles: clients, pools and kept-alive connections are made on first use


@dataclass(frozen=True)
class Held:
    """What the process holds between invocations."""

    fds: int  # open file descriptors
    tasks: int  # unfinished asyncio tasks on the adapter's loop
    store_connections: int  # in the store's pool
    gateway_connections: int  # the Management API client's kept-alive connections


def pooled(store: Any) -> int:
    """Connections the store's pool holds, idle or in use (none before its first use)."""
    if store.name == "postgresql":
        return 0 if store._pool is None else int(store._pool.get_size())
    if store.name == "redis":
        if store._client is None:
            return 0
        pool = store._client.connection_pool
        return len(pool._available_connections) + len(pool._in_use_connections)
    raise ValueError(f"no pool count for the {store.name} store")


def held(hub: ConnectionHub) -> Held:
    return Held(
        fds=len(os.listdir("/proc/self/fd")),
        tasks=len(asyncio.all_tasks(loop.get_loop())),
        store_connections=pooled(hub.store),
        gateway_connections=sum(len(client.idle) for client in hub.clients.values()),
    )


def connection_id(cycle: int) -> str:
    return f"soak{cycle:06d}="


def message(cycle: int, number: int) -> str:
    return f"{cycle}:{number}"


def run_cycles(adapter: Adapter, first: int, count: int) -> None:
    """Cycles `first` .. `first + count - 1`, each on a connection of its own; every event must be
    answered 200."""
    connect, receive, disconnect = (load_event(name) for name in ("ws_connect", "ws_message", "ws_disconnect"))
    for cycle in range(first, first + count):
        for event in (connect, receive, disconnect):
            event["requestContext"]["connectionId"] = connection_id(cycle)
        statuses = [adapter(connect, None)["statusCode"]]
        for number in range(MESSAGES):
            receive["body"] = message(cycle, number)
            statuses.append(adapter(receive, None)["statusCode"])
        statuses.append(adapter(disconnect, None)["statusCode"])
        assert statuses == [200] * EVENTS_PER_CYCLE, f"cycle {cycle}: {statuses}"


def echoes(cycles: int) -> list[tuple[str, bytes]]:
    """The Management API posts `cycles` cycles make, in order."""
    return [(connection_id(cycle), message(cycle, number).encode()) for cycle in range(cycles) for number in range(MESSAGES)]


@pytest.fixture(autouse=True)
def settled() -> None:
    """Descriptors that earlier tests of this process left closing (a server thread still ending a
    connection, a socket waiting for the garbage collector) closed before the count: under xdist
    this module runs after whatever its worker ran before, on a machine other runs load too."""
    gc.collect()
    count, since, deadline = len(os.listdir("/proc/self/fd")), time.monotonic(), time.monotonic() + 10
    while time.monotonic() - since < 1 and time.monotonic() < deadline:
        time.sleep(0.1)
        now = len(os.listdir("/proc/self/fd"))
        if now != count:
            count, since = now, time.monotonic()


@pytest.fixture(params=["redis", "postgresql"])
def store(request: pytest.FixtureRequest) -> Store:
    """The stores with a pool: this module's `ws` runtime is on each in turn."""
    backend: Store = request.getfixturevalue(f"store_{request.param}")
    return backend


@pytest.mark.skipif(not os.path.isdir("/proc/self/fd"), reason="counts file descriptors in /proc (Linux)")
def test_10000_events_leave_no_descriptors_tasks_or_connections_behind(ws: ConnectionHub, stub: ManagementAPIStub) -> None:
    adapter = Adapter(echo_app, lifespan="off")
    run_cycles(adapter, 0, WARMUP)
    before = held(ws)

    run_cycles(adapter, WARMUP, EVENTS // EVENTS_PER_CYCLE)

    assert held(ws) == before
    assert stub.posts() == echoes(WARMUP + EVENTS // EVENTS_PER_CYCLE)
