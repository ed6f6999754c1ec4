"""Response streaming (ASGI_INVOKE_MODE=response_stream) through the built layer, as Lambda runs it: the
launcher stand-in execs the layer's wrapper, which starts the layer's own Runtime API client in place of
the managed bootstrap, against the Runtime API emulator. Streamed bodies are compared as bytes, never by
chunk boundaries (Lambda keeps none). Orderings are shown with gates the test opens, not with timings.
https://docs.aws.amazon.com/lambda/latest/dg/runtimes-custom.html#runtimes-custom-response-streaming
"""

from __future__ import annotations

import base64
import gzip
import json
import os
import signal
import socket
import subprocess
import sys
import textwrap
import time
import zlib
from pathlib import Path
from typing import Any

import pytest

from asgi_lambda.exceptions import ConfigError
from asgi_lambda.local.runtime_api import Invocation, RuntimeAPI
from asgi_lambda.settings.options import parse_invoke_mode
from tests.support.events import load_event
from tests.support.management_api import ManagementAPIStub
from tests.support.paths import ROOT, directory_outside_tmp
from tests.support.runtime.harness import FunctionProcess, streamed, submit
from tests.support.runtime.layer import INIT_ERRORS, function, unpack

STREAM = {"ASGI_INVOKE_MODE": "response_stream"}

APP = """
    import asyncio, contextlib, logging, os, pathlib
    from starlette.applications import Starlette
    from starlette.responses import JSONResponse, PlainTextResponse, Response, StreamingResponse
    from starlette.routing import Route

    GATES = pathlib.Path(os.environ["TEST_GATES"])
    log = logging.getLogger("app")

    async def gate(name):
        # Waits for the test to open a gate (create a file): the test decides when the app goes on.
        while not (GATES / name).exists():
            await asyncio.sleep(0.005)

    async def events(request):
        async def stream():
            yield "data: one\\n\\n"
            await gate("second")
            yield "data: two\\n\\n"
        return StreamingResponse(stream(), media_type="text/event-stream")

    async def download(request):
        size = int(request.query_params["mb"]) * 1024 * 1024
        block = bytes(range(256)) * 256
        async def stream():
            for _ in range(size // len(block)):
                yield block
        return StreamingResponse(stream(), media_type="application/octet-stream")

    async def broken(request):
        async def stream():
            for number in range(3):
                yield f"chunk {number}\\n"
            raise RuntimeError("the generator failed after three chunks")
        return StreamingResponse(stream(), media_type="text/plain")

    async def endless(scope, receive, send):
        # Plain ASGI: sends until send raises, then asks receive what happened.
        await receive()
        await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"application/octet-stream")]})
        count = 0
        try:
            while True:
                await send({"type": "http.response.body", "body": b"x" * 65536, "more_body": True})
                count += 1
                (GATES / "sent.new").write_text(str(count))
                (GATES / "sent.new").replace(GATES / "sent")  # whole, for the test to read at any time
        except OSError as exc:
            (GATES / "stopped").write_text(type(exc).__name__)
            (GATES / "received").write_text((await receive())["type"])

    async def cookies(request):
        response = PlainTextResponse("cookies", headers={"x-one": "1"})
        response.set_cookie("a", "1")
        response.set_cookie("b", "2")
        return response

    async def context(request):
        ctx = request.scope["aws.context"]
        log.warning("serving the context route")
        names = sorted(name for name in dir(ctx) if not name.startswith("_"))
        return JSONResponse({
            "names": names,
            "values": {name: getattr(ctx, name) for name in ("aws_request_id", "function_name", "memory_limit_in_mb",
                "function_version", "invoked_function_arn", "log_group_name", "log_stream_name", "tenant_id")},
            "remaining": ctx.get_remaining_time_in_millis(),
            "identity": [ctx.identity.cognito_identity_id, ctx.identity.cognito_identity_pool_id],
            "client_context": ctx.client_context and [ctx.client_context.custom, ctx.client_context.client.app_title],
            "trace_id": os.environ.get("_X_AMZN_TRACE_ID"),
        })

    async def empty_messages(request):
        async def stream():
            yield b""
            yield b"after an empty message"
            yield b""
        return StreamingResponse(stream(), media_type="text/plain")

    @contextlib.asynccontextmanager
    async def lifespan(app):
        yield
        print("shutdown ran", flush=True)

    routes = Starlette(routes=[
        Route("/events", events), Route("/download", download), Route("/broken", broken), Route("/cookies", cookies),
        Route("/context", context), Route("/empty-messages", empty_messages),
    ], lifespan=lifespan)

    async def app(scope, receive, send):
        # Outside Starlette, whose error middleware would answer a 500 itself.
        if scope["type"] == "http" and scope["path"] == "/fails":
            raise LookupError("failed before the response started")
        if scope["type"] == "http" and scope["path"] == "/endless":
            return await endless(scope, receive, send)
        if scope["type"] == "http" and scope["path"] == "/unfinished":
            await send({"type": "http.response.start", "status": 200, "headers": []})
            await send({"type": "http.response.body", "body": b"half", "more_body": True})
            return
        if scope["type"] == "http" and scope["path"] == "/silent":
            return
        await routes(scope, receive, send)
"""


def function_url(path: str, query: str = "") -> dict[str, Any]:
    event = load_event("function_url_get")
    event["rawPath"], event["rawQueryString"] = path, query
    event["requestContext"]["http"]["path"] = path
    event.pop("cookies", None)
    return event


def rest(path: str) -> dict[str, Any]:
    event = load_event("apigw_rest_get")
    event["path"] = event["requestContext"]["path"] = path
    event["resource"] = "/{proxy+}"
    event["queryStringParameters"] = event["multiValueQueryStringParameters"] = None
    return event


@pytest.fixture
def gates(tmp_path: Path) -> Path:
    path = tmp_path / "gates"
    path.mkdir()
    return path


@pytest.fixture
def fn(tmp_path: Path, layer_zip: Path, gates: Path) -> Any:  # noqa: F811  (the imported fixture)
    with function(tmp_path, layer_zip, source=APP, env={**STREAM, "TEST_GATES": str(gates)}) as process:
        assert process.wait_ready(20), process.logs()
        yield process


def finished(fn: FunctionProcess, request_id: str, timeout: float = 30) -> Invocation:
    found = fn.api.result(request_id, timeout)
    assert found is not None, fn.logs()
    return found


def test_server_sent_events_arrive_one_by_one_while_the_app_is_still_running(fn: FunctionProcess, gates: Path) -> None:
    request_id = submit(fn, function_url("/events"))
    stream = streamed(fn, request_id)

    # The app waits at the gate after its first event: that event is with the caller already.
    assert stream.wait_for(b"data: one\n\n", 20), fn.logs()
    assert not stream.complete
    (gates / "second").touch()
    invocation = finished(fn, request_id)

    assert invocation.ok and invocation.stream is stream
    assert stream.body == b"data: one\n\ndata: two\n\n"
    assert stream.arrived(b"data: one") < stream.arrived(b"data: two")  # type: ignore[operator]
    assert stream.prelude == {"statusCode": 200, "headers": {"content-type": "text/event-stream; charset=utf-8"}}
    assert stream.content_type == "application/vnd.awslambda.http-integration-response"
    assert stream.trailers == {}


def test_a_download_over_the_6_mb_buffered_limit_streams_whole(fn: FunctionProcess) -> None:
    invocation = finished(fn, submit(fn, function_url("/download", "mb=20")), timeout=60)

    assert invocation.ok and invocation.stream is not None
    assert invocation.stream.body == bytes(range(256)) * 256 * 320  # 20 MiB, byte for byte
    assert invocation.stream.prelude["headers"]["content-type"] == "application/octet-stream"


def test_an_error_after_the_first_byte_arrives_in_the_trailers(fn: FunctionProcess) -> None:
    invocation = finished(fn, submit(fn, function_url("/broken")))
    stream = invocation.stream

    assert stream is not None and stream.body == b"chunk 0\nchunk 1\nchunk 2\n"
    assert stream.trailers["Lambda-Runtime-Function-Error-Type"] == "RuntimeError"
    error = json.loads(base64.b64decode(stream.trailers["Lambda-Runtime-Function-Error-Body"]))
    assert (error["errorType"], error["errorMessage"]) == ("RuntimeError", "the generator failed after three chunks")
    assert error["requestId"] == invocation.request_id and any("stream" in line for line in error["stackTrace"])
    assert not invocation.ok and invocation.error_type == "RuntimeError"


def test_an_error_before_the_first_byte_is_an_invocation_error(fn: FunctionProcess) -> None:
    invocation = finished(fn, submit(fn, function_url("/fails")))

    assert invocation.stream is None and not invocation.ok
    assert (invocation.error_type, invocation.payload["errorMessage"]) == ("LookupError", "failed before the response started")
    assert invocation.payload["requestId"] == invocation.request_id
    assert "[ERROR] LookupError: failed before the response started" in fn.stdout()


def test_an_empty_body_message_does_not_end_the_stream(fn: FunctionProcess) -> None:
    invocation = finished(fn, submit(fn, function_url("/empty-messages")))

    assert invocation.ok and invocation.stream is not None and invocation.stream.body == b"after an empty message"


def test_a_rest_api_event_streams_with_the_rest_header_shape_in_the_prelude(fn: FunctionProcess) -> None:
    invocation = finished(fn, submit(fn, rest("/cookies")))

    assert invocation.ok and invocation.stream is not None
    assert invocation.stream.body == b"cookies"
    prelude = invocation.stream.prelude
    # The REST source's own header shape (as its buffered answers have it): names sent once in
    # `headers`, repeated ones in `multiValueHeaders`, both cookies kept.
    assert prelude["statusCode"] == 200 and "cookies" not in prelude
    assert prelude["multiValueHeaders"] == {"set-cookie": ["a=1; Path=/; SameSite=lax", "b=2; Path=/; SameSite=lax"]}
    assert prelude["headers"]["x-one"] == "1" and "set-cookie" not in prelude["headers"]


def test_function_url_cookies_go_in_the_prelude_cookies(fn: FunctionProcess) -> None:
    prelude = finished(fn, submit(fn, function_url("/cookies"))).stream.prelude  # type: ignore[union-attr]

    assert prelude["cookies"] == ["a=1; Path=/; SameSite=lax", "b=2; Path=/; SameSite=lax"]
    assert prelude["headers"]["x-one"] == "1" and "set-cookie" not in prelude["headers"]


@pytest.mark.parametrize(
    "event",
    [
        pytest.param(load_event("http_api_v2_get"), id="http-api-payload-2.0"),
        pytest.param(load_event("http_api_v1_get"), id="http-api-payload-1.0"),
        pytest.param(load_event("alb_single_value"), id="alb"),
    ],
)
def test_events_that_cannot_stream_are_answered_buffered_through_the_same_client(fn: FunctionProcess, event: dict[str, Any]) -> None:
    event = json.loads(json.dumps(event).replace("/items/42", "/cookies").replace("/lambda", "/cookies"))
    if "rawPath" in event:
        event["rawPath"] = event["requestContext"]["http"]["path"] = "/cookies"
    else:
        event["path"] = "/cookies"
        if "requestContext" in event and "path" in event["requestContext"]:
            event["requestContext"]["path"] = "/cookies"
    invocation = finished(fn, submit(fn, event))

    assert invocation.ok and invocation.stream is None, invocation.payload
    assert invocation.content_type == "application/json"
    assert (invocation.payload["statusCode"], invocation.payload["body"]) == (200, "cookies")


def test_the_buffered_answer_is_the_one_the_managed_runtime_gives(tmp_path: Path, layer_zip: Path, gates: Path) -> None:  # noqa: F811
    event = load_event("http_api_v2_get")
    event["rawPath"] = event["requestContext"]["http"]["path"] = "/cookies"
    answers = []
    for mode in ("response_stream", "buffered"):
        root = tmp_path / mode
        root.mkdir()
        with function(root, layer_zip, source=APP, env={"ASGI_INVOKE_MODE": mode, "TEST_GATES": str(gates)}) as process:
            answers.append(process.invoke(event).payload)

    assert answers[0] == answers[1]


def test_a_caller_that_goes_away_stops_the_app(fn: FunctionProcess, gates: Path) -> None:
    request_id = submit(fn, function_url("/endless"))
    stream = streamed(fn, request_id)
    assert stream.wait_for(b"x" * 65536 * 2, 20), fn.logs()

    stream.hang_up()
    deadline = time.monotonic() + 20
    while not (gates / "stopped").exists() and time.monotonic() < deadline:
        time.sleep(0.01)

    # ASGI 2.4: once the caller is gone, send raises an OSError and receive says http.disconnect.
    assert (gates / "stopped").exists(), fn.logs()
    assert (gates / "stopped").read_text() == "ClientDisconnected"
    assert (gates / "received").read_text() == "http.disconnect"
    invocation = finished(fn, request_id)
    assert not invocation.ok and invocation.stream is not None and invocation.stream.hung_up
    # The function carries on with the next event.
    assert finished(fn, submit(fn, function_url("/empty-messages"))).ok


def test_a_slow_caller_holds_the_app_back(fn: FunctionProcess, gates: Path) -> None:
    request_id = submit(fn, function_url("/endless"))
    stream = streamed(fn, request_id)
    assert stream.wait_for(b"x" * 65536, 20), fn.logs()
    stream.pause()

    def sent() -> int:
        return int((gates / "sent").read_text()) if (gates / "sent").exists() else 0

    # The app goes on until the sockets' buffers are full, then waits in send for the caller.
    counts = [sent()]
    deadline = time.monotonic() + 30
    while len(counts) < 3 or counts[-1] != counts[-3]:
        assert time.monotonic() < deadline, f"the app kept sending: {counts}"
        time.sleep(0.25)
        counts.append(sent())
    time.sleep(0.5)
    assert sent() == counts[-1]
    # What went out unread is what the kernel's socket buffers hold at most (their sizes, auto-tuned
    # up to net.ipv4.tcp_rmem and tcp_wmem), not an unbounded body kept by the function.
    limit = sum(int(Path(f"/proc/sys/net/ipv4/{name}").read_text().split()[2]) for name in ("tcp_rmem", "tcp_wmem"))
    assert (counts[-1] * 65536) - len(stream.raw) <= limit + 4 * 65536
    stream.resume()
    assert stream.wait_for(b"x" * 65536 * (counts[-1] + 8), 20)
    stream.hang_up()


def test_the_context_has_every_attribute_of_the_managed_runtimes(tmp_path: Path, layer_zip: Path, gates: Path) -> None:  # noqa: F811
    answers = {}
    for mode in ("response_stream", "buffered"):
        root = tmp_path / mode
        root.mkdir()
        with function(root, layer_zip, source=APP, env={"ASGI_INVOKE_MODE": mode, "TEST_GATES": str(gates)}) as process:
            event = load_event("http_api_v2_get")
            event["rawPath"] = event["requestContext"]["http"]["path"] = "/context"
            invocation = process.invoke(event)
            answers[mode] = json.loads(invocation.payload["body"])
            answers[mode]["values"]["aws_request_id"] = answers[mode]["values"]["aws_request_id"] == invocation.request_id

    ours, theirs = answers["response_stream"], answers["buffered"]
    assert ours["names"] == theirs["names"]
    assert "get_remaining_time_in_millis" in ours["names"]
    assert ours["values"] == theirs["values"]
    assert ours["values"]["aws_request_id"] is True
    assert 0 < ours["remaining"] <= 30_000


def test_the_trace_id_is_set_per_invocation(fn: FunctionProcess) -> None:
    traces = []
    for _ in range(2):
        request_id = submit(fn, function_url("/context"))
        invocation = finished(fn, request_id)
        assert invocation.stream is not None
        traces.append(json.loads(invocation.stream.body)["trace_id"])

    assert traces[0] != traces[1]
    assert all(trace.startswith("Root=1-") and trace.endswith(";Sampled=0") for trace in traces)


def test_json_logs_carry_the_request_id(tmp_path: Path, layer_zip: Path, gates: Path) -> None:  # noqa: F811
    env = {**STREAM, "TEST_GATES": str(gates), "AWS_LAMBDA_LOG_FORMAT": "JSON", "AWS_LAMBDA_LOG_LEVEL": "INFO"}
    with function(tmp_path, layer_zip, source=APP, env=env) as process:
        request_id = submit(process, function_url("/context"))
        finished(process, request_id)
        lines = [json.loads(line) for line in process.stdout().splitlines() if line.startswith("{")]

    line = next(line for line in lines if line.get("message") == "serving the context route")
    assert (line["level"], line["logger"], line["requestId"]) == ("WARNING", "app", request_id)
    # AWS_LAMBDA_LOG_LEVEL=INFO lets the layer's own info lines through, as the managed runtime's root level would.
    assert any(line.get("logger") == "asgi_lambda.lifespan" and line["level"] == "INFO" for line in lines)


def test_the_access_log_has_a_line_per_streamed_response_once_its_body_has_ended(
    tmp_path: Path,
    layer_zip: Path,  # noqa: F811
    gates: Path,
) -> None:
    env = {**STREAM, "TEST_GATES": str(gates), "AWS_LAMBDA_LOG_FORMAT": "JSON", "ASGI_ACCESS_LOG": "1"}
    with function(tmp_path, layer_zip, source=APP, env=env) as process:
        assert process.wait_ready(20), process.logs()
        events = submit(process, function_url("/events"))
        assert streamed(process, events).wait_for(b"data: one\n\n", 20), process.logs()

        def access_lines() -> list[dict[str, Any]]:
            lines = [json.loads(line) for line in process.stdout().splitlines() if line.startswith("{")]
            return [line for line in lines if line.get("logger") == "asgi_lambda.access"]

        assert access_lines() == []  # the body has not ended: no line yet
        (gates / "second").touch()
        finished(process, events)
        broken = submit(process, function_url("/broken"))  # cut short after its status went out
        finished(process, broken)
        fails = submit(process, function_url("/fails"))  # failed before the first byte
        finished(process, fails)
        process.terminate()
        lines = access_lines()

    assert [(line["message"].split()[:3], line["requestId"]) for line in lines] == [
        (["GET", "/events", "200"], events),
        (["GET", "/broken", "200"], broken),
        (["GET", "/fails", "500"], fails),
    ]
    first = lines[0]
    assert (first["method"], first["path"], first["status"]) == ("GET", "/events", 200)
    assert first["message"] == f"GET /events 200 {first['durationMs']:.1f}ms {events}"


def test_text_logs_carry_the_request_id(fn: FunctionProcess) -> None:
    request_id = submit(fn, function_url("/context"))
    finished(fn, request_id)

    line = next(line for line in fn.stdout().splitlines() if "serving the context route" in line)
    level, timestamp, logged_id, message = line.split("\t")
    assert (level, logged_id, message) == ("[WARNING]", request_id, "serving the context route")
    assert timestamp.endswith("Z")


def test_sigterm_runs_lifespan_shutdown(fn: FunctionProcess) -> None:
    assert finished(fn, submit(fn, function_url("/empty-messages"))).ok
    deadline = time.monotonic() + 10
    while fn.api.next_calls < 2 and time.monotonic() < deadline:  # back waiting for the next event
        time.sleep(0.01)

    assert fn.terminate() == -signal.SIGTERM
    assert "shutdown ran" in fn.stdout()


@pytest.mark.parametrize(("env", "source", "error_type", "message"), INIT_ERRORS)
def test_init_errors_are_the_ones_the_managed_runtime_reports(
    tmp_path: Path,
    layer_zip: Path,  # noqa: F811
    env: dict[str, str],
    source: str,
    error_type: str,
    message: str,
) -> None:
    with function(tmp_path, layer_zip, source=source, env={**env, **STREAM}) as process:
        error = process.wait_init_error(timeout=20)
        assert error is not None, process.logs()
        assert process.wait(timeout=10) == 1

    assert (error["errorType"], error["errorMessage"]) == (error_type, message)


def test_a_bad_invoke_mode_fails_the_init_naming_the_variable(tmp_path: Path, layer_zip: Path) -> None:  # noqa: F811
    with function(tmp_path, layer_zip, env={"ASGI_INVOKE_MODE": "stream"}) as process:
        error = process.wait_init_error(timeout=20)

    assert error is not None and error["errorType"] == "ConfigError"
    assert error["errorMessage"].startswith("ASGI_INVOKE_MODE='stream': expected buffered or response_stream")


CODE_FIRST = """
    from asgi_lambda import Adapter

    async def app(scope, receive, send):
        if scope["type"] != "http":
            return
        await send({"type": "http.response.start", "status": 201, "headers": [(b"content-type", b"text/plain")]})
        await send({"type": "http.response.body", "body": b"from my own handler"})

    handler = Adapter(app, lifespan="off")
"""


def test_code_first_handlers_stream_without_asgi_app(tmp_path: Path, layer_zip: Path) -> None:  # noqa: F811
    task_root, opt = tmp_path / "task", tmp_path / "opt"
    task_root.mkdir()
    unpack(layer_zip, opt)
    (task_root / "main.py").write_text(textwrap.dedent(CODE_FIRST))
    env = {"AWS_LAMBDA_EXEC_WRAPPER": str(opt / "asgi-bootstrap"), **STREAM}  # no ASGI_APP: the Handler names the Adapter
    with FunctionProcess(task_root, opt, "main.handler", env=env) as process:
        invocation = process.invoke(function_url("/"))

    assert invocation.stream is not None, process.logs()
    assert (invocation.stream.prelude["statusCode"], invocation.stream.body) == (201, b"from my own handler")


SNAPSTART_HOOKS = """
    from snapshot_restore_py import register_after_restore, register_before_snapshot

    register_before_snapshot(lambda: print("app: before the snapshot", flush=True))
    register_after_restore(lambda: print("app: after the restore", flush=True))
"""


def test_snapstart_hooks_run_around_the_snapshot(tmp_path: Path, layer_zip: Path, gates: Path) -> None:  # noqa: F811
    env = {**STREAM, "TEST_GATES": str(gates), "AWS_LAMBDA_INITIALIZATION_TYPE": "snap-start"}
    with function(tmp_path, layer_zip, source=APP + SNAPSTART_HOOKS, env=env) as process:
        assert process.api.snapshot.wait(20), process.logs()
        assert "app: before the snapshot" in process.stdout() and "app: after the restore" not in process.stdout()
        process.api.snapshot.restore()
        invocation = process.invoke(function_url("/empty-messages"))
        logs = process.stdout()

    assert invocation.ok and invocation.stream is not None and invocation.stream.body == b"after an empty message"
    assert logs.index("app: before the snapshot") < logs.index("app: after the restore")


def container(tmp_path: Path, layer_zip: Path, source: str) -> tuple[Path, Path, str]:  # noqa: F811
    """A container image's files: the task root, the layer copied to /opt, and the site-packages the
    image's Python has (awslambdaric's); -S keeps the repository's editable install out."""
    task_root, opt = tmp_path / "task", tmp_path / "opt"
    task_root.mkdir()
    unpack(layer_zip, opt)
    (task_root / "main.py").write_text(textwrap.dedent(source))
    site_packages = next(path for path in sys.path if path.endswith("site-packages") and Path(path, "awslambdaric").is_dir())
    return task_root, opt, site_packages


def run_image(command: list[str], task_root: Path, env: dict[str, str], event: dict[str, Any]) -> Invocation:
    with RuntimeAPI() as api:
        environment = {"AWS_LAMBDA_RUNTIME_API": api.address, "PATH": os.environ["PATH"], "LAMBDA_TASK_ROOT": str(task_root), **env}
        process = subprocess.Popen(command, cwd=task_root, env=environment, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        try:
            invocation = api.invoke(event, timeout=30)
        finally:
            process.kill()
            output = process.communicate()[0].decode(errors="replace")
    assert invocation.stream is not None, output
    return invocation


def test_a_container_image_launched_through_the_wrapper_streams(tmp_path: Path, layer_zip: Path, gates: Path) -> None:  # noqa: F811
    task_root, opt, site_packages = container(tmp_path, layer_zip, APP)
    # ENTRYPOINT ["/opt/asgi-bootstrap", "python", "-m", "awslambdaric"], CMD ["<handler>"]; the image sets PYTHONPATH.
    command = [str(opt / "asgi-bootstrap"), sys.executable, "-S", "-m", "awslambdaric", "lambda_function.lambda_handler"]
    env = {**STREAM, "ASGI_APP": "main:app", "TEST_GATES": str(gates), "PYTHONPATH": f"{opt / 'python'}:{site_packages}"}
    invocation = run_image(command, task_root, env, function_url("/empty-messages"))

    assert invocation.ok and invocation.stream is not None and invocation.stream.body == b"after an empty message"


def test_python_m_asgi_lambda_runtime_client_serves_a_code_first_handler(tmp_path: Path, layer_zip: Path) -> None:  # noqa: F811
    task_root, opt, site_packages = container(tmp_path, layer_zip, CODE_FIRST)
    command = [sys.executable, "-S", "-m", "asgi_lambda.runtime_client", "main.handler"]
    env = {**STREAM, "PYTHONPATH": f"{opt / 'python'}:{site_packages}"}
    invocation = run_image(command, task_root, env, function_url("/"))

    assert invocation.stream is not None
    assert (invocation.stream.prelude["statusCode"], invocation.stream.body) == (201, b"from my own handler")


def test_the_emulator_records_a_streamed_response_with_its_prelude_and_trailers() -> None:
    with RuntimeAPI() as api:
        request_id = api.submit({"hello": "world"})
        with socket.create_connection(("127.0.0.1", int(api.address.rpartition(":")[2]))) as connection:
            connection.sendall(b"GET /2018-06-01/runtime/invocation/next HTTP/1.1\r\nHost: x\r\n\r\n")
            connection.recv(65536)
        error = base64.b64encode(b'{"errorType": "E", "errorMessage": "m"}').decode()
        with socket.create_connection(("127.0.0.1", int(api.address.rpartition(":")[2]))) as connection:
            connection.sendall(
                f"POST /2018-06-01/runtime/invocation/{request_id}/response HTTP/1.1\r\nHost: x\r\n"
                "Transfer-Encoding: chunked\r\nLambda-Runtime-Function-Response-Mode: streaming\r\n"
                "Content-Type: application/vnd.awslambda.http-integration-response\r\n\r\n"
                '13\r\n{"statusCode": 201}\r\n8\r\n\0\0\0\0\0\0\0\0\r\n3\r\nabc\r\n'
                f"0\r\nLambda-Runtime-Function-Error-Type: E\r\nLambda-Runtime-Function-Error-Body: {error}\r\n\r\n".encode()
            )
            reply = connection.recv(65536)
        invocation = api.result(request_id, 5)

    assert reply.split(b"\r\n", 1)[0].split(b" ")[1] == b"202"
    assert invocation is not None and invocation.stream is not None
    assert (invocation.stream.prelude, invocation.stream.body) == ({"statusCode": 201}, b"abc")
    assert (invocation.ok, invocation.error_type, invocation.payload) == (False, "E", {"errorType": "E", "errorMessage": "m"})


FASTAPI_APP = """
    import asyncio, os, pathlib
    from fastapi import FastAPI
    from fastapi.responses import StreamingResponse

    GATES = pathlib.Path(os.environ["TEST_GATES"])
    app = FastAPI()

    @app.get("/tokens")
    async def tokens():
        async def stream():
            yield "data: Hello\\n\\n"
            while not (GATES / "second").exists():
                await asyncio.sleep(0.005)
            yield "data: world\\n\\n"
        return StreamingResponse(stream(), media_type="text/event-stream")
"""

QUART_APP = """
    import asyncio, os, pathlib
    from quart import Quart

    GATES = pathlib.Path(os.environ["TEST_GATES"])
    app = Quart(__name__)

    @app.get("/tokens")
    async def tokens():
        async def stream():
            yield b"data: Hello\\n\\n"
            while not (GATES / "second").exists():
                await asyncio.sleep(0.005)
            yield b"data: world\\n\\n"
        return stream(), 200, {"content-type": "text/event-stream"}
"""

# A WSGI app: its iterable is run on the loop's thread (one invocation at a time), each chunk written
# out before the next is asked for, so the first token is with the caller while the app blocks.
FLASK_APP = """
    import os, pathlib, time
    from flask import Flask, Response

    GATES = pathlib.Path(os.environ["TEST_GATES"])
    app = Flask(__name__)

    @app.get("/tokens")
    def tokens():
        def stream():
            yield b"data: Hello\\n\\n"
            while not (GATES / "second").exists():
                time.sleep(0.005)
            yield b"data: world\\n\\n"
        return Response(stream(), content_type="text/event-stream")
"""


@pytest.mark.parametrize(
    "source", [pytest.param(FASTAPI_APP, id="fastapi"), pytest.param(QUART_APP, id="quart"), pytest.param(FLASK_APP, id="flask-wsgi")]
)
def test_fastapi_quart_and_flask_stream_tokens_as_they_are_sent(tmp_path: Path, layer_zip: Path, gates: Path, source: str) -> None:  # noqa: F811
    with function(tmp_path, layer_zip, source=source, env={**STREAM, "TEST_GATES": str(gates)}) as process:
        request_id = submit(process, function_url("/tokens"))
        stream = streamed(process, request_id)
        assert stream.wait_for(b"data: Hello\n\n", 20), process.logs()
        assert not stream.complete
        (gates / "second").touch()
        invocation = finished(process, request_id)

    assert invocation.ok and invocation.stream is not None
    assert invocation.stream.body == b"data: Hello\n\ndata: world\n\n"
    assert invocation.stream.prelude["statusCode"] == 200
    assert invocation.stream.prelude["headers"]["content-type"].startswith("text/event-stream")


def test_websocket_events_are_answered_buffered_through_the_same_client(tmp_path: Path, layer_zip: Path) -> None:  # noqa: F811
    stub = ManagementAPIStub()
    source = (ROOT / "examples" / "hello" / "main.py").read_text()
    try:
        with directory_outside_tmp() as state:
            env = {**STREAM, "WS_BACKEND": "sqlite", "WS_SQLITE_PATH": str(state / "connections.sqlite3"), "WS_ENDPOINT_URL": stub.endpoint}
            with function(tmp_path, layer_zip, source=source, env=env) as process:
                answers = [process.invoke(load_event(name)) for name in ("ws_connect", "ws_message", "ws_disconnect")]
    finally:
        stub.close()

    assert [(answer.stream, answer.payload) for answer in answers] == [(None, {"statusCode": 200})] * 3
    assert stub.posts() == [("L0SM9cOFvHcCIhw=", b"echo: hello, world")]


def test_an_app_that_returns_mid_body_ends_the_stream_with_an_error_trailer(fn: FunctionProcess) -> None:
    invocation = finished(fn, submit(fn, function_url("/unfinished")))

    assert invocation.stream is not None and invocation.stream.body == b"half"
    assert invocation.error_type == "UnexpectedMessage"
    assert invocation.payload["errorMessage"] == "ASGI application returned without completing its response"


def test_an_app_that_never_starts_a_response_gets_the_buffered_paths_500(fn: FunctionProcess) -> None:
    invocation = finished(fn, submit(fn, function_url("/silent")))

    assert invocation.ok and invocation.stream is not None
    assert (invocation.stream.prelude["statusCode"], invocation.stream.body) == (500, b"Internal Server Error")


def test_a_head_request_streams_the_prelude_without_a_body(fn: FunctionProcess) -> None:
    event = function_url("/cookies")
    event["requestContext"]["http"]["method"] = "HEAD"
    invocation = finished(fn, submit(fn, event))

    assert invocation.ok and invocation.stream is not None
    assert (invocation.stream.prelude["statusCode"], invocation.stream.body) == (200, b"")


def test_the_invoke_mode_is_checked_in_one_place() -> None:
    assert parse_invoke_mode(" Response_Stream ", name="invoke_mode", text=False) == "response_stream"
    assert parse_invoke_mode("", name="ASGI_INVOKE_MODE", text=True) == "buffered"
    with pytest.raises(ConfigError, match=r"^invoke_mode='stream': expected buffered or response_stream"):
        parse_invoke_mode("stream", name="invoke_mode", text=False)


def gunzipped_so_far(stream: Any, wanted: bytes, timeout: float = 20) -> bytes:
    """The streamed body, gunzipped as far as it has come, once it holds `wanted` (or the wait ends)."""
    deadline = time.monotonic() + timeout
    while True:
        text = zlib.decompressobj(31).decompress(stream.body)
        if wanted in text or stream.complete or time.monotonic() > deadline:
            return text
        time.sleep(0.005)


def test_a_compressed_event_stream_still_arrives_event_by_event(tmp_path: Path, layer_zip: Path, gates: Path) -> None:  # noqa: F811
    with function(tmp_path, layer_zip, source=APP, env={**STREAM, "ASGI_COMPRESSION": "1", "TEST_GATES": str(gates)}) as fn:
        assert fn.wait_ready(20), fn.logs()
        event = function_url("/events")
        event["headers"]["accept-encoding"] = "gzip, deflate"
        request_id = submit(fn, event)
        stream = streamed(fn, request_id)

        # The app waits at the gate after its first event: that event, gzipped and flushed, is with the caller.
        assert gunzipped_so_far(stream, b"data: one\n\n") == b"data: one\n\n", fn.logs()
        assert not stream.complete
        (gates / "second").touch()
        invocation = finished(fn, request_id)

    assert invocation.ok and invocation.stream is stream
    assert gzip.decompress(stream.body) == b"data: one\n\ndata: two\n\n"
    assert stream.prelude == {
        "statusCode": 200,
        "headers": {"content-type": "text/event-stream; charset=utf-8", "content-encoding": "gzip", "vary": "Accept-Encoding"},
    }
    assert stream.trailers == {}
