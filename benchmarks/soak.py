"""Soak: what many invocations leave behind in one process.

a. HTTP: the Adapter called directly with tests/events/http_api_v2_get.json and a raw ASGI app:
   the resident set's growth over many calls after warm-up; then, with tracemalloc on, the
   source lines whose allocations changed most between a snapshot after warm-up and one after
   more calls (tracing makes a call several times slower, so fewer calls are traced).
b. WebSocket: $connect, 8 messages, $disconnect, over and over through the Adapter, on the
   Redis and on the PostgreSQL store, replies to the loopback Management API stub: open file
   descriptors, asyncio tasks on the adapter's loop and pooled connections after warm-up and at
   the end.

The calls, the cycles and the counts are the tests' (tests/test_soak.py,
tests/websocket/test_soak.py); those assert the bounds, this prints the figures.
"""

from __future__ import annotations

import asyncio
import gc
import os
import sysconfig
import tracemalloc
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from asgi_lambda import Adapter
from asgi_lambda.protocols import loop

from .apps import minimal_app
from .ws_load import check_available
from .ws_stores import Unavailable, aws_environment, echo_app

if TYPE_CHECKING:
    from asgi_lambda.stores import Store
    from tests.integration.websocket.test_soak import Held
    from tests.support.management_api import ManagementAPIStub

TOP = 5  # tracemalloc lines shown


@dataclass(frozen=True)
class SoakScale:
    http_calls: int
    http_warmup: int
    traced_calls: int
    ws_events: int


@dataclass
class HttpSoak:
    calls: int
    growth_bytes: int
    traced_calls: int
    top: list[tracemalloc.StatisticDiff]

    @property
    def passed(self) -> bool:
        from tests.unit.test_soak import GROWTH_LIMIT

        return self.growth_bytes <= GROWTH_LIMIT


@dataclass
class WebSocketSoak:
    name: str
    events: int = 0
    before: Held | None = None  # after warm-up
    after: Held | None = None
    tasks: list[str] = field(default_factory=list)  # what the tasks on the adapter's loop run, at the end
    unavailable: str | None = None
    error: str | None = None

    @property
    def passed(self) -> bool | None:
        if self.unavailable:
            return None
        return self.error is None and self.before == self.after


def traced_growth(handler: Adapter, event: dict[str, Any], calls: int) -> list[tracemalloc.StatisticDiff]:
    """The TOP lines whose traced allocations changed most over `calls` calls (largest change
    first, growth or shrinkage), leaving out those that did not change."""
    from tests.unit.test_soak import call

    tracemalloc.start()
    try:
        call(handler, event, 100)  # what the first traced calls make once
        gc.collect()
        first = tracemalloc.take_snapshot()
        call(handler, event, calls)
        gc.collect()
        second = tracemalloc.take_snapshot()
    finally:
        tracemalloc.stop()
    ignore = [tracemalloc.Filter(False, tracemalloc.__file__)]  # the snapshots' own bookkeeping
    changed = [line for line in second.filter_traces(ignore).compare_to(first.filter_traces(ignore), "lineno") if line.size_diff]
    return changed[:TOP]


def measure_http(scale: SoakScale) -> HttpSoak:
    from tests.support.events import load_event
    from tests.unit.test_soak import rss_growth

    handler = Adapter(minimal_app, lifespan="off")
    event = load_event("http_api_v2_get")
    growth = rss_growth(handler, event, scale.http_calls, scale.http_warmup)
    return HttpSoak(scale.http_calls, growth, scale.traced_calls, traced_growth(handler, event, scale.traced_calls))


def open_store(name: str, stack: ExitStack) -> Store:
    """A store on a key prefix or table of its own, as its test fixture makes it; closed, then
    removed, when the stack unwinds."""
    from tests.support import services

    check_available(name)
    store: Store
    if name == "redis":
        from asgi_lambda.stores.redis_store import RedisStore

        prefix = services.unique_prefix()
        stack.callback(services.delete_keys, prefix)
        store = RedisStore(services.REDIS_URL, prefix=prefix)
    else:
        from asgi_lambda.stores.postgresql import PostgresStore

        table = services.unique_table()
        stack.callback(services.drop_table, table)
        store = PostgresStore(services.POSTGRES_DSN, table=table)
    stack.callback(lambda: loop.run(store.close()))
    return store


def soak_backend(name: str, stub: ManagementAPIStub, events: int) -> WebSocketSoak:
    from tests.integration.websocket.test_soak import EVENTS_PER_CYCLE, WARMUP, held, run_cycles
    from tests.support.websocket import websocket_runtime

    result = WebSocketSoak(name)
    try:
        with ExitStack() as stack:
            try:
                store = open_store(name, stack)
            except Unavailable as exc:
                result.unavailable = str(exc)
                return result
            hub = stack.enter_context(websocket_runtime(store, endpoint=stub.endpoint))
            adapter = Adapter(echo_app, lifespan="off")
            run_cycles(adapter, 0, WARMUP)
            result.before = held(hub)
            cycles = events // EVENTS_PER_CYCLE
            run_cycles(adapter, WARMUP, cycles)
            result.after = held(hub)
            result.tasks = sorted(task.get_coro().__qualname__ for task in asyncio.all_tasks(loop.get_loop()))  # type: ignore[union-attr]
            result.events = cycles * EVENTS_PER_CYCLE
    except Exception as exc:  # a store that fails is a row that says so, not a crash
        result.error = f"{type(exc).__name__}: {exc}"
    finally:
        stub.calls.clear()
    return result


def measure_websocket(events: int) -> list[WebSocketSoak]:
    from tests.support.management_api import ManagementAPIStub

    from .ws_load import BACKENDS

    with aws_environment():  # the Management API client signs with the environment's credentials
        stub = ManagementAPIStub()
        try:
            return [soak_backend(name, stub, events) for name in BACKENDS]
        finally:
            stub.close()


# Where traced files are shown from: this repository (the package is under layer/), the venv's
# libraries, the standard library; the longest that contains the file wins.
ROOTS = sorted(
    {str(Path(__file__).resolve().parent.parent), sysconfig.get_paths()["purelib"], sysconfig.get_paths()["stdlib"]}, key=len, reverse=True
)


def where(statistic: tracemalloc.StatisticDiff) -> str:
    """file:line of the allocation, relative to the root that holds the file."""
    frame = statistic.traceback[0]
    path = next((frame.filename[len(root) + 1 :] for root in ROOTS if frame.filename.startswith(root + os.sep)), frame.filename)
    return f"{path}:{frame.lineno}"
