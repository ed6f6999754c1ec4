"""The layer's own Runtime API client (asgi_lambda.runtime_client) against the managed runtime's
(awslambdaric), each in a child process of the same interpreter, through the Runtime API emulator
(asgi_lambda.local.runtime_api), on the same handlers:

- *cold start*: from spawning the process to its first `GET /invocation/next` (imports, the
  handler's init, the client's setup), the median of several spawns, the two clients alternating;
  and, with valgrind installed, the instructions the same span executes, counted by callgrind in
  one spawn of each client: repeatable to a fraction of a percent whatever else the machine runs,
  where the wall clock on a shared machine is not (`python -m benchmarks.cold_start`);
- *per invocation*: from queuing an event to its answer, the median of per-round means, the two
  processes taking turns round by round (as latency.py interleaves the adapters);
- *time to first byte* of the streaming example (examples/stream, a token every 50 ms): streamed by
  our client (a Function URL event, ASGI_INVOKE_MODE=response_stream) against buffered by awslambdaric
  (the whole reply at the end, as under the managed runtime today); the first byte is the first
  token's event in the body.

The handlers: `echo.handler` (returns its event; no ASGI) and the layer's zero-code handler with a
raw ASGI app answering 200 `ok`, and with a FastAPI app, to an HTTP API event (answered whole by
both clients). Bytecode is
cached in a throwaway PYTHONPYCACHEPREFIX, as a layer and the runtime ship it, and one spawn of
each client before the timed ones writes it: with PYTHONDONTWRITEBYTECODE set, every spawn would
compile whatever has no cached bytecode yet, and time the compiler.
"""

from __future__ import annotations

import importlib
import json
import os
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from asgi_lambda.local.runtime_api import RuntimeAPI

from .events import http_api_v2_event

ROOT = Path(__file__).resolve().parent.parent
ECHO = "def handler(event, context):\n    return event\n"
APP = """
async def app(scope, receive, send):
    if scope["type"] != "http":
        return
    await receive()
    await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"text/plain")]})
    await send({"type": "http.response.body", "body": b"ok"})
"""
FASTAPI_APP = """
from fastapi import FastAPI

app = FastAPI()


@app.get("/items/{item_id}")
async def item(item_id: int) -> dict[str, int]:
    return {"item_id": item_id}
"""
ZERO_CODE = "asgi_lambda.bootstrap.handler"
CLIENTS = {"ours": "asgi_lambda.runtime_client", "awslambdaric": "awslambdaric"}
# Not a client: the interpreter and the handler's import alone, what any client pays before its
# first GET /next. It ends itself with the signal that ends a counted client (no interpreter
# shutdown is counted on either side).
HANDLER_ALONE = "handler alone"
HANDLER_ALONE_SCRIPT = """
import importlib, os, signal, sys
module, _, name = sys.argv[1].rpartition(".")
getattr(importlib.import_module(module), name)
os.kill(os.getpid(), signal.SIGUSR2)
"""
WARMUP = 20
COUNTED_INVOCATIONS = 50  # per client under callgrind, for the instructions per invocation
COLD_TARGET = 0.95  # cold start, ours / awslambdaric (issue #20)
RATIO_TARGET = 1.0  # per invocation, buffered: no slower than awslambdaric


@dataclass(frozen=True)
class ClientScale:
    spawns: int  # cold starts per client and handler
    calls: int  # invocations per client per round
    rounds: int
    streams: int  # runs of the streaming example per mode


FULL_CLIENTS = ClientScale(spawns=15, calls=100, rounds=7, streams=5)
QUICK_CLIENTS = ClientScale(spawns=3, calls=20, rounds=2, streams=2)


@dataclass(frozen=True)
class Handler:
    label: str
    name: str  # module.attribute
    env: dict[str, str]
    event: Any
    target: bool = True  # "no slower than awslambdaric" (issue #13)


@dataclass(frozen=True)
class Pair:
    """One figure for each client: milliseconds, and the ratio ours / awslambdaric must not pass (None: no target)."""

    label: str
    ours_ms: float
    theirs_ms: float
    target: float | None

    @property
    def ratio(self) -> float:
        return self.ours_ms / self.theirs_ms

    @property
    def passed(self) -> bool | None:
        return self.ratio <= self.target if self.target is not None else None


class Function:
    """One client serving one handler in a child process, against an emulator of its own. `prefix`
    runs the interpreter under another command (valgrind), with `env` added and stderr piped."""

    def __init__(
        self, client: str, handler: Handler, task_root: Path, *, prefix: tuple[str, ...] = (), env: dict[str, str] | None = None
    ) -> None:
        self.api = RuntimeAPI()
        environ = {
            **{name: value for name, value in os.environ.items() if name != "PYTHONDONTWRITEBYTECODE"},
            "PYTHONPYCACHEPREFIX": str(task_root / "pycache"),
            "AWS_LAMBDA_RUNTIME_API": self.api.address,
            "LAMBDA_TASK_ROOT": str(task_root),
            "AWS_LAMBDA_FUNCTION_NAME": "bench",
            "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
            "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "128",
            "AWS_EXECUTION_ENV": f"AWS_Lambda_python{sys.version_info.major}.{sys.version_info.minor}",
            # This checkout's package, whatever the venv's editable install points at.
            "PYTHONPATH": os.pathsep.join([str(task_root), str(ROOT / "examples"), str(ROOT / "layer")]),
            **handler.env,
        }
        launch = ("-c", HANDLER_ALONE_SCRIPT) if client == HANDLER_ALONE else ("-m", CLIENTS[client])
        command = [*prefix, sys.executable, *launch, handler.name]
        stderr = subprocess.PIPE if prefix else None
        self.started = time.perf_counter()
        self.process = subprocess.Popen(
            command, cwd=task_root, env=environ | (env or {}), stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=stderr
        )

    def ready(self, timeout: float = 60) -> float:
        """Seconds from the spawn to the first GET /next."""
        if not self.api.wait_ready(timeout):
            raise RuntimeError(f"the runtime client did not call /next within {timeout:g} s")
        return time.perf_counter() - self.started

    def close(self) -> None:
        self.process.kill()
        self.process.wait()
        self.api.close()


def handlers() -> list[Handler]:
    """Each answered buffered (an HTTP API event), as the managed runtime answers it."""
    return [
        # A plain handler: the client must not load asyncio or the adapter for it.
        Handler("plain handler (echo), no ASGI", "echo.handler", {}, {"data": "x" * 100}),
        Handler("raw ASGI app, HTTP API event", ZERO_CODE, {"ASGI_APP": "app:app"}, http_api_v2_event()),
        Handler("FastAPI app, HTTP API event", ZERO_CODE, {"ASGI_APP": "fastapi_app:app"}, http_api_v2_event("/items/42")),
    ]


@dataclass(frozen=True)
class Measured:
    """One handler's figure for both clients: the wall clock (`wall`, in ms) and, when valgrind is
    installed, the instructions executed (`counted`: ours, awslambdaric's). The target is judged on the
    instructions when they were counted, since they repeat; else on the wall clock."""

    wall: Pair
    counted: tuple[float, float] | None
    handler_alone: float | None = None  # instructions of the interpreter and the handler's import, no client

    @property
    def handler_alone_ratio(self) -> float | None:
        """What a client that cost nothing would score: the handler alone / awslambdaric."""
        return None if self.counted is None or self.handler_alone is None else self.handler_alone / self.counted[1]

    @property
    def label(self) -> str:
        return self.wall.label

    @property
    def instruction_ratio(self) -> float | None:
        return None if self.counted is None else self.counted[0] / self.counted[1]

    @property
    def passed(self) -> bool | None:
        ratio, target = self.instruction_ratio, self.wall.target
        if ratio is None or target is None:
            return self.wall.passed
        return ratio <= target


def callgrind() -> str | None:
    """valgrind, if installed."""
    return shutil.which("valgrind")


def instructions(client: str, handler: Handler, task_root: Path, *, invocations: int = 0) -> int:
    """The instructions one spawn executes up to its first GET /next, and through `invocations`
    invocations after it (each answered before the next is queued), counted by callgrind. SIGUSR2,
    which neither client handles, then ends the process while it waits for the next event; valgrind
    reports its count as the process ends. The hash seed is fixed, so that each count repeats."""
    valgrind = callgrind()
    if valgrind is None:
        raise RuntimeError("valgrind is not installed")
    prefix = (valgrind, "--tool=callgrind", "--callgrind-out-file=/dev/null")
    function = Function(client, handler, task_root, prefix=prefix, env={"PYTHONHASHSEED": "0"})
    try:
        if client == HANDLER_ALONE:
            _, stderr = function.process.communicate(timeout=900)
            return collected(client, stderr)
        function.ready(timeout=900)
        for _ in range(invocations):
            answered = function.api.invoke(handler.event, timeout=300)
            if not answered.ok:
                raise RuntimeError(f"{client} failed the {handler.label}: {answered.body[:300]!r}")
        waited = time.monotonic() + 300
        while function.api.next_calls <= invocations:  # the last answer's work after it, to the next GET
            if time.monotonic() > waited:
                raise RuntimeError(f"{client} did not ask for an event after the last invocation within 300 s")
            time.sleep(0.01)
        function.process.send_signal(signal.SIGUSR2)
        _, stderr = function.process.communicate(timeout=300)
    finally:
        function.close()
    return collected(client, stderr)


def collected(client: str, stderr: bytes) -> int:
    """The count callgrind reports as the process ends."""
    counted = re.search(rb"Collected : (\d+)", stderr)
    if counted is None:
        raise RuntimeError(f"callgrind counted nothing for {client}: {stderr[-500:]!r}")
    return int(counted.group(1))


def cold_starts(handler: Handler, spawns: int, task_root: Path, *, count: bool = False) -> Measured:
    """Wall clock: `spawns` spawns per client, alternating, after one untimed spawn each; with
    `count`, then one spawn per client under callgrind."""
    seconds: dict[str, list[float]] = {"ours": [], "awslambdaric": []}
    for client in CLIENTS:  # untimed: writes the bytecode
        function = Function(client, handler, task_root)
        try:
            function.ready()
        finally:
            function.close()
    for spawn in range(spawns):
        order = ("ours", "awslambdaric") if spawn % 2 == 0 else ("awslambdaric", "ours")
        for client in order:
            function = Function(client, handler, task_root)
            try:
                seconds[client].append(function.ready())
            finally:
                function.close()
    target = COLD_TARGET if handler.target else None
    wall = Pair(handler.label, statistics.median(seconds["ours"]) * 1000, statistics.median(seconds["awslambdaric"]) * 1000, target)
    if not count:
        return Measured(wall, None)
    counted = (instructions("ours", handler, task_root), instructions("awslambdaric", handler, task_root))
    return Measured(wall, counted, instructions(HANDLER_ALONE, handler, task_root))


def invocations(handler: Handler, scale: ClientScale, task_root: Path, *, cold: Measured | None = None) -> Measured:
    """Wall clock: both processes up, taking turns round by round. With `cold` counted (the same
    handler's cold start), then the instructions of `COUNTED_INVOCATIONS` more in one spawn per
    client, less the cold start's, per invocation."""
    functions = {client: Function(client, handler, task_root) for client in CLIENTS}
    try:
        for client, function in functions.items():
            function.ready()
            for _ in range(WARMUP):
                answered = function.api.invoke(handler.event)
                if not answered.ok:
                    raise RuntimeError(f"{client} failed the {handler.label}: {answered.body[:300]!r}")
        means: dict[str, list[float]] = {client: [] for client in CLIENTS}
        for round_number in range(scale.rounds):
            order = list(CLIENTS) if round_number % 2 == 0 else list(CLIENTS)[::-1]
            for client in order:
                api = functions[client].api
                started = time.perf_counter()
                for _ in range(scale.calls):
                    api.invoke(handler.event)
                means[client].append((time.perf_counter() - started) / scale.calls)
    finally:
        for function in functions.values():
            function.close()
    target = RATIO_TARGET if handler.target else None
    wall = Pair(handler.label, statistics.median(means["ours"]) * 1000, statistics.median(means["awslambdaric"]) * 1000, target)
    if cold is None or cold.counted is None:
        return Measured(wall, None)
    ours, theirs = (
        (instructions(client, handler, task_root, invocations=COUNTED_INVOCATIONS) - start) / COUNTED_INVOCATIONS
        for client, start in zip(CLIENTS, cold.counted, strict=True)
    )
    return Measured(wall, (ours, theirs))


@dataclass(frozen=True)
class FirstByte:
    """The streaming example's reply: time to its first token and to its end, in ms (medians)."""

    streamed_first_ms: float
    streamed_end_ms: float
    buffered_first_ms: float  # buffered: the first byte comes with the last
    tokens: int


def stream_event() -> dict[str, Any]:
    """A Function URL event for the example's token stream (payload 2.0 on a lambda-url domain)."""
    event = http_api_v2_event("/tokens", "prompt=hi")
    domain = "abcdefghij0123456789klmnop.lambda-url.eu-west-1.on.aws"
    event["headers"]["host"] = event["requestContext"]["domainName"] = domain
    event["requestContext"]["domainPrefix"] = event["requestContext"]["apiId"] = domain.split(".")[0]
    return event


def first_bytes(runs: int, task_root: Path) -> FirstByte:
    sys.path.insert(0, str(ROOT / "examples"))
    try:
        reply = importlib.import_module("stream.main").reply  # the example's tokens, to know the first one
    finally:
        sys.path.remove(str(ROOT / "examples"))
    first = f"data: {json.dumps(reply('hi')[0])}".encode()  # as the example writes each token
    env = {"ASGI_APP": "stream.main:app"}
    streamed = Function("ours", Handler("stream", ZERO_CODE, {**env, "ASGI_INVOKE_MODE": "response_stream"}, None), task_root)
    buffered = Function("awslambdaric", Handler("stream", ZERO_CODE, env, None), task_root)
    starts: list[float] = []
    ends: list[float] = []
    whole: list[float] = []
    try:
        streamed.ready()
        buffered.ready()
        for _ in range(runs):
            request_id = streamed.api.submit(stream_event())
            submitted = time.monotonic()
            stream = streamed.api.stream(request_id, 30)
            result = streamed.api.result(request_id, 30)
            if stream is None or result is None or not stream.complete:
                raise RuntimeError("the streaming example did not stream")
            arrived = stream.arrived(first)
            if arrived is None:
                raise RuntimeError(f"no {first!r} in the stream: {stream.body[:200]!r}")
            starts.append(arrived - submitted)
            ends.append(stream.chunks[-1][0] - submitted)
            started = time.perf_counter()
            answered = buffered.api.invoke(stream_event())
            whole.append(time.perf_counter() - started)
            if not answered.ok or first.decode() not in str(answered.payload):
                raise RuntimeError(f"the buffered example answered {str(answered.payload)[:200]}")
    finally:
        streamed.close()
        buffered.close()
    return FirstByte(statistics.median(starts) * 1000, statistics.median(ends) * 1000, statistics.median(whole) * 1000, len(reply("hi")))


@dataclass(frozen=True)
class ClientResults:
    cold: list[Measured]
    warm: list[Measured]
    first_byte: FirstByte


def write_task_root(task_root: Path) -> None:
    """The handlers' modules."""
    (task_root / "echo.py").write_text(ECHO)
    (task_root / "app.py").write_text(APP)
    (task_root / "fastapi_app.py").write_text(FASTAPI_APP)


def measure_cold_starts(
    spawns: int, *, count: bool, only: str | None = None, per_invocation: ClientScale | None = None
) -> tuple[list[Measured], list[Measured]]:
    """Each handler's cold start (only those whose label starts with `only`, if given), and with
    `per_invocation` its time per invocation too (none without)."""
    with tempfile.TemporaryDirectory(prefix="bench-cold-start-") as directory:
        task_root = Path(directory)
        write_task_root(task_root)
        chosen = [handler for handler in handlers() if only is None or handler.label.startswith(only)]
        cold = [cold_starts(handler, spawns, task_root, count=count) for handler in chosen]
        if per_invocation is None:
            return cold, []
        return cold, [invocations(handler, per_invocation, task_root, cold=start) for handler, start in zip(chosen, cold, strict=True)]


def measure_clients(scale: ClientScale) -> ClientResults:
    with tempfile.TemporaryDirectory(prefix="bench-runtime-clients-") as directory:
        task_root = Path(directory)
        write_task_root(task_root)
        cold = [cold_starts(handler, scale.spawns, task_root, count=callgrind() is not None) for handler in handlers()]
        warm = [invocations(handler, scale, task_root, cold=start) for handler, start in zip(handlers(), cold, strict=True)]
        first_byte = first_bytes(scale.streams, task_root)
    return ClientResults(cold, warm, first_byte)
