"""`asgi_lambda.websocket.broadcast` to many connections, timed.

The memory store holds the connections, all on one endpoint: the loopback Management API stub
of tests/websocket/management_api.py, answering each POST after 5 ms as API Gateway takes a
few milliseconds. Posted one after another, 1,000 messages would take 5 s; the client runs
them concurrently over up to `max_connections` kept-alive connections per endpoint.

The stub runs in this process, on threads (one per TCP connection): its CPU shares the GIL
with the broadcast, so the figures are on the pessimistic side; the CPU split is printed.
"""

from __future__ import annotations

import gc
import inspect
import math
import statistics
import time
from dataclasses import dataclass, field
from typing import Any

from asgi_lambda.protocols import loop
from asgi_lambda.settings.websocket import WebSocketSettings
from asgi_lambda.stores.memory import MemoryStore
from asgi_lambda.stores.record import ConnectionRecord
from asgi_lambda.websocket import broadcast
from asgi_lambda.websocket.hub import ConnectionHub, install_default
from asgi_lambda.websocket.management_api import ManagementAPI

from .ws_stores import aws_environment

DELAY_S = 0.005  # the stub's answer time
TARGET_S_PER_1000 = 0.5  # a broadcast to 1,000 connections, warm
GONE = 10  # connections the stub answers 410 for, in the gone case
MESSAGE = "news: the benchmark broadcasts this"


@dataclass(frozen=True)
class BroadcastScale:
    connections: int
    runs: int  # warm runs, after the cold one
    gone_runs: int


@dataclass
class BroadcastResult:
    scale: BroadcastScale
    cold_s: float = 0.0
    warm_s: list[float] = field(default_factory=list)
    gone_s: list[float] = field(default_factory=list)
    own_cpu_s: list[float] = field(default_factory=list)  # this thread's CPU per warm run
    other_cpu_s: list[float] = field(default_factory=list)  # the other threads' (the stub's)
    opened_cold: int = 0  # TCP connections the client opened in the cold run
    opened_warm: int = 0  # and in all the warm runs together
    max_connections: int = 0
    profile: str | None = None

    @property
    def target_s(self) -> float:
        return TARGET_S_PER_1000 * self.scale.connections / 1000

    @property
    def warm_median_s(self) -> float:
        return statistics.median(self.warm_s)

    @property
    def gone_median_s(self) -> float:
        return statistics.median(self.gone_s)

    @property
    def passed(self) -> bool:
        return self.warm_median_s < self.target_s


def default_max_connections() -> int:
    value: int = inspect.signature(ManagementAPI).parameters["max_connections"].default
    return value


def timed(expected: int) -> tuple[float, float, float]:
    """One broadcast: wall seconds, this thread's CPU seconds, the whole process's CPU seconds."""
    gc.collect()
    wall, own, process = time.perf_counter(), time.thread_time(), time.process_time()
    delivered = loop.run(broadcast(MESSAGE))
    wall, own, process = time.perf_counter() - wall, time.thread_time() - own, time.process_time() - process
    if delivered != expected:
        raise SystemExit(f"Broadcast sanity check failed: delivered to {delivered}, expected {expected}")
    return wall, own, process


def profile_once(expected: int, limit: int = 15) -> str:
    """cProfile of one warm broadcast, this thread only (the stub's threads are not profiled)."""
    import cProfile
    import io
    import pstats

    gc.collect()
    profiler = cProfile.Profile()
    profiler.enable()
    delivered = loop.run(broadcast(MESSAGE))
    profiler.disable()
    if delivered != expected:
        raise SystemExit(f"Broadcast sanity check failed: delivered to {delivered}, expected {expected}")
    stream = io.StringIO()
    pstats.Stats(profiler, stream=stream).strip_dirs().sort_stats("tottime").print_stats(limit)
    return stream.getvalue()


def measure_broadcast(scale: BroadcastScale, *, profile: bool = False) -> BroadcastResult:
    from tests.support.management_api import ManagementAPIStub

    result = BroadcastResult(scale, max_connections=default_max_connections())
    count = scale.connections
    with aws_environment():  # the client signs each POST with the environment's credentials
        stub = ManagementAPIStub(delay=DELAY_S)
        store = MemoryStore()
        settings = WebSocketSettings(backend="memory", store_options={}, path="/ws", endpoint_url=stub.endpoint)
        runtime = ConnectionHub(settings, store=store)
        install_default(runtime)
        try:
            expires_at = int(time.time()) + 3600
            records = [
                ConnectionRecord(f"conn-{index:04d}=", endpoint=stub.endpoint, scope={}, expires_at=expires_at) for index in range(count)
            ]

            async def save(connections: list[ConnectionRecord]) -> None:
                for connection in connections:
                    await store.save(connection)

            loop.run(save(records))

            # Count the TCP connections the client opens, on its one gateway (made here, as the
            # first broadcast would make it).
            gateway = runtime.management_api(stub.endpoint)
            opened = 0
            original_open = gateway.open

            async def counted_open() -> Any:
                nonlocal opened
                opened += 1
                return await original_open()

            gateway.open = counted_open  # type: ignore[method-assign]

            def check_posts(expected: int) -> None:
                if len(stub.calls) != expected:
                    raise SystemExit(f"Broadcast sanity check failed: the stub got {len(stub.calls)} posts, expected {expected}")
                stub.calls.clear()

            result.cold_s = timed(count)[0]
            check_posts(count)
            result.opened_cold, opened = opened, 0
            for _ in range(scale.runs):
                wall, own, process = timed(count)
                check_posts(count)
                result.warm_s.append(wall)
                result.own_cpu_s.append(own)
                result.other_cpu_s.append(process - own)
            result.opened_warm = opened
            if profile:
                result.profile = profile_once(count)
                stub.calls.clear()

            # Gone: the stub answers 410 for GONE connections spread over the list; the broadcast
            # removes each from the store. They are put back before every run, untimed.
            gone = records[:: count // GONE][:GONE]
            stub.gone.update(connection.connection_id for connection in gone)
            for _ in range(scale.gone_runs):
                loop.run(save(gone))
                result.gone_s.append(timed(count - GONE)[0])
                check_posts(count)
                if len(store.records) != count - GONE:
                    raise SystemExit(f"Broadcast sanity check failed: {len(store.records)} records left, expected {count - GONE}")
        finally:
            loop.run(runtime.close())
            install_default(None)
            stub.close()
    return result


def floors(result: BroadcastResult) -> tuple[float, float]:
    """Seconds posting one at a time would take, and the least the connection bound allows."""
    count = result.scale.connections
    return count * DELAY_S, math.ceil(count / result.max_connections) * DELAY_S
