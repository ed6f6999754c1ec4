"""`python -m benchmarks [--quick] [--profile] [--strict]`: asgi_lambda's Adapter against Mangum 0.22.

Prints per-call latency (interleaved, one process), import cost (fresh interpreters) and
peak memory, then the WebSocket store round trips per event, a timed broadcast, WebSocket
clients under load through the local gateway and what a long run leaves behind (soak), then the
layer's own Runtime API client against awslambdaric (cold start, per invocation, time to first
byte streamed and buffered), invocations at once and work after the response, with PASS/FAIL
against the targets. See benchmarks/README.md.
"""

from __future__ import annotations

import argparse
import logging
import os
import platform
import statistics
import sys
from dataclasses import dataclass
from importlib.metadata import version
from typing import Any

from mangum import Mangum

from asgi_lambda import Adapter

from .apps import binary_app, fastapi_app, lifespan_app, minimal_app
from .cold_start import handler_alone_lines, measured_table
from .compression import compression_table, measure_compression
from .concurrency import (
    FULL_CONCURRENCY,
    QUICK_CONCURRENCY,
    ConcurrencyScale,
    measure_concurrency,
    print_background,
    print_concurrency,
    rss_passed,
    throughput_passed,
)
from .events import FakeContext, http_api_v2_event, rest_v1_event
from .imports import HEAVY_PACKAGES, ImportCost, installed, measure_import
from .latency import Case, Timing, loop_floor_us, peak_kib, profile_top, time_case
from .report import table, verdict
from .runtime_clients import COUNTED_INVOCATIONS, FULL_CLIENTS, QUICK_CLIENTS, ClientResults, ClientScale, measure_clients
from .soak import TOP, HttpSoak, SoakScale, WebSocketSoak, measure_http, measure_websocket, where
from .ws_broadcast import DELAY_S, GONE, BroadcastResult, BroadcastScale, floors, measure_broadcast
from .ws_fanout import DRAIN_RATIO_TARGET, QUEUE_TARGET_S, FanoutResult, FanoutScale, measure_fanout
from .ws_load import LoadResult, LoadScale, measure_load
from .ws_rooms import EXPECTED as ROOM_EXPECTED
from .ws_rooms import HOW as ROOM_HOW
from .ws_rooms import OPERATIONS, OperationCounts, RoomBroadcast, RoomScale, measure_operations, measure_room_broadcasts, summary
from .ws_stores import StoreCounts, expected, measure_stores, note, rw, wire
from .wsgi import cold_start, print_flask, time_flask

V2_RATIO_TARGET = 0.6
LIFESPAN_RATIO_TARGET = 0.2  # issue #19: case c, where Mangum runs the lifespan on every call
OVER_FLOOR_TARGET_US = 4.0  # issue #19: case a's µs/call over the event-loop floor
BINARY_RATIO_TARGET = 0.9  # issue #11: the 6 MB guard must not cost a large binary answer twice Mangum's
IMPORT_TARGET_US = 3000


@dataclass(frozen=True)
class Scale:
    fast_calls: int  # per adapter per round, for the cheap cases
    slow_calls: int  # the same, where Mangum's per-call lifespan or FastAPI makes calls dear
    rounds: int
    import_runs: int
    memory_calls: int
    broadcast: BroadcastScale
    load: LoadScale
    soak: SoakScale
    clients: ClientScale
    rooms: RoomScale
    fanout: FanoutScale
    concurrency: ConcurrencyScale


# Full: about a minute in all on 2 cores. Quick: a smoke test, its numbers are noise.
FULL = Scale(
    fast_calls=3000,
    slow_calls=1000,
    rounds=15,
    import_runs=7,
    memory_calls=1000,
    broadcast=BroadcastScale(connections=1000, runs=7, gone_runs=5),
    load=LoadScale(clients=200, messages=10),
    soak=SoakScale(http_calls=100_000, http_warmup=10_000, traced_calls=20_000, ws_events=10_000),
    clients=FULL_CLIENTS,
    rooms=RoomScale(connections=10_000, members=1_000),
    fanout=FanoutScale(connections=100_000, consumers=10),
    concurrency=FULL_CONCURRENCY,
)
QUICK = Scale(
    fast_calls=200,
    slow_calls=50,
    rounds=3,
    import_runs=2,
    memory_calls=100,
    broadcast=BroadcastScale(connections=200, runs=2, gone_runs=2),
    load=LoadScale(clients=20, messages=10),
    soak=SoakScale(http_calls=10_000, http_warmup=1_000, traced_calls=1_000, ws_events=500),
    clients=QUICK_CLIENTS,
    rooms=RoomScale(connections=1_000, members=100),
    fanout=FanoutScale(connections=20_000, consumers=4),
    concurrency=QUICK_CONCURRENCY,
)


def build_cases(scale: Scale) -> list[Case]:
    fastapi = fastapi_app()
    v2 = http_api_v2_event()
    return [
        Case(
            "a. HTTP API v2 GET, raw app, lifespan off",
            v2,
            Adapter(minimal_app, lifespan="off"),
            Mangum(minimal_app, lifespan="off"),
            scale.fast_calls,
            scale.rounds,
            target=V2_RATIO_TARGET,
        ),
        Case(
            "b. REST v1 GET, raw app, lifespan off",
            rest_v1_event(),
            Adapter(minimal_app, lifespan="off"),
            Mangum(minimal_app, lifespan="off"),
            scale.fast_calls,
            scale.rounds,
        ),
        Case(
            "c. HTTP API v2 GET, lifespan app, auto",
            v2,
            Adapter(lifespan_app, lifespan="auto"),
            Mangum(lifespan_app, lifespan="auto"),
            scale.slow_calls,
            scale.rounds,
            target=LIFESPAN_RATIO_TARGET,
        ),
        Case(
            "d. HTTP API v2 GET /items/42, FastAPI, off",
            http_api_v2_event("/items/42"),
            Adapter(fastapi, lifespan="off"),
            Mangum(fastapi, lifespan="off"),
            scale.slow_calls,
            scale.rounds,
        ),
        Case(
            "e. REST v1 GET, 200 KB binary answer, lifespan off",
            rest_v1_event(),
            Adapter(binary_app, lifespan="off"),
            Mangum(binary_app, lifespan="off"),
            scale.slow_calls,
            scale.rounds,
            target=BINARY_RATIO_TARGET,
        ),
    ]


def latency_table(timings: list[Timing]) -> str:
    rows = [
        [
            timing.case.label,
            f"{timing.ours_us:.2f}",
            f"{timing.mangum_us:.2f}",
            f"{timing.ratio:.3f}",
            "-" if timing.case.target is None else f"<= {timing.case.target:g}",
            verdict(timing.passed),
        ]
        for timing in timings
    ]
    return table(["case", "ours µs/call", "mangum µs/call", "ratio", "target", "result"], rows)


def import_table(costs: list[ImportCost]) -> str:
    rows = []
    for cost in costs:
        passed = cost.cumulative_us <= IMPORT_TARGET_US if cost.package == "asgi_lambda" else None
        rows.append(
            [
                cost.package,
                f"{cost.cumulative_us:.0f}",
                f"{cost.own_self_us:.0f}",
                f"{cost.source_only_us:.0f}",
                " ".join(cost.heavy_loaded) or "none",
                f"<= {IMPORT_TARGET_US}" if passed is not None else "-",
                verdict(passed),
            ]
        )
    header = ["package", "cumulative µs", "own self µs", "no .pyc µs", "boto3/botocore loaded", "target", "result"]
    return table(header, rows)


def store_table(results: list[StoreCounts]) -> str:
    rows = []
    for result in results:
        if result.steady:
            cells = [rw(count) for count in result.steady] + [wire(result.steady)]
        else:
            cells = ["unavailable" if result.unavailable else "error", "-", "-", "-"]
        rows.append([result.name, *cells, expected(result.name), verdict(result.passed)])
    header = ["store", "connect r/w", "message r/w", "disconnect r/w", "wire c / m / d", "expected c / m / d", "result"]
    return table(header, rows)


def broadcast_table(result: BroadcastResult) -> str:
    count = result.scale.connections

    def rate(seconds: float) -> str:
        return f"{count / seconds:.0f}"

    rows = [
        ["cold: the first, opens connections", "1", f"{result.cold_s:.3f}", rate(result.cold_s), "-", "-"],
        [
            "warm: median",
            str(len(result.warm_s)),
            f"{result.warm_median_s:.3f}",
            rate(result.warm_median_s),
            f"< {result.target_s:g}",
            verdict(result.passed),
        ],
        [
            f"{GONE} of them gone (410): median",
            str(len(result.gone_s)),
            f"{result.gone_median_s:.3f}",
            rate(result.gone_median_s),
            "-",
            "-",
        ],
    ]
    return table(["case", "runs", "seconds", "posts/s", "target s", "result"], rows)


def operations_table(results: list[OperationCounts]) -> str:
    rows = []
    for result in results:
        if result.passed is None or result.error:
            cells = ["unavailable" if result.unavailable else "error"] + ["-"] * (len(OPERATIONS) - 1)
        else:
            cells = [
                f"{reads}r {writes}w" + (f" ({wire})" if wire is not None else "")
                for (reads, writes), wire in zip((result.rw(index) for index in range(len(OPERATIONS))), result.wire, strict=True)
            ]
        rows.append([result.name, *cells, verdict(result.passed)])
    return table(["store", *OPERATIONS, "result"], rows)


def room_broadcast_table(results: list[RoomBroadcast]) -> str:
    rows = []
    for result in results:
        if result.unavailable or result.error:
            rows.append([result.name, "unavailable" if result.unavailable else "error", *["-"] * 4, verdict(result.passed)])
            continue
        rows.append(
            [
                result.name,
                f"{result.room_s:.3f}",
                f"{summary(result.room_ops)}" + (f" ({result.room_wire})" if result.room_wire is not None else ""),
                f"{result.all_s:.3f}",
                f"{summary(result.all_ops)}" + (f" ({result.all_wire})" if result.all_wire is not None else ""),
                f"{result.all_s / result.room_s:.1f}",
                verdict(result.passed),
            ]
        )
    header = ["store", "room s", "room: store reads (wire)", "everyone s", "everyone: store reads (wire)", "x faster", "result"]
    return table(header, rows)


def fanout_table(result: FanoutResult) -> str:
    scale = result.scale
    if result.unavailable or result.error:
        return f"   {'unavailable' if result.unavailable else 'error'}: {result.unavailable or result.error}"
    count = scale.connections
    share = count // scale.consumers
    rows = [
        [
            f"queueing {count:,} in the invocation ({result.pages} pages of {scale.page})",
            f"{result.queue_s:.2f}",
            f"<= {QUEUE_TARGET_S * count / 100_000:g}",
            verdict(result.queue_s <= QUEUE_TARGET_S * count / 100_000),
        ],
        [f"one invocation posting all {count:,} (floor {count * 0.005 / 32:.1f} s)", f"{result.one_invocation_s:.2f}", "-", "-"],
        [
            f"each consumer alone, {share:,} posts: slowest (median {statistics.median(result.alone_s):.2f})",
            f"{result.slowest_alone_s:.2f}",
            f"<= {DRAIN_RATIO_TARGET * result.one_invocation_s:.2f} (1/8)",
            verdict(result.slowest_alone_s <= DRAIN_RATIO_TARGET * result.one_invocation_s),
        ],
        [f"{scale.consumers} consumers at once on this machine's {os.cpu_count()} CPUs", f"{result.together_s:.2f}", "-", "-"],
        ["lost / duplicated", f"{result.lost} / {result.duplicated}", "0 / 0", verdict(result.lost == result.duplicated == 0)],
    ]
    return table(["case", "seconds", "target", "result"], rows)


def load_table(results: list[LoadResult]) -> str:
    rows = []
    for result in results:
        if result.unavailable or not result.seconds:
            cells = ["unavailable" if result.unavailable else "error", *["-"] * 7]
        else:
            cells = [
                f"{result.sent:,}",
                str(result.lost),
                str(result.duplicated),
                str(result.out_of_order),
                str(result.records_left),
                f"{result.percentile_ms(50):.1f}",
                f"{result.percentile_ms(99):.1f}",
                f"{len(result.seconds) / result.wall_s:.0f}",
            ]
        rows.append([result.name, *cells, verdict(result.passed)])
    header = ["store", "messages", "lost", "duplicated", "clients out of order", "records left", "p50 ms", "p99 ms", "msg/s", "result"]
    return table(header, rows)


def http_soak_table(result: HttpSoak) -> str:
    from tests.unit.test_soak import GROWTH_LIMIT

    row = [
        f"{result.calls:,} calls, HTTP API v2 GET",
        f"{result.growth_bytes / 1024:+.0f}",
        f"<= {GROWTH_LIMIT // 1024}",
        verdict(result.passed),
    ]
    return table(["case", "RSS growth KiB", "target KiB", "result"], [row])


def traced_table(result: HttpSoak) -> str:
    if not result.top:
        return "   none: no line's traced allocations changed"
    rows = [[where(line), f"{line.size_diff:+,}", f"{line.count_diff:+,}", f"{line.size:,}"] for line in result.top]
    return table(["file:line", "size diff B", "count diff", "size B"], rows)


def ws_soak_table(results: list[WebSocketSoak]) -> str:
    rows = []
    for result in results:
        if result.before is None or result.after is None:
            rows.append([result.name, "unavailable" if result.unavailable else "error", *["-"] * 4, verdict(result.passed)])
            continue
        pairs = [
            (result.before.fds, result.after.fds),
            (result.before.tasks, result.after.tasks),
            (result.before.store_connections, result.after.store_connections),
            (result.before.gateway_connections, result.after.gateway_connections),
        ]
        rows.append([result.name, f"{result.events:,}", *(f"{before} -> {after}" for before, after in pairs), verdict(result.passed)])
    header = ["store", "events", "open fds", "asyncio tasks", "store pool conns", "Mgmt API conns", "result"]
    return table(header, rows)


def print_clients(results: ClientResults, scale: ClientScale) -> None:
    counted = any(result.counted is not None for result in results.cold)
    print(
        f"   a. Cold start, spawn to the first GET /next: median of {scale.spawns} spawns per client, alternating; answers buffered"
        + (
            "; instructions: one spawn per client under callgrind, which the result judges"
            if counted
            else " (no valgrind: no instructions)"
        )
    )
    print(measured_table(results.cold, unit="ms"))
    if counted:
        print(handler_alone_lines(results.cold))
    print("   The echo handler is plain Python: our client loads neither asyncio nor the adapter for it, as awslambdaric does not.")
    print(
        f"   b. Per invocation, event queued to answer: median of {scale.rounds} rounds' means, "
        f"{scale.calls} invocations per client a round, taking turns"
        + (f"; instructions: {COUNTED_INVOCATIONS} more in one spawn per client under callgrind, less its cold start" if counted else "")
    )
    print(measured_table(results.warm, unit="ms/call"))
    first = results.first_byte
    print(
        f"   c. The streaming example (examples/stream, {first.tokens} tokens 50 ms apart), Function URL event; "
        f"median of {scale.streams} runs each"
    )
    rows = [
        ["streamed: ours, ASGI_INVOKE_MODE=response_stream", f"{first.streamed_first_ms:.1f}", f"{first.streamed_end_ms:.1f}"],
        ["buffered: awslambdaric (the managed runtime)", f"{first.buffered_first_ms:.1f}", f"{first.buffered_first_ms:.1f}"],
    ]
    print(table(["mode", "first byte ms", "last byte ms"], rows))
    print(f"   Time to first byte, streamed / buffered: {first.streamed_first_ms / first.buffered_first_ms:.4f}.")


def unavailable_notes(results: list[LoadResult] | list[WebSocketSoak]) -> None:
    for result in results:
        if result.unavailable or result.error:
            print(f"   {result.name}: {'unavailable' if result.unavailable else 'error'}: {result.unavailable or result.error}")


def rooms_sections(scale: Scale) -> list[bool]:
    """Sections 4b, 5b and 5c: rooms and sessions per store, a room's broadcast, fan-out. The checks they pass or fail."""
    print("\n4b. Rooms and sessions: store round trips per operation, steady state, a connection in one room")
    counted = measure_operations()
    print(operations_table(counted))
    print("   r/w as in section 4; (n) = round trips on the wire. Expected:")
    for name in dict.fromkeys(ROOM_EXPECTED):
        expected = " | ".join(f"{reads}r {writes}w" for reads, writes in ROOM_EXPECTED[name])
        print(f"   {name}: {expected}" + (f". {ROOM_HOW[name]}" if name in ROOM_HOW else ""))
    for result in counted:
        if result.unavailable or result.error:
            print(f"   {result.name}: {'unavailable' if result.unavailable else 'error'}: {result.unavailable or result.error}")
    rooms = scale.rooms
    print(
        f"\n5b. Broadcast to a room of {rooms.members:,} within {rooms.connections:,} stored connections, against a broadcast "
        "to all of them (today's), on each store;\n    loopback stub answering at once"
    )
    room_results = measure_room_broadcasts(rooms)
    print(room_broadcast_table(room_results))
    for result in room_results:
        if result.unavailable or result.error:
            print(f"   {result.name}: {'unavailable' if result.unavailable else 'error'}: {result.unavailable or result.error}")
    fanout = scale.fanout
    print(
        f"\n5c. Fan-out over SQS: a broadcast to {fanout.connections:,} connections (memory store), pages of {fanout.page} to the "
        f"moto server's SQS, drained by {fanout.consumers} consumers;\n    Management API stub (benchmarks/fast_stub.py, "
        f"a process of its own) answering each POST after 5 ms"
    )
    fanned = measure_fanout(fanout)
    print(fanout_table(fanned))
    checks = [result.passed for result in counted if result.passed is not None]
    checks += [result.passed for result in room_results if result.passed is not None]
    if fanned.passed is not None:
        checks.append(fanned.passed)
    return checks


def quiet_logging() -> None:
    """WARNING and up only: Mangum logs every request and lifespan step at INFO, and neither
    adapter should spend the measured time formatting log lines."""
    logging.basicConfig(level=logging.WARNING)
    for name in ("mangum", "asgi_lambda"):
        logging.getLogger(name).setLevel(logging.WARNING)


def compression_section(quick: bool) -> None:
    calls, rounds = (2, 2) if quick else (10, 7)
    print(
        f"1b. Response compression (ASGI_COMPRESSION=1): a 1 MB JSON answer through an HTTP API event, median of per-round "
        f"µs/call, {rounds} interleaved rounds of {calls} calls"
    )
    print(compression_table(measure_compression(calls, rounds)))
    print(
        "   + JSON = the handler and the json.dumps the runtime client sends; payload = that JSON's bytes (what the 6 MB limit "
        "measures); body = what the client receives.\n"
    )


def flask_section(scale: Scale, context: Any) -> list[bool]:
    """Section 1c; its targets' results."""
    print(
        f"1c. A Flask app (WSGI): asgi_lambda's Adapter against apig-wsgi and serverless-wsgi, {scale.rounds} interleaved rounds of "
        f"{scale.slow_calls} calls each; cold start: median of {scale.import_runs} fresh interpreters each, taking turns"
    )
    flask_timings, flask_cold = time_flask(scale.slow_calls, scale.rounds, context), cold_start(scale.import_runs)
    print_flask(flask_timings, flask_cold, table, verdict)
    print(
        "   Ours runs the app inline (AWS_LAMBDA_MAX_CONCURRENCY unset), through the same source, cycle and shaping as an ASGI app;\n"
        "   its cold start is the package's import (no asyncio: the app runs without the event loop) and the first call.\n"
    )
    return [timing.passed for timing in flask_timings] + [flask_cold.passed]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="a few seconds; a smoke test, not a measurement")
    parser.add_argument("--strict", action="store_true", help="exit 1 if a target is missed")
    parser.add_argument("--profile", action="store_true", help="also print cProfile's top 15 (tottime) for case a, ours")
    parser.add_argument(
        "--only",
        choices=["latency", "compression", "wsgi", "rooms"],
        help="only section 1 (per-call latency), 1b (compression), 1c (a Flask app), or 4b, 5b and 5c (rooms, sessions, fan-out)",
    )
    args = parser.parse_args(argv)
    quiet_logging()
    scale = QUICK if args.quick else FULL
    context = FakeContext()

    print(
        f"asgi_lambda {version('asgi-lambda')} vs mangum {version('mangum')} "
        f"(fastapi {version('fastapi')}, starlette {version('starlette')})"
    )
    print(f"Python {platform.python_version()} on {platform.system()} {platform.machine()}, {os.cpu_count()} CPUs")
    print(f"Mode: {'QUICK (smoke test; numbers are noise)' if args.quick else 'full'}\n")
    if args.only == "compression":
        compression_section(args.quick)
        return 0
    if args.only == "wsgi":
        flask_checks = flask_section(scale, context)
        return 1 if args.strict and not all(flask_checks) else 0
    if args.only == "rooms":
        checks = rooms_sections(scale)
        print(f"\nTargets met: {sum(checks)} of {len(checks)}")
        return 1 if args.strict and not all(checks) else 0

    print(
        f"1. Per-call latency: median of per-round µs/call, {scale.rounds} interleaved rounds "
        f"of {scale.fast_calls} calls (c, d: {scale.slow_calls}) per adapter"
    )
    timings = [time_case(case, context) for case in build_cases(scale)]
    print(latency_table(timings))
    floor = loop_floor_us(minimal_app, scale.fast_calls, scale.rounds)
    print("   Sanity: both adapters answered 200 with identical bodies and left the events unchanged.")
    over_floor_us = timings[0].ours_us - floor
    print(
        f"   Event-loop floor: the raw app of case a under run_until_complete, no adapter: {floor:.2f} µs/call; "
        f"case a is {over_floor_us:.2f} µs over it (target <= {OVER_FLOOR_TARGET_US:g}): {verdict(over_floor_us <= OVER_FLOOR_TARGET_US)}.\n"
    )
    latency_checks = [timing.passed for timing in timings if timing.passed is not None] + [over_floor_us <= OVER_FLOOR_TARGET_US]
    if args.only == "latency":
        return 1 if args.strict and not all(latency_checks) else 0
    compression_section(args.quick)
    flask_checks = flask_section(scale, context)

    print(
        f"2. Import cost beyond `import asyncio`: median of {scale.import_runs} fresh interpreters (python -X importtime), bytecode cached"
    )
    costs = [measure_import(package, scale.import_runs) for package in ("asgi_lambda", "mangum")]
    print(import_table(costs))
    present = [name for name in HEAVY_PACKAGES if installed(name)]
    print(
        "   cumulative = what `from asgi_lambda import Adapter` (`from mangum import Mangum`) imports at top level; own self = its own modules' self time summed; "
        "no .pyc = cumulative with the package's bytecode removed."
    )
    print(f"   boto3/botocore installed in this venv: {', '.join(present) or 'no'}.\n")

    memory_case = timings[0].case
    ours_kib = peak_kib(memory_case.ours, memory_case.event, context, scale.memory_calls)
    theirs_kib = peak_kib(memory_case.mangum, memory_case.event, context, scale.memory_calls)
    print(f"3. Peak traced memory (tracemalloc) over {scale.memory_calls} calls of case a")
    print(
        table(
            ["case", "ours KiB", "mangum KiB", "ratio"],
            [["a. HTTP API v2 GET", f"{ours_kib:.1f}", f"{theirs_kib:.1f}", f"{ours_kib / theirs_kib:.3f}"]],
        )
    )

    print(
        "\n4. WebSocket store round trips per event: tests/events/ws_connect, ws_message, ws_disconnect through "
        "the Adapter, raw echo app; the second of two cycles"
    )
    store_results = measure_stores()
    print(store_table(store_results))
    print(
        "   r/w = backend reads/writes, counted by hooks in each store's client library (memory and sqlite: "
        "Store method calls, no network);\n"
        "   wire = round trips through a counting TCP relay to the server; result compares r/w with expected. "
        "The message's echo\n"
        "   is one Management API POST besides, to the loopback stub."
    )
    for result in store_results:
        print(note(result))

    broadcast_scale = scale.broadcast
    label = f"{broadcast_scale.connections:,} connections"
    if args.quick:
        label += f" (QUICK: a smoke test, target scaled to {broadcast_scale.connections / 1000 * 0.5:g} s)"
    print(
        f"\n5. Broadcast to {label}: asgi_lambda.websocket.broadcast, memory store, loopback Management API "
        f"stub in this process answering each POST after {DELAY_S * 1000:g} ms"
    )
    sent = measure_broadcast(broadcast_scale, profile=args.profile)
    print(broadcast_table(sent))
    one_at_a_time, bound = floors(sent)
    print(
        f"   Floors: one POST at a time {one_at_a_time:.3f} s; {sent.max_connections} connections per endpoint, "
        f"ceil({broadcast_scale.connections}/{sent.max_connections}) x {DELAY_S * 1000:g} ms = {bound:.3f} s."
    )
    print(
        f"   TCP connections the client opened: {sent.opened_cold} in the cold run, {sent.opened_warm} in the {len(sent.warm_s)} warm runs."
    )
    print(
        f"   CPU per warm run, median: this thread (the broadcast) {statistics.median(sent.own_cpu_s):.3f} s, "
        f"other threads (the stub) {statistics.median(sent.other_cpu_s):.3f} s."
    )
    print(
        f"   Gone: {broadcast_scale.connections - GONE} delivered per run, the {GONE} gone removed from the store; "
        f"{(sent.gone_median_s - sent.warm_median_s) * 1000:+.1f} ms on the warm median."
    )

    room_checks = rooms_sections(scale)

    load_scale = scale.load
    print(
        f"\n6. WebSocket load: {load_scale.clients} clients x {load_scale.messages} messages at once through the local gateway "
        "(asgi-lambda serve, in this process),\n   raw echo app, store chosen by WS_* variables; per message, send to echo"
    )
    load_results = measure_load(load_scale)
    print(load_table(load_results))
    print(
        "   Each client sends its next message once the last one's echo is in; the function takes one event at a time,\n"
        "   so a message's time includes its wait behind the other clients' events. result: nothing lost, duplicated or\n"
        "   out of order, and no record left in the store once the clients have gone."
    )
    unavailable_notes(load_results)

    soak_scale = scale.soak
    print("\n7. Soak: what many invocations leave behind in this process")
    http_soak = measure_http(soak_scale)
    print(
        f"   a. HTTP: resident set growth over {soak_scale.http_calls:,} calls of the Adapter after {soak_scale.http_warmup:,} of warm-up"
    )
    print(http_soak_table(http_soak))
    print(f"   tracemalloc: the {TOP} lines whose allocations changed most over {soak_scale.traced_calls:,} more calls")
    print(traced_table(http_soak))
    from tests.integration.websocket.test_soak import MESSAGES  # tests.* only after the latency and memory sections

    print(
        f"   b. WebSocket: {soak_scale.ws_events:,} events ($connect, {MESSAGES} messages, $disconnect per connection) through the Adapter,\n"
        "   replies to the loopback Management API stub; after warm-up -> at the end"
    )
    ws_soak = measure_websocket(soak_scale.ws_events)
    print(ws_soak_table(ws_soak))
    for soaked in ws_soak:
        if soaked.after is not None:
            print(f"   {soaked.name}: the tasks on the adapter's loop at the end run {', '.join(soaked.tasks) or 'nothing'}.")
    unavailable_notes(ws_soak)

    print(
        "\n8. Runtime API clients: the layer's own (asgi_lambda.runtime_client) against awslambdaric, each in a child "
        "process,\n   through the Runtime API emulator, on the same handlers"
    )
    clients = measure_clients(scale.clients)
    print_clients(clients, scale.clients)

    print(
        "\n9. Invocations at once (AWS_LAMBDA_MAX_CONCURRENCY=N), an app awaiting 50 ms of I/O a request: the layer's client "
        "(one process)\n   against awslambdaric (N processes, one invocation each at a time), through the emulator handing out N at once"
    )
    concurrency = measure_concurrency(scale.concurrency)
    print_concurrency(concurrency)
    print("   Time to answer with a 0.5 s Starlette BackgroundTask, queued to answered, median (and to the next GET /next)")
    print_background(concurrency)

    if args.profile:
        print(f"\n10. cProfile of {scale.fast_calls} calls of case a, asgi_lambda, top 15 by tottime")
        print(profile_top(memory_case.ours, memory_case.event, context, scale.fast_calls).rstrip())
        print(f"\n11. cProfile of one warm broadcast to {broadcast_scale.connections:,} connections, this thread only, top 15 by tottime")
        print((sent.profile or "").rstrip())

    checks = latency_checks + flask_checks
    checks += [cost.cumulative_us <= IMPORT_TARGET_US for cost in costs if cost.package == "asgi_lambda"]
    checks += [result.passed for result in store_results if result.passed is not None]
    checks.append(sent.passed)
    checks += room_checks
    checks += [result.passed for result in load_results if result.passed is not None]
    checks += [soaked.passed for soaked in ws_soak if soaked.passed is not None]
    checks.append(http_soak.passed)
    checks += [result.passed for result in clients.cold if result.passed is not None]
    checks += [pair.passed for pair in clients.warm if pair.passed is not None]
    checks += [passed for passed in (throughput_passed(concurrency), rss_passed(concurrency)) if passed is not None]
    met = sum(checks)
    print(f"\nTargets met: {met} of {len(checks)}")
    return 1 if args.strict and met < len(checks) else 0


if __name__ == "__main__":
    sys.exit(main())
