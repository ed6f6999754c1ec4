"""`asgi-lambda event KIND` prints a valid sample event; `asgi-lambda invoke EVENT` runs one event
through the handler the layer makes and prints the Lambda response."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from asgi_lambda.docs import fix
from asgi_lambda.local.samples import KINDS, SAMPLE_CONNECTION_ID
from asgi_lambda.protocols import loop
from asgi_lambda.stores.memory import MemoryStore
from tests.support import adapter
from tests.support.apps import RecordingApp
from tests.support.management_api import ManagementAPIStub
from tests.support.websocket import websocket_runtime

# An app that answers its HTTP route and its SQS queue, and fails one path.
APP_SOURCE = """
import json

async def app(scope, receive, send):
    if scope["type"] != "http":
        return
    body = (await receive())["body"]
    if scope["path"] == "/events/sqs":
        records = json.loads(body)["Records"]
        answer = {"batchItemFailures": [], "bodies": [record["body"] for record in records]}
    else:
        answer = {"method": scope["method"], "path": scope["path"], "query": scope["query_string"].decode()}
    status = 503 if scope["path"].startswith("/broken") else 200
    await send({"type": "http.response.start", "status": status, "headers": [(b"content-type", b"application/json")]})
    await send({"type": "http.response.body", "body": json.dumps(answer).encode()})
"""


def cli(*args: str, stdin: str = "", cwd: Path | None = None, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "asgi_lambda", *args], input=stdin, capture_output=True, text=True, cwd=cwd, env=env, timeout=60
    )


@pytest.fixture
def app_dir(tmp_path: Path) -> Path:
    (tmp_path / "service.py").write_text(APP_SOURCE)
    return tmp_path


@pytest.mark.parametrize("kind", [kind for kind in KINDS if not kind.startswith("ws-")])
def test_every_sample_event_is_one_the_adapter_maps_to_its_kind(kind: str) -> None:
    result = cli("event", kind, "--body", '{"n": 1}' if kind == "eventbridge" else "")

    assert result.returncode == 0, result.stderr
    event = json.loads(result.stdout)
    app = RecordingApp()
    adapter(app, events_path="/events")(event, None)
    expected_path = {"sqs": "/events/sqs", "sns": "/events/sns", "eventbridge": "/events/eventbridge", "schedule": "/events/eventbridge"}
    expected_path |= {"s3": "/events/s3", "dynamodb": "/events/dynamodb", "kinesis": "/events/kinesis"}
    assert app.scope["path"] == expected_path.get(kind, "/")


def test_an_http_sample_carries_the_method_path_query_headers_and_body() -> None:
    result = cli("event", "rest", "--method", "post", "--path", "/items/a%20b?page=2", "--header", "x-tenant: acme", "--body", "hi")
    app = RecordingApp()

    adapter(app)(json.loads(result.stdout), None)

    assert (app.scope["method"], app.scope["path"], app.scope["query_string"], app.bodies) == ("POST", "/items/a b", b"page=2", [b"hi"])
    assert (b"x-tenant", b"acme") in app.scope["headers"]


def test_a_sample_piped_into_invoke_prints_the_lambda_response(app_dir: Path) -> None:
    event = cli("event", "http-v2", "--path", "/items?page=2").stdout

    result = cli("invoke", "--app", "service:app", "-", stdin=event, cwd=app_dir)

    assert result.returncode == 0, result.stderr
    response = json.loads(result.stdout)
    assert (response["statusCode"], json.loads(response["body"])) == (200, {"method": "GET", "path": "/items", "query": "page=2"})


@pytest.mark.parametrize(
    "args",
    [
        ("service:app", "--app", "service:app", "-"),
        ("service:app", "--app-dir", ".", "-"),
        ("-", "--app", "service:app"),
    ],
    ids=["app-twice", "app-then-option", "event-then-app"],
)
def test_invoke_takes_app_and_event_on_either_side_of_its_options(app_dir: Path, args: tuple[str, ...]) -> None:
    event = cli("event", "http-v2", "--path", "/items").stdout

    result = cli("invoke", *args, stdin=event, cwd=app_dir)

    assert result.returncode == 0, result.stderr
    assert json.loads(json.loads(result.stdout)["body"]) == {"method": "GET", "path": "/items", "query": ""}


def test_invoke_reads_a_file_and_takes_the_app_from_asgi_app(app_dir: Path) -> None:
    (app_dir / "event.json").write_text(cli("event", "sqs", "--body", "job 42").stdout)
    env = {"PATH": "/usr/bin:/bin", "ASGI_APP": "service:app", "ASGI_EVENTS_PATH": "/events"}

    result = cli("invoke", "event.json", cwd=app_dir, env=env)

    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == {"batchItemFailures": [], "bodies": ["job 42"]}


def test_invoke_prints_the_error_lambda_would_report_and_exits_1(app_dir: Path) -> None:
    event = cli("event", "sqs").stdout
    env = {"PATH": "/usr/bin:/bin", "ASGI_EVENTS_PATH": "/broken"}
    (app_dir / "event.json").write_text(event)

    result = cli("invoke", "--app", "service:app", "event.json", cwd=app_dir, env=env)

    assert result.returncode == 1
    error = json.loads(result.stdout)
    assert error["errorType"] == "EventNotHandled"
    assert error["errorMessage"].startswith("The app answered 503 to the Amazon SQS event (POST /broken/sqs)")


@pytest.mark.parametrize(
    ("args", "stdin", "message"),
    [
        (("invoke", "-"), "{}", "asgi-lambda: no app: give APP (or --app) as module:attribute, such as main:app, or set ASGI_APP"),
        (
            ("invoke", "--app", "service:app", "-"),
            "not json",
            "asgi-lambda: EVENT '-' is not JSON: Expecting value: line 1 column 1 (char 0)",
        ),
        (("invoke", "--app", "service:app", "missing.json"), "", "asgi-lambda: EVENT 'missing.json': No such file or directory"),
        (
            ("invoke", "--app", "nowhere:app", "-"),
            "{}",
            "asgi-lambda: --app='nowhere:app': no module named 'nowhere'. The module must be in the function's code (LAMBDA_TASK_ROOT) or in a layer's python/ directory."
            + fix("no-module-named"),
        ),
        (
            ("event", "rest", "--header", "no-colon"),
            "",
            "asgi-lambda: --header 'no-colon': expected NAME:VALUE, such as 'content-type: application/json'",
        ),
        (("event", "rest", "--path", "items"), "", "asgi-lambda: --path 'items': expected a path starting with /, such as /items?page=2"),
    ],
    ids=["no-app", "not-json", "no-file", "unknown-app", "bad-header", "bad-path"],
)
def test_bad_input_is_one_line_naming_the_fault(app_dir: Path, args: tuple[str, ...], stdin: str, message: str) -> None:
    result = cli(*args, stdin=stdin, cwd=app_dir, env={"PATH": "/usr/bin:/bin"})

    assert (result.returncode, result.stderr.strip().splitlines()[-1]) == (1, message)


class EchoSocket:
    """A raw ASGI WebSocket endpoint: records each scope and what ended it, echoes each message."""

    def __init__(self) -> None:
        self.scopes: list[dict[str, Any]] = []
        self.ends: list[dict[str, Any]] = []

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "websocket":
            return
        self.scopes.append(scope)
        await receive()
        await send({"type": "websocket.accept"})
        while (message := await receive())["type"] == "websocket.receive":
            await send({"type": "websocket.send", "text": "echo: " + message["text"]})
        self.ends.append(message)


def test_the_websocket_samples_are_one_connections_events_the_adapter_serves(stub: ManagementAPIStub) -> None:
    connect = json.loads(cli("event", "ws-connect", "--path", "/?room=lobby", "--header", "origin: https://chat.example.com").stdout)
    message = json.loads(cli("event", "ws-message", "--body", "hi all").stdout)
    disconnect = json.loads(cli("event", "ws-disconnect").stdout)
    app = EchoSocket()
    handler = adapter(app)

    with websocket_runtime(MemoryStore(), endpoint=stub.endpoint, path="/ws") as runtime:
        assert handler(connect, None) == {"statusCode": 200}
        assert handler(message, None) == {"statusCode": 200}
        assert handler(disconnect, None) == {"statusCode": 200}
        assert loop.run(runtime.store.scan()) == []

    assert [event["requestContext"]["connectionId"] for event in (connect, message, disconnect)] == [SAMPLE_CONNECTION_ID] * 3
    assert [event["requestContext"]["routeKey"] for event in (connect, message, disconnect)] == ["$connect", "$default", "$disconnect"]
    scope = app.scopes[0]
    assert (scope["path"], scope["query_string"]) == ("/ws", b"room=lobby")
    assert (b"origin", b"https://chat.example.com") in scope["headers"]
    assert (b"sec-websocket-version", b"13") in scope["headers"]
    assert stub.posts() == [(SAMPLE_CONNECTION_ID, b"echo: hi all")]
    assert app.ends[-1]["code"] == 1001


def test_a_rest_sample_piped_into_invoke_prints_the_lambda_response(app_dir: Path) -> None:
    command = [sys.executable, "-m", "asgi_lambda"]
    sample = subprocess.Popen([*command, "event", "rest", "--path", "/items"], stdout=subprocess.PIPE)
    invoke = subprocess.run(
        [*command, "invoke", "-"],
        stdin=sample.stdout,
        capture_output=True,
        text=True,
        cwd=app_dir,
        env={**os.environ, "ASGI_APP": "service:app"},
        timeout=60,
    )
    assert sample.stdout is not None
    sample.stdout.close()

    assert (sample.wait(10), invoke.returncode) == (0, 0), invoke.stderr
    response = json.loads(invoke.stdout)
    assert (response["statusCode"], json.loads(response["body"])) == (200, {"method": "GET", "path": "/items", "query": ""})


def test_a_reader_that_goes_away_ends_event_quietly() -> None:
    # `asgi-lambda event rest | head -1`: the reader has closed the pipe before the event is written.
    reader, writer = os.pipe()
    os.close(reader)
    try:
        result = subprocess.run(
            [sys.executable, "-m", "asgi_lambda", "event", "rest"], stdout=writer, stderr=subprocess.PIPE, text=True, timeout=60
        )
    finally:
        os.close(writer)

    assert (result.returncode, result.stderr) == (1, "")
