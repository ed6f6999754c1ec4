"""Invocations through the Runtime API emulator (asgi_lambda.local.runtime_api) with a runtime client,
the real awslambdaric or the layer's own (`--client`), as `asgi-lambda serve --runtime` and
tests/integration/runtime/ use them.

`python -m awslambdaric echo.handler` (or `-m asgi_lambda.runtime_client`) runs in a child process
against the emulator; each invocation is timed from queuing it to its result: the event handed out on
GET /next, the handler's answer POSTed back. The handler returns its event at once, so the figure is
the emulator and the runtime client, nothing else. With `--max-concurrency N`, the emulator hands out
up to N events at once and the function gets AWS_LAMBDA_MAX_CONCURRENCY=N (Lambda Managed Instances:
awslambdaric forks N processes, the layer's client serves N at once on its event loop); the timed
invocations are then queued all at once.

Two cases per event size: the emulator as it serves (HTTP/1.0, a connection per request), and
kept alive (HTTP/1.1, as a Runtime API on an HTTP/1.1 server speaks: awslambdaric's client then
keeps one connection for every /next and /response). A delayed-ACK stall, a reply written in two
parts whose second waits under Nagle's algorithm for the client's delayed ACK of the first, shows
only on a kept-alive connection, as about 40 ms per reply.

    .venv/bin/python -m benchmarks.runtime_api [--invocations N] [--client layer|awslambdaric] [--max-concurrency N]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from asgi_lambda.local.runtime_api import RuntimeAPI

from .report import table

HANDLER = "def handler(event, context):\n    return event\n"
WARMUP = 20
CLIENTS = {"awslambdaric": "awslambdaric", "layer": "asgi_lambda.runtime_client"}
ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class RuntimeTiming:
    invocations: int
    payload_bytes: int
    keep_alive: bool
    seconds: list[float]  # per invocation, in order
    wall_s: float = 0.0  # from the first queued to the last answered
    max_concurrency: int = 1

    def percentile_ms(self, percent: int) -> float:
        return statistics.quantiles(self.seconds, n=100, method="inclusive")[percent - 1] * 1000

    @property
    def per_second(self) -> float:
        return len(self.seconds) / (self.wall_s or sum(self.seconds))


def measure_runtime_api(
    invocations: int, *, payload_bytes: int = 100, keep_alive: bool = False, client: str = "awslambdaric", max_concurrency: int = 1
) -> RuntimeTiming:
    """Time `invocations` invocations (after WARMUP untimed ones) of an echo handler: one after the
    other, or with `max_concurrency` above 1, queued at once."""
    event = {"data": "x" * payload_bytes}
    limit = max_concurrency if max_concurrency > 1 else None
    with tempfile.TemporaryDirectory(prefix="bench-runtime-api-") as task_root, RuntimeAPI(max_concurrency=limit) as api:
        if keep_alive:  # this emulator's own handler class: no other emulator is affected
            api._server.RequestHandlerClass.protocol_version = "HTTP/1.1"  # type: ignore[attr-defined]
        Path(task_root, "echo.py").write_text(HANDLER)
        env = {
            **os.environ,
            "AWS_LAMBDA_RUNTIME_API": api.address,
            "LAMBDA_TASK_ROOT": task_root,
            "AWS_LAMBDA_FUNCTION_NAME": "bench",
            "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
            "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "128",
            "AWS_EXECUTION_ENV": f"AWS_Lambda_python{sys.version_info.major}.{sys.version_info.minor}",
            "PYTHONPATH": os.pathsep.join([task_root, str(ROOT / "layer")]),  # this checkout's package
        }
        if max_concurrency > 1:
            env["AWS_LAMBDA_MAX_CONCURRENCY"] = str(max_concurrency)
        command = [sys.executable, "-m", CLIENTS[client], "echo.handler"]
        process = subprocess.Popen(command, cwd=task_root, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL)
        try:
            deadline = time.monotonic() + 30
            while api.next_waiting < max_concurrency:  # every worker (every slot) ready
                if time.monotonic() > deadline:
                    raise RuntimeError(f"{client} did not call /next within 30 s")
                time.sleep(0.01)
            for _ in range(WARMUP):
                api.invoke(event)
            if max_concurrency == 1:
                seconds = []
                for _ in range(invocations):
                    started = time.perf_counter()
                    result = api.invoke(event)
                    seconds.append(time.perf_counter() - started)
                    if result.payload != event:
                        raise RuntimeError(f"the echo handler answered {str(result.payload)[:200]}")
                return RuntimeTiming(invocations, payload_bytes, keep_alive, seconds)
            first = time.monotonic()
            queued = [(api.submit(event), time.monotonic()) for _ in range(invocations)]
            answers = [(api.result(request_id, 60), at) for request_id, at in queued]
            if any(answer is None or answer.payload != event for answer, _ in answers):
                raise RuntimeError("the echo handler did not answer every event")
            seconds = [answer.answered - at for answer, at in answers if answer]
            wall = max(answer.answered for answer, _ in answers if answer) - first
            return RuntimeTiming(invocations, payload_bytes, keep_alive, seconds, wall, max_concurrency)
        finally:
            process.kill()
            process.wait()


def timing_table(timings: list[RuntimeTiming]) -> str:
    rows = [
        [
            f"{timing.payload_bytes:,} B event, {'HTTP/1.1 kept alive' if timing.keep_alive else 'HTTP/1.0 as served'}"
            + (f", {timing.max_concurrency} at once" if timing.max_concurrency > 1 else ""),
            f"{timing.invocations:,}",
            f"{timing.percentile_ms(50):.2f}",
            f"{timing.percentile_ms(99):.2f}",
            f"{max(timing.seconds) * 1000:.2f}",
            f"{timing.per_second:.0f}",
        ]
        for timing in timings
    ]
    return table(["case", "invocations", "p50 ms", "p99 ms", "max ms", "invocations/s"], rows)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.runtime_api", description=__doc__.split("\n")[0])
    parser.add_argument("--invocations", type=int, default=500, help="timed invocations per case (default: 500)")
    parser.add_argument("--client", choices=list(CLIENTS), default="awslambdaric", help="the runtime client (default: awslambdaric)")
    parser.add_argument(
        "--max-concurrency",
        type=int,
        default=1,
        metavar="N",
        help="hand out up to N events at once, as Lambda Managed Instances (default: 1)",
    )
    args = parser.parse_args(argv)
    from importlib.metadata import version

    print(f"Runtime API emulator with {args.client} (awslambdaric {version('awslambdaric')}), Python {sys.version.split()[0]}")
    cases = [(size, keep_alive) for keep_alive in (False, True) for size in (100, 100_000)]
    timings = [
        measure_runtime_api(
            args.invocations, payload_bytes=size, keep_alive=keep_alive, client=args.client, max_concurrency=args.max_concurrency
        )
        for size, keep_alive in cases
    ]
    print(timing_table(timings))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
