"""Work after the response, through the built layer: the layer's runtime client POSTs the answer as soon
as the app has sent its last body message, then lets the app run to its end (Starlette's and FastAPI's
BackgroundTasks, code after the last `send`) before it asks for the next event, bounded by the
invocation's deadline less a margin. Under the managed runtime's client the answer waits for the app,
as it always has. Orderings are shown with gates the test opens; the one time bound is the issue's own
(the answer within 50 ms, the next event at least the background task's 0.5 s later).
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import pytest

from asgi_lambda.local.runtime_api import Invocation
from tests.support.events import load_event
from tests.support.runtime.harness import FunctionProcess, streamed, submit
from tests.support.runtime.layer import RUNTIME_CLIENTS, function

APP = """
    import asyncio, os, pathlib
    from starlette.applications import Starlette
    from starlette.background import BackgroundTask
    from starlette.responses import PlainTextResponse, StreamingResponse
    from starlette.routing import Route

    GATES = pathlib.Path(os.environ["TEST_GATES"])

    async def gate(name):
        while not (GATES / name).exists():
            await asyncio.sleep(0.005)

    async def sleep_half_a_second():
        await asyncio.sleep(0.5)
        (GATES / "slept").touch()

    async def gated():
        await gate("go")
        (GATES / "background-done").touch()

    async def failing():
        raise LookupError("the background task failed")

    async def endless():
        try:
            await asyncio.sleep(3600)
        except asyncio.CancelledError:
            (GATES / "cancelled").touch()
            raise

    TASKS = {"sleep": sleep_half_a_second, "gated": gated, "failing": failing, "endless": endless}

    async def background(request):
        task = TASKS[request.path_params["task"]]
        return PlainTextResponse("answered", background=BackgroundTask(task))

    async def streamed(request):
        async def body():
            yield "one "
            yield "two"
        return StreamingResponse(body(), media_type="text/plain", background=BackgroundTask(gated))

    routes = Starlette(routes=[Route("/background/{task}", background), Route("/streamed", streamed)])

    async def app(scope, receive, send):
        if scope["type"] == "http" and scope["path"] == "/after-the-last-send":
            # Plain ASGI: the code after the last send is part of the same call.
            await receive()
            await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"text/plain")]})
            await send({"type": "http.response.body", "body": b"sent"})
            await gate("go")
            (GATES / "background-done").touch()
            return
        await routes(scope, receive, send)
"""


def http(path: str) -> dict[str, Any]:
    event = load_event("http_api_v2_get")
    event["rawPath"] = event["requestContext"]["http"]["path"] = path
    event["rawQueryString"] = ""
    return event


def function_url(path: str) -> dict[str, Any]:
    event = load_event("function_url_get")
    event["rawPath"] = event["requestContext"]["http"]["path"] = path
    event["rawQueryString"] = ""
    event.pop("cookies", None)
    return event


@pytest.fixture
def gates(tmp_path: Path) -> Path:
    path = tmp_path / "gates"
    path.mkdir()
    return path


def start(tmp_path: Path, layer_zip: Path, gates: Path, client: str = "layer", **env: str) -> FunctionProcess:
    process = function(tmp_path, layer_zip, source=APP, env={**RUNTIME_CLIENTS[client], "TEST_GATES": str(gates), **env})
    assert process.wait_ready(20), process.logs()
    return process


def answered(fn: FunctionProcess, request_id: str, timeout: float = 20) -> Invocation:
    invocation = fn.api.result(request_id, timeout)
    assert invocation is not None, fn.logs()
    return invocation


def next_after(fn: FunctionProcess, moment: float, timeout: float = 20) -> float:
    """When the runtime next asked for an event after `moment` (time.monotonic())."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        later = [when for when in list(fn.api.next_times) if when > moment]
        if later:
            return later[0]
        time.sleep(0.005)
    raise AssertionError(f"no GET /next after the answer\n{fn.logs()}")


def test_a_background_task_runs_after_the_answer_and_before_the_next_event(tmp_path: Path, layer_zip: Path, gates: Path) -> None:
    with start(tmp_path, layer_zip, gates) as fn:
        warm = answered(fn, submit(fn, http("/background/sleep")))  # the first request's imports are not the point
        next_after(fn, warm.answered)
        invocation = answered(fn, submit(fn, http("/background/sleep")))
        next_event = next_after(fn, invocation.answered)
        slept = (gates / "slept").exists()

    assert (invocation.ok, invocation.payload["statusCode"], invocation.payload["body"]) == (True, 200, "answered")
    assert invocation.answered - invocation.handed_out <= 0.05  # the answer did not wait for the 0.5 s task
    assert next_event - invocation.handed_out >= 0.5  # the next event did
    assert slept


@pytest.mark.parametrize("path", ["/background/gated", "/after-the-last-send"])
def test_the_answer_is_with_the_caller_while_the_app_runs_on(tmp_path: Path, layer_zip: Path, gates: Path, path: str) -> None:
    with start(tmp_path, layer_zip, gates) as fn:
        invocation = answered(fn, submit(fn, http(path)))
        before = (gates / "background-done").exists()
        calls = fn.api.next_calls
        (gates / "go").touch()
        next_after(fn, invocation.answered)
        after = (gates / "background-done").exists()

    assert invocation.ok and invocation.payload["statusCode"] == 200
    assert (before, calls, after) == (False, 1, True)  # no GET /next until the app had finished


def test_a_streamed_body_ends_before_its_background_task_runs(tmp_path: Path, layer_zip: Path, gates: Path) -> None:
    with start(tmp_path, layer_zip, gates, ASGI_INVOKE_MODE="response_stream") as fn:
        request_id = submit(fn, function_url("/streamed"))
        stream = streamed(fn, request_id)
        assert stream.wait_complete(20), fn.logs()
        before = (gates / "background-done").exists()
        (gates / "go").touch()
        invocation = answered(fn, request_id)
        next_after(fn, invocation.answered)

    assert (stream.body, stream.trailers, before) == (b"one two", {}, False)
    assert invocation.ok and (gates / "background-done").exists()


def test_an_exception_after_the_answer_is_logged_with_the_request_id_and_is_no_invocation_error(
    tmp_path: Path, layer_zip: Path, gates: Path
) -> None:
    (gates / "go").touch()
    with start(tmp_path, layer_zip, gates, AWS_LAMBDA_LOG_FORMAT="JSON") as fn:
        failed = answered(fn, submit(fn, http("/background/failing")))
        following = fn.invoke(http("/background/gated"))
        lines = [json.loads(line) for line in fn.stdout().splitlines() if line.startswith("{")]

    assert failed.ok and failed.payload["body"] == "answered"
    assert following.ok and following.error_type is None
    logged = [line for line in lines if line.get("errorType") == "LookupError"]
    assert [(line["level"], line["requestId"], line["errorMessage"]) for line in logged] == [
        ("ERROR", failed.request_id, "the background task failed")
    ]


def test_work_after_the_answer_that_never_ends_is_cancelled_before_the_deadline_and_the_next_event_is_served(
    tmp_path: Path, layer_zip: Path, gates: Path
) -> None:
    with start(tmp_path, layer_zip, gates) as fn:
        deadline_ms = int((time.time() + 2) * 1000)
        endless = fn.api.submit(http("/background/endless"), deadline_ms=deadline_ms, function_arn=fn.function_arn)
        first = answered(fn, endless)
        (gates / "go").touch()
        following = fn.invoke(http("/background/gated"))
        logs = fn.stdout()

    assert first.ok and following.ok and following.payload["body"] == "answered"
    assert (gates / "cancelled").exists()
    line = next(line for line in logs.splitlines() if "cancelled" in line)
    level, _, request_id, message = line.split("\t")
    assert (level, request_id) == ("[ERROR]", endless)
    assert message == "The app's work after its response was still running 500 ms before the invocation's deadline: cancelled."


def test_under_the_managed_runtime_the_answer_waits_for_the_app(tmp_path: Path, layer_zip: Path, gates: Path) -> None:
    (gates / "go").touch()
    with start(tmp_path, layer_zip, gates, client="managed") as fn:
        invocation = fn.invoke(http("/background/gated"))
        done_at_the_answer = (gates / "background-done").exists()

    assert invocation.ok and done_at_the_answer
