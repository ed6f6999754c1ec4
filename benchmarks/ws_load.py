"""WebSocket clients under load through the local gateway, timed per message.

`asgi-lambda serve`'s gateway runs in this process (uvicorn in a thread, the function in its
worker thread), serving a raw ASGI echo app, with the store chosen by WS_* variables as a
deployment chooses it: Redis, then PostgreSQL. Many `websockets` clients connect at once; each
sends its messages one after another, the next once the echo of the last is in. A message's
time runs from its send to its echo: the $default invocation (store read, the app, the
Management API POST back through the gateway) plus its wait behind the other clients' events,
as the function takes one event at a time.

The clients, the echo app and the stores' setup and cleanup are tests/local/test_load.py's.
"""

from __future__ import annotations

import os
import statistics
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from .ws_stores import Unavailable, aws_environment, require_package, require_server

BACKENDS = ("redis", "postgresql")


@dataclass(frozen=True)
class LoadScale:
    clients: int
    messages: int  # per client


@dataclass
class LoadResult:
    name: str
    sent: int = 0
    lost: int = 0  # sent, never answered
    duplicated: int = 0  # answers beyond one per message sent
    out_of_order: int = 0  # clients whose answers came in another order than their messages
    records_left: int = 0  # in the store once every client has left
    seconds: list[float] = field(default_factory=list)  # send to echo, per message answered
    wall_s: float = 0.0
    unavailable: str | None = None
    error: str | None = None

    @property
    def passed(self) -> bool | None:
        if self.unavailable:
            return None
        if self.error:
            return False
        return (self.lost, self.duplicated, self.out_of_order, self.records_left) == (0, 0, 0, 0)

    def percentile_ms(self, percent: int) -> float:
        return statistics.quantiles(self.seconds, n=100, method="inclusive")[percent - 1] * 1000


def check_available(name: str) -> None:
    if name == "redis":
        from tests.support.services import REDIS_PORT

        require_package("redis")
        require_server("Redis", REDIS_PORT)
    else:
        from tests.support.services import POSTGRES_PORT

        require_package("asyncpg")
        require_server("PostgreSQL", POSTGRES_PORT)


def measure_backend(name: str, scale: LoadScale, state_dir: Path) -> LoadResult:
    import pytest

    from tests.integration.local.test_load import gateway_on, run_clients, wait_for_disconnects

    result = LoadResult(name)
    try:
        check_available(name)
    except Unavailable as exc:
        result.unavailable = str(exc)
        return result
    try:
        with pytest.MonkeyPatch.context() as monkeypatch:
            for variable in list(os.environ):
                if variable.startswith(("ASGI_", "WS_")):
                    monkeypatch.delenv(variable)  # the function sees the store's and the gateway's only
            with gateway_on(name, monkeypatch, state_dir) as (served, records_kept):
                started = time.perf_counter()
                clients = run_clients(served.ws_url, scale.clients, scale.messages)
                result.wall_s = time.perf_counter() - started
                wait_for_disconnects(served, scale.clients)
                result.records_left = records_kept()
    except Exception as exc:  # a store that fails is a row that says so, not a crash
        result.error = f"{type(exc).__name__}: {exc}"
        return result
    for client in clients:
        expected = [f"{client.name}:{number}" for number in range(scale.messages)]
        answered = [text for text in expected if text in client.received]
        result.sent += len(expected)
        result.lost += len(expected) - len(answered)
        result.duplicated += len(client.received) - len(answered)
        arrived = [text for text in dict.fromkeys(client.received) if text in expected]  # first arrivals, in order
        result.out_of_order += arrived != answered
        result.seconds += client.seconds
        if client.error and not result.error:
            result.error = f"{client.name}: {client.error}"
    return result


def measure_load(scale: LoadScale) -> list[LoadResult]:
    # Fake credentials for the function's Management API client, restored afterwards with the rest.
    with aws_environment(), tempfile.TemporaryDirectory() as directory:
        return [measure_backend(name, scale, Path(directory)) for name in BACKENDS]
