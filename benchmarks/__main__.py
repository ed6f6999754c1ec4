"""`python -m benchmarks [--quick] [--profile] [--strict]`: asgi_lambda's Adapter against Mangum 0.22.

Prints per-call latency (interleaved, one process), import cost (fresh interpreters) and
peak memory, with PASS/FAIL against the targets. See benchmarks/README.md.
"""

from __future__ import annotations

import argparse
import logging
import os
import platform
import sys
from dataclasses import dataclass
from importlib.metadata import version

from mangum import Mangum

from asgi_lambda import Adapter

from .apps import fastapi_app, lifespan_app, minimal_app
from .events import FakeContext, http_api_v2_event, rest_v1_event
from .imports import HEAVY_PACKAGES, ImportCost, installed, measure_import
from .latency import Case, Timing, loop_floor_us, peak_kib, profile_top, time_case
from .report import table, verdict

V2_RATIO_TARGET = 0.6
IMPORT_TARGET_US = 3000


@dataclass(frozen=True)
class Scale:
    fast_calls: int  # per adapter per round, for the cheap cases
    slow_calls: int  # the same, where Mangum's per-call lifespan or FastAPI makes calls dear
    rounds: int
    import_runs: int
    memory_calls: int


# Full: about 15 s in all on 2 cores. Quick: a smoke test, its numbers are noise.
FULL = Scale(fast_calls=3000, slow_calls=1000, rounds=15, import_runs=7, memory_calls=1000)
QUICK = Scale(fast_calls=200, slow_calls=50, rounds=3, import_runs=2, memory_calls=100)


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
        ),
        Case(
            "d. HTTP API v2 GET /items/42, FastAPI, off",
            http_api_v2_event("/items/42"),
            Adapter(fastapi, lifespan="off"),
            Mangum(fastapi, lifespan="off"),
            scale.slow_calls,
            scale.rounds,
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


def quiet_logging() -> None:
    """WARNING and up only: Mangum logs every request and lifespan step at INFO, and neither
    adapter should spend the measured time formatting log lines."""
    logging.basicConfig(level=logging.WARNING)
    for name in ("mangum", "asgi_lambda"):
        logging.getLogger(name).setLevel(logging.WARNING)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="a few seconds; a smoke test, not a measurement")
    parser.add_argument("--strict", action="store_true", help="exit 1 if a target is missed")
    parser.add_argument("--profile", action="store_true", help="also print cProfile's top 15 (tottime) for case a, ours")
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

    print(
        f"1. Per-call latency: median of per-round µs/call, {scale.rounds} interleaved rounds "
        f"of {scale.fast_calls} calls (c, d: {scale.slow_calls}) per adapter"
    )
    timings = [time_case(case, context) for case in build_cases(scale)]
    print(latency_table(timings))
    floor = loop_floor_us(minimal_app, scale.fast_calls, scale.rounds)
    print("   Sanity: both adapters answered 200 with identical bodies and left the events unchanged.")
    print(
        f"   Event-loop floor: the raw app of case a under run_until_complete, no adapter: {floor:.2f} µs/call "
        f"(a's target allows ours {V2_RATIO_TARGET * timings[0].mangum_us:.2f}).\n"
    )

    print(
        f"2. Import cost beyond `import asyncio`: median of {scale.import_runs} fresh interpreters "
        "(python -X importtime), bytecode cached"
    )
    costs = [measure_import(package, scale.import_runs) for package in ("asgi_lambda", "mangum")]
    print(import_table(costs))
    present = [name for name in HEAVY_PACKAGES if installed(name)]
    print(
        "   cumulative = the top-level import line; own self = its own modules' self time summed; "
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

    if args.profile:
        print(f"\n4. cProfile of {scale.fast_calls} calls of case a, asgi_lambda, top 15 by tottime")
        print(profile_top(memory_case.ours, memory_case.event, context, scale.fast_calls).rstrip())

    checks = [timing.passed for timing in timings if timing.passed is not None]
    checks += [cost.cumulative_us <= IMPORT_TARGET_US for cost in costs if cost.package == "asgi_lambda"]
    met = sum(checks)
    print(f"\nTargets met: {met} of {len(checks)}")
    return 1 if args.strict and met < len(checks) else 0


if __name__ == "__main__":
    sys.exit(main())
