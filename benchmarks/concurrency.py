"""Invocations at once, as on Lambda Managed Instances (AWS_LAMBDA_MAX_CONCURRENCY=N), and work after
the response, through the Runtime API emulator (asgi_lambda.local.runtime_api) on this machine:

- *concurrency*: an ASGI app whose every request awaits 50 ms of I/O (asyncio.sleep), served with
  N = 8 and 32 by the layer's client (one process, one event loop) and by awslambdaric (which, with
  AWS_LAMBDA_MAX_CONCURRENCY set, forks N processes, each serving one invocation at a time: what
  AWS's Python runtime does). The emulator hands out up to N events at once (`max_concurrency`);
  INVOCATIONS events are queued at once and timed from the first submit to the last answer
  (throughput), each from its submit to its answer (p50, p99). Memory is the resident set of the
  function's whole process tree after the run (/proc), against one single-invocation process of
  the same client (N = 1) that served the same events;
- *after the response*: a Starlette app whose answer carries a 0.5 s BackgroundTask, the time from
  queuing the event to its answer, and to the client's next GET /next: under awslambdaric (the
  answer waits for the task) and under the layer's client (it does not).

    .venv/bin/python -m benchmarks.concurrency [--quick]
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

from .events import http_api_v2_event
from .report import table, verdict

ROOT = Path(__file__).resolve().parent.parent
IO_APP = """
import asyncio

async def app(scope, receive, send):
    if scope["type"] != "http":
        return
    await receive()
    await asyncio.sleep(0.05)  # 50 ms of I/O: a database query, a call to another service
    await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"text/plain")]})
    await send({"type": "http.response.body", "body": b"ok"})
"""
BACKGROUND_APP = """
import asyncio
from starlette.applications import Starlette
from starlette.background import BackgroundTask
from starlette.responses import PlainTextResponse
from starlette.routing import Route

async def half_a_second():
    await asyncio.sleep(0.5)

async def answer(request):
    return PlainTextResponse("ok", background=BackgroundTask(half_a_second))

app = Starlette(routes=[Route("/{path:path}", answer)])
"""
ZERO_CODE = "asgi_lambda.bootstrap.handler"
CLIENTS = {"layer": "asgi_lambda.runtime_client", "awslambdaric": "awslambdaric"}
INVOCATIONS = 320
THROUGHPUT_TARGET_S = 0.8  # 320 invocations with N = 32 (ideal 0.5 s; one at a time 16 s)
RSS_TARGET = 1.5  # the layer's one process against one single-invocation process


@dataclass(frozen=True)
class ConcurrencyScale:
    concurrencies: tuple[int, ...]
    invocations: int
    background_runs: int


FULL_CONCURRENCY = ConcurrencyScale(concurrencies=(8, 32), invocations=INVOCATIONS, background_runs=5)
QUICK_CONCURRENCY = ConcurrencyScale(concurrencies=(8,), invocations=80, background_runs=2)


class Function:
    """One client serving the zero-code handler in a child process, against an emulator of its own."""

    def __init__(self, client: str, task_root: Path, app: str, concurrency: int) -> None:
        self.api = RuntimeAPI(max_concurrency=concurrency if concurrency > 1 else None)
        self.concurrency = concurrency
        env = {
            **{name: value for name, value in os.environ.items() if name != "PYTHONDONTWRITEBYTECODE"},
            "PYTHONPYCACHEPREFIX": str(task_root / "pycache"),
            "AWS_LAMBDA_RUNTIME_API": self.api.address,
            "LAMBDA_TASK_ROOT": str(task_root),
            "AWS_LAMBDA_FUNCTION_NAME": "bench",
            "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
            "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "2048",
            "AWS_EXECUTION_ENV": f"AWS_Lambda_python{sys.version_info.major}.{sys.version_info.minor}",
            "PYTHONPATH": os.pathsep.join([str(task_root), str(ROOT / "layer")]),  # this checkout's package
            "ASGI_APP": app,
            "ASGI_LIFESPAN": "off",
        }
        if concurrency > 1:
            env["AWS_LAMBDA_MAX_CONCURRENCY"] = str(concurrency)
        command = [sys.executable, "-m", CLIENTS[client], ZERO_CODE]
        self.process = subprocess.Popen(command, cwd=task_root, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL)

    def ready(self) -> None:
        """Every worker (every slot) waits on GET /next."""
        deadline = time.monotonic() + 60
        while self.api.next_waiting < self.concurrency:
            if time.monotonic() > deadline or self.process.poll() is not None:
                raise RuntimeError("the function did not get ready within 60 s")
            time.sleep(0.01)

    def rss_kib(self) -> int:
        """The resident set of the process and its children (awslambdaric's forked workers), KiB."""
        return sum(resident_kib(pid) for pid in [self.process.pid, *descendants(self.process.pid)])

    def close(self) -> None:
        # The workers are found before their parent dies: after, they belong to init, and would
        # outlive the run, printing their failed GET /next once the emulator is gone.
        workers = descendants(self.process.pid)
        self.process.kill()
        self.process.wait()
        for pid in workers:
            try:
                os.kill(pid, 9)
            except ProcessLookupError:
                pass
        self.api.close()


def descendants(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            if int(stat.rpartition(")")[2].split()[1]) == pid:
                found += [int(entry.name), *descendants(int(entry.name))]
    return found


def resident_kib(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


@dataclass(frozen=True)
class Run:
    client: str
    concurrency: int
    invocations: int
    wall_s: float
    latencies_s: list[float]
    rss_kib: int

    @property
    def per_second(self) -> float:
        return self.invocations / self.wall_s

    def percentile_ms(self, percent: int) -> float:
        return statistics.quantiles(self.latencies_s, n=100, method="inclusive")[percent - 1] * 1000


def burst(client: str, concurrency: int, invocations: int, task_root: Path) -> Run:
    """`invocations` events queued at once, served `concurrency` at a time."""
    function = Function(client, task_root, "io_app:app", concurrency)
    try:
        function.ready()
        event = http_api_v2_event()
        for _ in range(concurrency):  # warm-up: each worker's first request
            function.api.invoke(event)
        function.ready()
        started = time.monotonic()
        submitted = [(function.api.submit(event), time.monotonic()) for _ in range(invocations)]
        latencies = []
        for request_id, at in submitted:
            answered = function.api.result(request_id, 120)
            if answered is None or not answered.ok:
                raise RuntimeError(f"{client}, N = {concurrency}, did not answer {request_id}: {answered and answered.body[:300]!r}")
            latencies.append(answered.answered - at)
        wall = max(at + latency for (_, at), latency in zip(submitted, latencies, strict=True)) - started
        return Run(client, concurrency, invocations, wall, latencies, function.rss_kib())
    finally:
        function.close()


@dataclass(frozen=True)
class Background:
    client: str
    answer_ms: float  # queued to answered, median
    next_ms: float  # queued to the client's next GET /next, median


def after_the_response(client: str, runs: int, task_root: Path) -> Background:
    function = Function(client, task_root, "background_app:app", 1)
    answers: list[float] = []
    nexts: list[float] = []
    try:
        function.ready()
        event = http_api_v2_event()
        function.api.invoke(event)  # warm-up
        for _ in range(runs):
            while function.api.next_waiting < 1:
                time.sleep(0.005)
            queued = time.monotonic()
            answered = function.api.invoke(event)
            answers.append(answered.answered - queued)
            while not [when for when in function.api.next_times if when > answered.answered]:
                time.sleep(0.005)
            nexts.append([when for when in function.api.next_times if when > answered.answered][0] - queued)
    finally:
        function.close()
    return Background(client, statistics.median(answers) * 1000, statistics.median(nexts) * 1000)


@dataclass(frozen=True)
class ConcurrencyResults:
    runs: list[Run]
    single: dict[str, Run]  # each client, one invocation at a time
    background: list[Background]

    def run(self, client: str, concurrency: int) -> Run:
        return next(run for run in self.runs if run.client == client and run.concurrency == concurrency)


def measure_concurrency(scale: ConcurrencyScale) -> ConcurrencyResults:
    with tempfile.TemporaryDirectory(prefix="bench-concurrency-") as directory:
        task_root = Path(directory)
        (task_root / "io_app.py").write_text(IO_APP)
        (task_root / "background_app.py").write_text(BACKGROUND_APP)
        for client in CLIENTS:  # untimed: writes the bytecode, which a first process would compile (and hold in memory)
            function = Function(client, task_root, "io_app:app", 1)
            try:
                function.ready()
            finally:
                function.close()
        single_count = max(scale.invocations // 16, 10)
        single = {client: burst(client, 1, single_count, task_root) for client in CLIENTS}
        runs = [burst(client, n, scale.invocations, task_root) for n in scale.concurrencies for client in CLIENTS]
        background = [after_the_response(client, scale.background_runs, task_root) for client in ("awslambdaric", "layer")]
    return ConcurrencyResults(runs, single, background)


def throughput_passed(results: ConcurrencyResults) -> bool | None:
    runs = [run for run in results.runs if run.client == "layer" and run.concurrency == 32 and run.invocations == INVOCATIONS]
    return runs[0].wall_s <= THROUGHPUT_TARGET_S if runs else None


def rss_passed(results: ConcurrencyResults) -> bool | None:
    runs = [run for run in results.runs if run.client == "layer" and run.concurrency == 32]
    return runs[0].rss_kib / results.single["layer"].rss_kib <= RSS_TARGET if runs else None


def print_concurrency(results: ConcurrencyResults) -> None:
    rows = []
    for run in results.runs:
        single = results.single[run.client]
        rows.append(
            [
                f"N = {run.concurrency}, {'layer: one process' if run.client == 'layer' else f'awslambdaric: {run.concurrency} processes'}",
                f"{run.invocations}",
                f"{run.wall_s:.3f}",
                f"{run.per_second:.0f}",
                f"{run.percentile_ms(50):.1f}",
                f"{run.percentile_ms(99):.1f}",
                f"{run.rss_kib / 1024:.1f}",
                f"{run.rss_kib / single.rss_kib:.2f}",
            ]
        )
    for client, run in results.single.items():
        rows.append(
            [
                f"N = 1, {client}",
                f"{run.invocations}",
                f"{run.wall_s:.3f}",
                f"{run.per_second:.0f}",
                f"{run.percentile_ms(50):.1f}",
                f"{run.percentile_ms(99):.1f}",
                f"{run.rss_kib / 1024:.1f}",
                "1.00",
            ]
        )
    header = ["case", "invocations", "wall s", "inv/s", "p50 ms", "p99 ms", "RSS MiB", "RSS / one N = 1 process"]
    print(table(header, rows))
    for n in sorted({run.concurrency for run in results.runs}):
        ours, theirs = results.run("layer", n), results.run("awslambdaric", n)
        print(
            f"   N = {n}: throughput layer / awslambdaric {ours.per_second / theirs.per_second:.2f}; "
            f"total RSS layer / awslambdaric {ours.rss_kib / theirs.rss_kib:.3f}"
        )
    print(
        f"   Targets: N = 32, {INVOCATIONS} invocations in <= {THROUGHPUT_TARGET_S} s: {verdict(throughput_passed(results))}; "
        f"RSS of the one process <= {RSS_TARGET}x a single-invocation process: {verdict(rss_passed(results))}"
    )


def print_background(results: ConcurrencyResults) -> None:
    rows = [[entry.client, f"{entry.answer_ms:.1f}", f"{entry.next_ms:.1f}"] for entry in results.background]
    print(table(["client", "answer ms", "next GET /next ms"], rows))
    managed, layer = results.background
    print(f"   Time to answer with a 0.5 s background task, layer / awslambdaric: {layer.answer_ms / managed.answer_ms:.3f}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.concurrency", description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="N = 8 only, fewer invocations: a smoke test")
    args = parser.parse_args(argv)
    results = measure_concurrency(QUICK_CONCURRENCY if args.quick else FULL_CONCURRENCY)
    print(f"Python {sys.version.split()[0]}, {os.cpu_count()} CPUs")
    print_concurrency(results)
    print_background(results)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
