"""`python -m benchmarks.cold_start [--instructions] [--per-invocation] [--spawns N] [--only plain|raw|FastAPI]`: the cold
start of the layer's Runtime API client against awslambdaric's, from spawning `python -m <client>
<handler>` to its first GET /invocation/next, for a plain handler, a raw ASGI app and a FastAPI app
(runtime_clients.py; `make bench` section 8a), all in one run:

- the wall clock: the median of N spawns per client, the two clients alternating;
- with --instructions, the instructions executed over the same span, counted by valgrind's callgrind
  in one spawn per client. A count repeats to within a fraction of a percent whatever the load of the
  machine, where the wall clock of a machine shared with other work wanders by 10% and more; the
  target (ours / awslambdaric <= 0.95) is judged on the counts when they were made.

--per-invocation adds the time per invocation, buffered (both processes up, taking turns round by
round), and with --instructions the instructions per invocation: one more spawn per client under
callgrind serves COUNTED_INVOCATIONS events, less that client's cold start, divided by their number.

Callgrind runs a spawn some 50 times slower: about a minute for the FastAPI app's two.
"""

from __future__ import annotations

import argparse
import platform
import sys
from importlib.metadata import version

from .report import table, verdict
from .runtime_clients import COUNTED_INVOCATIONS, FULL_CLIENTS, Measured, callgrind, measure_cold_starts

ONLY = {"plain": "plain handler", "raw": "raw ASGI app", "FastAPI": "FastAPI app"}


def measured_table(results: list[Measured], *, unit: str) -> str:
    """Wall clock and instructions side by side; `unit` "ms" (one decimal, instructions in millions)
    or "ms/call" (three decimals, instructions in thousands)."""
    decimals, scale, prefix = (1, 1e6, "M") if unit == "ms" else (3, 1e3, "k")
    rows = []
    for result in results:
        wall = result.wall
        counts = ["-", "-", "-"]
        if result.counted is not None and result.instruction_ratio is not None:
            ours, theirs = result.counted
            counts = [f"{ours / scale:.1f}", f"{theirs / scale:.1f}", f"{result.instruction_ratio:.3f}"]
        target = f"<= {wall.target:g}" if wall.target is not None else "-"
        wall_cells = [f"{wall.ours_ms:.{decimals}f}", f"{wall.theirs_ms:.{decimals}f}", f"{wall.ratio:.3f}"]
        rows.append([wall.label, *wall_cells, *counts, target, verdict(result.passed)])
    header = [
        *("handler", f"ours {unit}", f"awslambdaric {unit}", "ratio"),
        *(f"ours {prefix} instr", f"awslambdaric {prefix} instr", "ratio", "target", "result"),
    ]
    return table(header, rows)


def handler_alone_lines(results: list[Measured]) -> str:
    """Each handler's count with no client at all: the bound a client's ratio can approach without
    making the handler's own import cheaper."""
    return "\n".join(
        f"   {result.label}: the interpreter and the handler's import alone, no client, {result.handler_alone / 1e6:.1f}M "
        f"instructions, {ratio:.3f} of awslambdaric's (a client that cost nothing would score that)"
        for result in results
        if result.handler_alone is not None and (ratio := result.handler_alone_ratio) is not None
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.cold_start", description=__doc__.split("\n")[0])
    parser.add_argument("--instructions", action="store_true", help="also count instructions with valgrind's callgrind")
    parser.add_argument("--spawns", type=int, default=15, help="wall-clock spawns per client and handler (default 15)")
    parser.add_argument("--only", choices=sorted(ONLY), help="one handler only")
    parser.add_argument("--per-invocation", action="store_true", help="also time per invocation (and count, with --instructions)")
    args = parser.parse_args(argv)
    if args.instructions and callgrind() is None:
        parser.error("--instructions needs valgrind (apt-get install valgrind)")
    print(f"Python {platform.python_version()}, awslambdaric {version('awslambdaric')}, {sys.executable}")
    per_invocation = FULL_CLIENTS if args.per_invocation else None
    cold, warm = measure_cold_starts(args.spawns, count=args.instructions, only=ONLY.get(args.only or ""), per_invocation=per_invocation)
    print(f"Cold start, spawn to the first GET /next: median of {args.spawns} spawns per client, alternating", end="")
    print("; instructions: one spawn per client under callgrind" if args.instructions else "")
    print(measured_table(cold, unit="ms"))
    if args.instructions:
        print(handler_alone_lines(cold))
    if warm:
        scale = FULL_CLIENTS
        print(
            f"Per invocation, queued to answered: median of {scale.rounds} rounds' means, {scale.calls} invocations per client a round, "
            "taking turns"
            + (f"; instructions: {COUNTED_INVOCATIONS} more in one spawn per client, less its cold start" if args.instructions else "")
        )
        print(measured_table(warm, unit="ms/call"))
    return 0 if all(result.passed is not False for result in [*cold, *warm]) else 1


if __name__ == "__main__":
    sys.exit(main())
