"""`asgi-lambda serve --stream`: the local gateway relays each response as the function streams it, as a
Function URL with `InvokeMode: RESPONSE_STREAM` does, so `curl -N` shows Server-Sent Events as the app
sends them. A real `serve` in a child process, in this process's function and under `--runtime` (the
built layer, its wrapper starting the layer's own Runtime API client). Orderings are shown with gates
the test opens (files the app waits for), never with timings.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
import zlib
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest
from websockets.sync.client import connect

from asgi_lambda.local.events import Request
from asgi_lambda.local.streaming import function_url_event
from tests.support.local import ServeProcess, clean_environ
from tests.support.net import free_port
from tests.support.paths import directory_outside_tmp

APP_SOURCE = """
import asyncio, json, os, pathlib

GATES = pathlib.Path(os.environ["TEST_GATES"])

async def gate(name):
    # The test decides when the app goes on: it creates the file.
    while not (GATES / name).exists():
        await asyncio.sleep(0.005)

async def app(scope, receive, send):
    if scope["type"] == "websocket":
        await receive()
        await send({"type": "websocket.accept"})
        while (message := await receive())["type"] == "websocket.receive":
            await send({"type": "websocket.send", "text": "echo: " + message["text"]})
        return
    if scope["type"] != "http":
        return
    await receive()
    path = scope["path"]
    if path == "/sse":
        await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"text/event-stream")]})
        await send({"type": "http.response.body", "body": b"data: one\\n\\n", "more_body": True})
        await gate("second")
        (GATES / "second-sent").touch()
        await send({"type": "http.response.body", "body": b"data: two\\n\\n", "more_body": True})
        await send({"type": "http.response.body", "body": b""})
    elif path == "/endless":
        await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"text/event-stream")]})
        try:
            while True:
                await send({"type": "http.response.body", "body": b"data: more\\n\\n", "more_body": True})
                await asyncio.sleep(0.01)
        except OSError as exc:
            (GATES / "stopped").write_text(f"{type(exc).__name__} {(await receive())['type']}")
    elif path == "/broken":
        await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"text/plain")]})
        await send({"type": "http.response.body", "body": b"half", "more_body": True})
        raise RuntimeError("failed after the first chunk")
    elif path == "/fails":
        raise LookupError("failed before the response started")
    else:
        event = scope["aws.event"]
        body = json.dumps({"domainName": event["requestContext"]["domainName"], "rawPath": event.get("rawPath"),
                           "version": event.get("version"), "path": scope["path"]}).encode()
        await send({"type": "http.response.start", "status": 200,
                    "headers": [(b"content-type", b"application/json"), (b"set-cookie", b"a=1"), (b"set-cookie", b"b=2")]})
        await send({"type": "http.response.body", "body": body})
"""


@pytest.fixture
def gates(tmp_path: Path) -> Path:
    path = tmp_path / "gates"
    path.mkdir()
    return path


@pytest.fixture
def app_dir(tmp_path: Path) -> Path:
    (tmp_path / "main.py").write_text(APP_SOURCE)
    return tmp_path


@pytest.fixture
def env(gates: Path) -> Iterator[dict[str, str]]:
    # Under --runtime the function looks like Lambda, which refuses an SQLite store under /tmp.
    with directory_outside_tmp() as state:
        yield clean_environ(
            AWS_ACCESS_KEY_ID="testing",
            AWS_SECRET_ACCESS_KEY="testing",
            TEST_GATES=str(gates),
            WS_BACKEND="sqlite",
            WS_SQLITE_PATH=str(state / "connections.sqlite3"),
        )


def written(path: Path, timeout: float = 20) -> str:
    """The file's text once the app has written it."""
    deadline = time.monotonic() + timeout
    while not (path.exists() and path.read_text()):
        assert time.monotonic() < deadline, f"{path.name} was not written within {timeout} s"
        time.sleep(0.005)
    return path.read_text()


MODES = [pytest.param((), id="in-process"), pytest.param(("--runtime",), id="runtime")]


@pytest.mark.parametrize("mode", MODES)
def test_serve_stream_relays_the_first_event_before_the_app_sends_the_second(
    mode: tuple[str, ...], app_dir: Path, gates: Path, env: dict[str, str], serve_process: Callable[..., ServeProcess]
) -> None:
    served = serve_process("main:app", "--stream", *mode, cwd=app_dir, env=env)

    with httpx.stream("GET", f"{served.url}sse", timeout=30) as response:
        received = response.iter_raw()
        first = b""
        while b"\n\n" not in first:
            first += next(received)
        # The app waits at its gate: the first event came while the second was not sent yet.
        assert first == b"data: one\n\n"
        assert not (gates / "second-sent").exists()
        (gates / "second").touch()
        rest = b"".join(received)

    assert rest == b"data: two\n\n"
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/event-stream"
    assert response.headers["transfer-encoding"] == "chunked" and "content-length" not in response.headers
    out, _ = served.stop()
    assert "GET /sse 200 " in out and ", streamed\n" in out


def test_serve_stream_sends_function_url_events_and_the_prelude_headers_and_cookies(
    app_dir: Path, env: dict[str, str], serve_process: Callable[..., ServeProcess]
) -> None:
    served = serve_process("main:app", "--stream", cwd=app_dir, env=env)

    response = httpx.get(f"{served.url}a%2Fb/c")

    assert response.json() == {"domainName": "local.lambda-url.us-east-1.on.aws", "rawPath": "/a%2Fb/c", "version": "2.0", "path": "/a/b/c"}
    assert response.headers.get_list("set-cookie") == ["a=1", "b=2"]
    assert response.headers["content-type"] == "application/json"


def test_serve_stream_with_payload_v1_streams_rest_events(
    app_dir: Path, env: dict[str, str], serve_process: Callable[..., ServeProcess]
) -> None:
    served = serve_process("main:app", "--stream", "--payload", "v1", cwd=app_dir, env=env)

    response = httpx.get(f"{served.url}items")

    # A REST event has no version; its prelude carries multiValueHeaders, both cookies kept.
    assert response.json() == {"domainName": f"127.0.0.1:{served.port}", "rawPath": None, "version": None, "path": "/items"}
    assert response.headers.get_list("set-cookie") == ["a=1", "b=2"]
    out, _ = served.stop()
    assert "(REST API, responseTransferMode STREAM)" in out and "GET /items 200 " in out and ", streamed" in out


def test_serve_stream_tells_the_app_when_the_client_goes_away(
    app_dir: Path, gates: Path, env: dict[str, str], serve_process: Callable[..., ServeProcess]
) -> None:
    served = serve_process("main:app", "--stream", cwd=app_dir, env=env)

    with httpx.stream("GET", f"{served.url}endless", timeout=30) as response:
        assert next(response.iter_raw()).startswith(b"data: more\n\n")
    # The client closed the connection: the app's send raised, and receive said why.
    assert written(gates / "stopped") == "ClientDisconnected http.disconnect"
    out, _ = served.stop()
    assert "GET /endless 200 " in out and "(cut short: the client went away)" in out


def test_serve_stream_cuts_the_connection_when_the_app_fails_mid_stream(
    app_dir: Path, env: dict[str, str], serve_process: Callable[..., ServeProcess]
) -> None:
    served = serve_process("main:app", "--stream", cwd=app_dir, env=env)

    received = b""
    with pytest.raises(httpx.RemoteProtocolError), httpx.stream("GET", f"{served.url}broken", timeout=30) as response:
        assert response.status_code == 200
        for data in response.iter_raw():
            received += data

    # What the app sent before it failed came through; the body never ended.
    assert received == b"half"
    out, _ = served.stop()
    assert "GET /broken 200 " in out and "(cut short: RuntimeError: failed after the first chunk)" in out


def test_serve_stream_answers_502_when_the_app_fails_before_the_first_byte(
    app_dir: Path, env: dict[str, str], serve_process: Callable[..., ServeProcess]
) -> None:
    served = serve_process("main:app", "--stream", cwd=app_dir, env=env)

    response = httpx.get(f"{served.url}fails")

    assert (response.status_code, response.json()) == (502, {"message": "Internal server error"})
    _, err = served.stop()
    assert "GET /fails: the function failed; answering 502" in err and "LookupError: failed before the response started" in err


def test_serve_stream_answers_websocket_events_through_the_same_function(
    app_dir: Path, env: dict[str, str], serve_process: Callable[..., ServeProcess]
) -> None:
    served = serve_process("main:app", "--stream", cwd=app_dir, env=env)

    with connect(f"ws://127.0.0.1:{served.port}/") as websocket:
        websocket.send("hello")
        assert websocket.recv(timeout=20) == "echo: hello"

    out, _ = served.stop()
    assert "WS $connect " in out and "WS $default " in out


def test_serve_stream_refuses_alb(app_dir: Path, env: dict[str, str]) -> None:
    command = [sys.executable, "-m", "asgi_lambda", "serve", "main:app", "--stream", "--alb", "--port", str(free_port())]
    result = subprocess.run(command, cwd=app_dir, env=env, capture_output=True, text=True, timeout=60)

    assert (result.returncode, result.stderr) == (
        1,
        "asgi-lambda: --stream with --alb: an Application Load Balancer cannot stream responses; drop one of them\n",
    )


def test_function_url_event_is_the_http_api_event_on_a_lambda_url_domain() -> None:
    scope = {
        "method": "GET",
        "path": "/a b",
        "raw_path": b"/a%20b",
        "query_string": b"q=1",
        "headers": [(b"host", b"127.0.0.1:8000"), (b"cookie", b"a=1; b=2")],
        "client": ("127.0.0.1", 5000),
    }

    event = function_url_event(Request(scope, b"", port=8000))

    assert (event["version"], event["rawPath"], event["rawQueryString"]) == ("2.0", "/a%20b", "q=1")
    assert event["cookies"] == ["a=1", "b=2"] and event["headers"]["cookie"] == "a=1; b=2"  # Function URLs send both
    assert event["headers"]["host"] == "127.0.0.1:8000"  # the client's: the app's URLs lead back here
    context = event["requestContext"]
    assert (context["domainName"], context["domainPrefix"], context["apiId"], context["accountId"]) == (
        "local.lambda-url.us-east-1.on.aws",
        "local",
        "local",
        "anonymous",
    )
    assert context["http"]["path"] == "/a b"
    assert json.loads(json.dumps(event)) == event


@pytest.mark.parametrize("mode", MODES)
def test_serve_stream_with_compression_relays_each_event_gzipped_as_it_is_sent(
    mode: tuple[str, ...], app_dir: Path, gates: Path, env: dict[str, str], serve_process: Callable[..., ServeProcess]
) -> None:
    served = serve_process("main:app", "--stream", *mode, cwd=app_dir, env={**env, "ASGI_COMPRESSION": "1"})

    with httpx.stream("GET", f"{served.url}sse", headers={"accept-encoding": "gzip"}, timeout=30) as response:
        received = response.iter_raw()
        decoder = zlib.decompressobj(31)
        first = b""
        while b"\n\n" not in first:
            first += decoder.decompress(next(received))
        # Gzipped and flushed: the first event decodes whole while the app holds the second back.
        assert first == b"data: one\n\n"
        assert not (gates / "second-sent").exists()
        (gates / "second").touch()
        rest = b"".join(decoder.decompress(data) for data in received)

    assert rest == b"data: two\n\n" and decoder.eof
    assert response.headers["content-encoding"] == "gzip" and response.headers["vary"] == "Accept-Encoding"
    assert response.headers["transfer-encoding"] == "chunked" and "content-length" not in response.headers
