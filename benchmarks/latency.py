"""Per-call latency of two handlers, measured interleaved in one process.

Interleaving (N calls of one, N of the other, R rounds, the order swapped every round) means
CPU frequency changes, noisy neighbours and allocator drift hit both sides alike, which
separate runs cannot promise. Each side's figure is the median of its per-round means, so
one disturbed round does not move it.
"""

from __future__ import annotations

import asyncio
import copy
import gc
import statistics
import time
import tracemalloc
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

Handler = Callable[[dict[str, Any], Any], dict[str, Any]]


@dataclass(frozen=True)
class Case:
    label: str
    event: dict[str, Any]
    ours: Handler
    mangum: Handler
    calls: int  # per adapter per round
    rounds: int
    target: float | None = None  # the highest acceptable ours/mangum ratio, if any


@dataclass(frozen=True)
class Timing:
    case: Case
    ours_us: float
    mangum_us: float

    @property
    def ratio(self) -> float:
        return self.ours_us / self.mangum_us

    @property
    def passed(self) -> bool | None:
        return None if self.case.target is None else self.ratio <= self.case.target


def check_same_answer(case: Case, context: Any) -> None:
    """Both adapters must answer 200 with the same body, and leave the event as it was (the
    timing loops reuse one event), or the numbers compare different work."""
    pristine = copy.deepcopy(case.event)
    ours = case.ours(case.event, context)
    theirs = case.mangum(case.event, context)
    problems = []
    for name, response in (("asgi_lambda", ours), ("mangum", theirs)):
        if response.get("statusCode") != 200:
            problems.append(f"{name} answered {response.get('statusCode')}: {response.get('body')!r}")
    if ours.get("body") != theirs.get("body"):
        problems.append(f"bodies differ: asgi_lambda {ours.get('body')!r}, mangum {theirs.get('body')!r}")
    if case.event != pristine:
        problems.append("an adapter modified the event")
    if problems:
        raise SystemExit(f"Sanity check failed for {case.label!r}: " + "; ".join(problems))


def mean_call_us(handler: Handler, event: dict[str, Any], context: Any, calls: int) -> float:
    # Start every batch from the same collector state, so neither side pays for the
    # other's garbage; collection during the batch stays on, as it would be on Lambda.
    gc.collect()
    start = time.perf_counter_ns()
    for _ in range(calls):
        handler(event, context)
    return (time.perf_counter_ns() - start) / calls / 1000


def time_case(case: Case, context: Any) -> Timing:
    check_same_answer(case, context)
    warmup = max(case.calls // 10, 20)  # fill caches, settle lazily built state
    mean_call_us(case.ours, case.event, context, warmup)
    mean_call_us(case.mangum, case.event, context, warmup)
    ours: list[float] = []
    theirs: list[float] = []
    for round_number in range(case.rounds):
        sides = [(case.ours, ours), (case.mangum, theirs)]
        if round_number % 2:
            sides.reverse()  # neither side always runs first
        for handler, samples in sides:
            samples.append(mean_call_us(handler, case.event, context, case.calls))
    return Timing(case, statistics.median(ours), statistics.median(theirs))


def loop_floor_us(app: Callable[..., Any], calls: int, rounds: int) -> float:
    """µs/call of running the raw app with run_until_complete and do-nothing receive/send:
    what any adapter driving a default asyncio loop pays before mapping a single field.
    Context for the ratio target, not a case. A loop of its own keeps the adapters' loop
    out of it."""

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        pass

    scope = {"type": "http", "method": "GET", "path": "/", "headers": []}
    loop = asyncio.new_event_loop()
    try:

        def run(event: dict[str, Any], context: Any) -> dict[str, Any]:
            loop.run_until_complete(app(scope, receive, send))
            return {}

        mean_call_us(run, {}, None, max(calls // 10, 20))
        return statistics.median(mean_call_us(run, {}, None, calls) for _ in range(rounds))
    finally:
        loop.close()


def peak_kib(handler: Handler, event: dict[str, Any], context: Any, calls: int) -> float:
    """Peak traced memory above the starting point over `calls` calls, in KiB: the transient
    cost of a call plus anything that accumulates across calls."""
    handler(event, context)  # first-call setup is not what is measured
    gc.collect()
    tracemalloc.start()
    try:
        baseline = tracemalloc.get_traced_memory()[0]
        tracemalloc.reset_peak()
        for _ in range(calls):
            handler(event, context)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    return (peak - baseline) / 1024


def profile_top(handler: Handler, event: dict[str, Any], context: Any, calls: int, limit: int = 15) -> str:
    """cProfile of `calls` calls, the `limit` functions with the most time of their own."""
    import cProfile
    import io
    import pstats

    handler(event, context)
    profiler = cProfile.Profile()
    profiler.enable()
    for _ in range(calls):
        handler(event, context)
    profiler.disable()
    stream = io.StringIO()
    pstats.Stats(profiler, stream=stream).strip_dirs().sort_stats("tottime").print_stats(limit)
    return stream.getvalue()
