"""Invocations through the Runtime API emulator (asgi_lambda.local.runtime_api) with the real
awslambdaric, as `asgi-lambda serve --runtime` and tests/runtime/ use it.

`python -m awslambdaric echo.handler` runs in a child process against the emulator; each
invocation is timed from `RuntimeAPI.invoke` to the result: the event handed out on GET /next,
the handler's answer POSTed back. The handler returns its event at once, so the figure is the
emulator and the runtime client, nothing else.

Two cases per event size: the emulator as it serves (HTTP/1.0, a connection per request), and
kept alive (HTTP/1.1, as a Runtime API on an HTTP/1.1 server speaks: awslambdaric's client then
keeps one connection for every /next and /response). A delayed-ACK stall, a reply written in two
parts whose second waits under Nagle's algorithm for the client's delayed ACK of the first, shows
only on a kept-alive connection, as about 40 ms per reply.

    .venv/bin/python -m benchmarks.runtime_api [--invocations N]
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


@dataclass(frozen=True)
class RuntimeTiming:
    invocations: int
    payload_bytes: int
    keep_alive: bool
    seconds: list[float]  # per invocation, in order

    def percentile_ms(self, percent: int) -> float:
        return statistics.quantiles(self.seconds, n=100, method="inclusive")[percent - 1] * 1000

    @property
    def per_second(self) -> float:
        return len(self.seconds) / sum(self.seconds)


def measure_runtime_api(invocations: int, *, payload_bytes: int = 100, keep_alive: bool = False) -> RuntimeTiming:
    """Time `invocations` sequential invocations (after WARMUP untimed ones) of an echo handler."""
    event = {"data": "x" * payload_bytes}
    with tempfile.TemporaryDirectory(prefix="bench-runtime-api-") as task_root, RuntimeAPI() as api:
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
        }
        command = [sys.executable, "-m", "awslambdaric", "echo.handler"]
        process = subprocess.Popen(command, cwd=task_root, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL)
        try:
            if not api.wait_ready(30):
                raise RuntimeError("awslambdaric did not call /next within 30 s")
            for _ in range(WARMUP):
                api.invoke(event)
            seconds = []
            for _ in range(invocations):
                started = time.perf_counter()
                result = api.invoke(event)
                seconds.append(time.perf_counter() - started)
                if result.payload != event:
                    raise RuntimeError(f"the echo handler answered {str(result.payload)[:200]}")
        finally:
            process.kill()
            process.wait()
    return RuntimeTiming(invocations, payload_bytes, keep_alive, seconds)


def timing_table(timings: list[RuntimeTiming]) -> str:
    rows = [
        [
            f"{timing.payload_bytes:,} B event, {'HTTP/1.1 kept alive' if timing.keep_alive else 'HTTP/1.0 as served'}",
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
    args = parser.parse_args(argv)
    from importlib.metadata import version

    print(f"Runtime API emulator with awslambdaric {version('awslambdaric')}, Python {sys.version.split()[0]}")
    cases = [(size, keep_alive) for keep_alive in (False, True) for size in (100, 100_000)]
    timings = [measure_runtime_api(args.invocations, payload_bytes=size, keep_alive=keep_alive) for size, keep_alive in cases]
    print(timing_table(timings))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
