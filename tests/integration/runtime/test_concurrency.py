"""Lambda Managed Instances: with AWS_LAMBDA_MAX_CONCURRENCY=N the Runtime API hands out up to N events at
once (the emulator's `max_concurrency`), and the layer's client serves them at once, in one process, on
one event loop. The apps below wait at a barrier until all N invocations have arrived: served one at a
time, they would never answer. What is per invocation must stay its own; what is per environment (the
lifespan, the WebSocket store) is made once.
"""

from __future__ import annotations

import json
import signal
import textwrap
import time
from pathlib import Path
from typing import Any

import pytest

from asgi_lambda.docs import fix
from asgi_lambda.local.runtime_api import Invocation
from tests.support.events import load_event
from tests.support.management_api import ManagementAPIStub
from tests.support.paths import directory_outside_tmp
from tests.support.runtime.harness import FunctionProcess
from tests.support.runtime.layer import function, unpack
from tests.support.runtime.wire import TOO_LARGE, tap

N = 4

APP = """
    import asyncio, json, logging, os, pathlib

    N = int(os.environ["AWS_LAMBDA_MAX_CONCURRENCY"])
    log = logging.getLogger("app")
    startups = 0
    arrived = 0
    everyone = None

    async def barrier():
        # Every invocation waits here until N have arrived: one at a time, none would go on.
        global arrived, everyone
        if arrived % N == 0:
            everyone = asyncio.Event()  # a new round
        arrived += 1
        if arrived % N == 0:
            everyone.set()
            return
        await everyone.wait()

    async def app(scope, receive, send):
        global startups, everyone
        if scope["type"] == "lifespan":
            await receive()
            startups += 1
            await send({"type": "lifespan.startup.complete"})
            await receive()
            print("shutdown ran", flush=True)
            await send({"type": "lifespan.shutdown.complete"})
            return
        await receive()
        context = scope["aws.context"]
        await barrier()
        log.warning("serving %s", context.aws_request_id)
        if scope["path"] == "/slow":
            pathlib.Path("started").touch()
            await asyncio.sleep(0.5)
        body = {
            "request_id": context.aws_request_id,
            "trace_id": scope["aws.trace_id"],
            "environ_trace": os.environ.get("_X_AMZN_TRACE_ID"),  # read once all N have started
            "tenant": scope.get("aws.tenant_id"),
            "remaining": context.get_remaining_time_in_millis() > 0,
            "pid": os.getpid(),
            "startups": startups,
        }
        await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"application/json")]})
        await send({"type": "http.response.body", "body": json.dumps(body).encode()})
"""


def event(path: str = "/") -> dict[str, Any]:
    event = load_event("http_api_v2_get")
    event["rawPath"] = event["requestContext"]["http"]["path"] = path
    event["rawQueryString"] = ""
    return event


def trace(number: int) -> str:
    return f"Root=1-5759e988-{number:024x};Parent=53995c3f42cd8ad8;Sampled=1"


def results(fn: FunctionProcess, request_ids: list[str], timeout: float = 30) -> list[Invocation]:
    found = [fn._wait(lambda slice_, request_id=request_id: fn.api.result(request_id, slice_), timeout) for request_id in request_ids]
    assert all(found), fn.logs()
    return found  # type: ignore[return-value]


def wait_until(condition: Any, fn: FunctionProcess, timeout: float = 20) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline and fn.returncode is None, fn.logs()
        time.sleep(0.01)


def test_n_invocations_are_served_at_once_each_with_its_own_context_trace_tenant_and_log_lines(tmp_path: Path, layer_zip: Path) -> None:
    env = {"AWS_LAMBDA_LOG_FORMAT": "JSON"}
    with function(tmp_path, layer_zip, source=APP, env=env, max_concurrency=N) as fn:
        wait_until(lambda: fn.api.next_waiting == N, fn)  # one GET /next outstanding per free slot
        rounds = []
        for round_number in range(2):
            submitted = [
                fn.api.submit(event(), function_arn=fn.function_arn, trace_id=trace(number), tenant_id=f"tenant-{number}")
                for number in range(round_number * N, (round_number + 1) * N)
            ]
            rounds.append((submitted, results(fn, submitted)))
        wait_until(lambda: fn.api.next_waiting == N, fn)
        lines = [json.loads(line) for line in fn.stdout().splitlines() if line.startswith("{")]

    pids = set()
    for round_number, (submitted, answers) in enumerate(rounds):
        # _X_AMZN_TRACE_ID is the process's, not the invocation's: every invocation of the round reads
        # the header of the one that started last (README, "Differences from awslambdaric").
        environ_traces = {json.loads(answer.payload["body"])["environ_trace"] for answer in answers}
        assert len(environ_traces) == 1 and environ_traces <= {trace(number) for number in range(round_number * N, (round_number + 1) * N)}
        for offset, (request_id, answer) in enumerate(zip(submitted, answers, strict=True)):
            number = round_number * N + offset
            assert answer.ok and answer.request_id == request_id
            body = json.loads(answer.payload["body"])
            assert (body["request_id"], body["trace_id"], body["tenant"]) == (
                request_id,
                trace(number)[5:].partition(";")[0],
                f"tenant-{number}",
            )
            assert body["remaining"] and body["startups"] == 1  # one lifespan for all
            pids.add(body["pid"])
    assert len(pids) == 1  # one process
    served = [line for line in lines if line.get("logger") == "app"]
    assert len(served) == 2 * N
    assert all(line["message"] == f"serving {line['requestId']}" for line in served)  # each line, its own invocation's id
    tenants = {request_id: f"tenant-{number}" for number, request_id in enumerate(rounds[0][0] + rounds[1][0])}
    assert all(line["tenantId"] == tenants[line["requestId"]] for line in served)


def test_an_invalid_max_concurrency_fails_the_init_naming_it(tmp_path: Path, layer_zip: Path) -> None:
    with function(tmp_path, layer_zip, source=APP, env={"AWS_LAMBDA_MAX_CONCURRENCY": "many"}) as fn:
        error = fn.wait_init_error(timeout=20)
        assert fn.wait(timeout=10) == 1

    assert error is not None and (error["errorType"], error["errorMessage"]) == (
        "ConfigError",
        "AWS_LAMBDA_MAX_CONCURRENCY='many': expected a whole number of invocations above 0, such as 16." + fix("invalid-value"),
    )


def test_sigterm_lets_every_invocation_in_flight_finish_then_runs_shutdown(tmp_path: Path, layer_zip: Path) -> None:
    with function(tmp_path, layer_zip, source=APP, max_concurrency=N) as fn:
        wait_until(lambda: fn.api.next_waiting == N, fn)
        submitted = [fn.api.submit(event("/slow"), function_arn=fn.function_arn) for _ in range(N)]
        wait_until(lambda: (tmp_path / "task" / "started").exists(), fn)
        fn.proc.send_signal(signal.SIGTERM)
        answers = results(fn, submitted)
        exit_code = fn.wait(20)
        output = fn.stdout()

    assert [answer.ok for answer in answers] == [True] * N
    assert exit_code == -signal.SIGTERM
    assert output.count("shutdown ran") == 1
    assert fn.api.next_calls == N  # the slots' first; none asked again after SIGTERM


PLAIN = """
    import os, threading
    from asgi_lambda import Adapter

    N = int(os.environ["AWS_LAMBDA_MAX_CONCURRENCY"])
    barrier = threading.Barrier(N, timeout=20)

    async def app(scope, receive, send):
        if scope["type"] != "http":
            return
        await receive()
        await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"text/plain")]})
        await send({"type": "http.response.body", "body": scope["aws.context"].aws_request_id.encode()})

    adapter = Adapter(app, lifespan="off")

    def handler(event, context):
        # A plain handler: each call in a thread of the pool; N at once get past the barrier.
        barrier.wait()
        if event.get("through") == "adapter":  # a handler of one's own that calls an Adapter
            return adapter(event["event"], context)
        return {"request_id": context.aws_request_id, "thread": threading.current_thread().name}
"""


@pytest.mark.parametrize("through", ["plain", "adapter"])
def test_a_plain_handler_runs_in_a_thread_pool_sized_to_the_limit(tmp_path: Path, layer_zip: Path, through: str) -> None:
    task_root, opt = tmp_path / "task", tmp_path / "opt"
    task_root.mkdir()
    unpack(layer_zip, opt)
    (task_root / "main.py").write_text(textwrap.dedent(PLAIN))
    with FunctionProcess(task_root, opt, "main.handler", env={"ASGI_TEST_CLIENT": "layer"}, max_concurrency=N) as fn:
        payload = {"through": through, "event": event()}
        submitted = [fn.api.submit(payload, function_arn=fn.function_arn) for _ in range(N)]
        answers = results(fn, submitted)

    assert all(answer.ok for answer in answers), [answer.payload for answer in answers]
    if through == "plain":
        assert [answer.payload["request_id"] for answer in answers] == submitted
        assert len({answer.payload["thread"] for answer in answers}) == N
    else:
        assert [answer.payload["body"] for answer in answers] == submitted


WEBSOCKET_APP = """
    import asyncio, os
    import asgi_lambda

    N = int(os.environ["AWS_LAMBDA_MAX_CONCURRENCY"])
    arrived = 0
    everyone = None

    async def app(scope, receive, send):
        global arrived, everyone
        if scope["type"] != "websocket":
            return
        me = scope["aws.connection_id"]
        while True:
            message = await receive()
            if message["type"] == "websocket.connect":
                await send({"type": "websocket.accept"})
                # Sent at $connect to those already there; while a message event replays this phase, refused:
                # each task knows whether its own cycle replays.
                await asgi_lambda.broadcast(f"{me} joined", exclude={me})
            elif message["type"] == "websocket.receive":
                if everyone is None:
                    everyone = asyncio.Event()
                arrived += 1
                if arrived == N:
                    everyone.set()
                await everyone.wait()
                await send({"type": "websocket.send", "text": f"echo to {me}"})
                await asgi_lambda.send(me, f"pushed to {me}")
            else:
                return
"""


def websocket_event(name: str, connection_id: str) -> dict[str, Any]:
    event = load_event(name)
    event["requestContext"]["connectionId"] = connection_id
    return event


def test_websocket_messages_at_once_each_reply_and_push_to_their_own_connection(tmp_path: Path, layer_zip: Path) -> None:
    stub = ManagementAPIStub()
    connections = [f"conn-{number}=" for number in range(N)]
    try:
        with directory_outside_tmp() as state:
            env = {"WS_BACKEND": "sqlite", "WS_SQLITE_PATH": str(state / "connections.sqlite3"), "WS_ENDPOINT_URL": stub.endpoint}
            with function(tmp_path, layer_zip, source=WEBSOCKET_APP, env=env, max_concurrency=N) as fn:
                connected = [fn.invoke(websocket_event("ws_connect", connection)) for connection in connections]  # one by one
                submitted = [
                    fn.api.submit(websocket_event("ws_message", connection), function_arn=fn.function_arn) for connection in connections
                ]
                messages = results(fn, submitted)  # at once
    finally:
        stub.close()

    assert [answer.payload for answer in connected + messages] == [{"statusCode": 200}] * (2 * N)
    posts = sorted(stub.posts())
    joined = [(earlier, f"{later} joined".encode()) for index, later in enumerate(connections) for earlier in connections[:index]]
    expected = sorted(
        joined  # at each $connect, to those already connected; none again while the messages replayed it
        + [(connection, f"echo to {connection}".encode()) for connection in connections]
        + [(connection, f"pushed to {connection}".encode()) for connection in connections]
    )
    assert posts == expected


LARGE = """
    def handler(event, context):
        return "x" * (7 * 1024 * 1024) if event == "large" else "small"
"""


def test_an_answer_the_api_refuses_is_logged_and_the_slot_goes_on(tmp_path: Path, layer_zip: Path) -> None:
    # As awslambdaric's multi-concurrent client: a refused POST does not end the process.
    task_root, opt = tmp_path / "task", tmp_path / "opt"
    task_root.mkdir()
    unpack(layer_zip, opt)
    (task_root / "main.py").write_text(textwrap.dedent(LARGE))
    with FunctionProcess(task_root, opt, "main.handler", env={"ASGI_TEST_CLIENT": "layer"}, max_concurrency=2) as fn:
        tap(fn.api, refuse_large=True)
        fn.api.submit("large", function_arn=fn.function_arn)
        later = fn.invoke("small")
        wait_until(lambda: "This won't kill the Runtime loop" in fn.stdout(), fn)
        output, alive = fn.stdout(), fn.returncode is None

    assert later.ok and later.payload == "small" and alive
    assert f"LAMBDA_RUNTIME Failed to post handler success response. Http response code: 413. {json.dumps(TOO_LARGE)}" in output
    assert "Failed to post invocation response: This won't kill the Runtime loop" in output


BACKGROUND = """
    import asyncio, pathlib
    from starlette.applications import Starlette
    from starlette.background import BackgroundTask
    from starlette.responses import PlainTextResponse
    from starlette.routing import Route

    async def wait_for_the_gate():
        while not pathlib.Path("go").exists():
            await asyncio.sleep(0.005)

    async def later(request):
        return PlainTextResponse("answered", background=BackgroundTask(wait_for_the_gate))

    async def now(request):
        return PlainTextResponse("now")

    app = Starlette(routes=[Route("/later", later), Route("/now", now)])
"""


def test_work_after_an_answer_holds_its_own_slot_only(tmp_path: Path, layer_zip: Path) -> None:
    with function(tmp_path, layer_zip, source=BACKGROUND, env={"ASGI_LIFESPAN": "off"}, max_concurrency=2) as fn:
        wait_until(lambda: fn.api.next_waiting == 2, fn)
        first = fn.invoke(event("/later"))  # answered; its slot waits for the gate
        others = [fn.invoke(event("/now")) for _ in range(3)]  # served by the other slot meanwhile
        wait_until(lambda: fn.api.next_waiting >= 1, fn)  # that slot back waiting...
        waiting_meanwhile = fn.api.next_waiting  # ...and the first one not, until its work ends
        (tmp_path / "task" / "go").touch()
        wait_until(lambda: fn.api.next_waiting == 2, fn)

    assert first.payload["body"] == "answered" and [other.payload["body"] for other in others] == ["now"] * 3
    assert waiting_meanwhile == 1


WSGI_APP = """
    import json, logging, os, threading
    from flask import Flask, request

    N = int(os.environ["AWS_LAMBDA_MAX_CONCURRENCY"])
    everyone = threading.Barrier(N, timeout=20)  # one call at a time would never pass it
    log = logging.getLogger("app")
    app = Flask(__name__)

    @app.get("/")
    def index():
        context = request.environ["aws.context"]
        everyone.wait()
        log.warning("serving %s", context.aws_request_id)
        return {
            "request_id": context.aws_request_id,
            "thread": threading.current_thread().name,
            "multithread": request.environ["wsgi.multithread"],
        }
"""


def test_a_wsgi_app_serves_n_invocations_at_once_in_threads_each_with_its_own_request_id(tmp_path: Path, layer_zip: Path) -> None:
    env = {"AWS_LAMBDA_LOG_FORMAT": "JSON"}
    with function(tmp_path, layer_zip, source=WSGI_APP, env=env, max_concurrency=N) as fn:
        wait_until(lambda: fn.api.next_waiting == N, fn)
        submitted = [fn.api.submit(event(), function_arn=fn.function_arn) for _ in range(N)]
        answers = results(fn, submitted)
        lines = [json.loads(line) for line in fn.stdout().splitlines() if line.startswith("{")]

    bodies = [json.loads(answer.payload["body"]) for answer in answers]
    assert [body["request_id"] for body in bodies] == submitted
    assert all(body["multithread"] and body["thread"].startswith("wsgi_") for body in bodies)
    assert len({body["thread"] for body in bodies}) == N
    served = [line for line in lines if line.get("logger") == "app"]
    assert sorted(line["requestId"] for line in served) == sorted(submitted)  # each log line, its own invocation's id
    assert all(line["message"] == f"serving {line['requestId']}" for line in served)
