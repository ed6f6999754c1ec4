"""`asgi-lambda invoke` as a first-hour user meets it: the app as APP or --app, an Adapter built in
code taken as a handler, --env-file; and WebSocket events run as `serve` runs them, their replies
printed by a loopback Management API, and a reply that is not delivered reported with status 1."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from asgi_lambda.local.samples import SAMPLE_CONNECTION_ID
from tests.support.net import closed_endpoint
from tests.support.paths import EXAMPLES, LAYER

ECHO = """
from asgi_lambda import Adapter

async def app(scope, receive, send):
    if scope["type"] == "websocket":
        await receive()
        await send({"type": "websocket.accept"})
        while (message := await receive())["type"] == "websocket.receive":
            await send({"type": "websocket.send", "text": "echo: " + message["text"]})
    elif scope["type"] == "http":
        await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"text/plain")]})
        await send({"type": "http.response.body", "body": scope["path"].encode()})

handler = Adapter(app)
"""


@pytest.fixture
def app_dir(tmp_path: Path) -> Path:
    (tmp_path / "echo.py").write_text(ECHO)
    return tmp_path


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    """A user's shell: no ASGI_*, WS_* or AWS_* variables; the cache directory in the test's own; this
    checkout's package."""
    return {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "XDG_CACHE_HOME": str(tmp_path / "cache"), "PYTHONPATH": str(LAYER)}


def cli(*args: str, stdin: str = "", cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "asgi_lambda", *args], input=stdin, capture_output=True, text=True, cwd=cwd, env=env, timeout=60
    )


def sample(kind: str, *args: str) -> str:
    return subprocess.run([sys.executable, "-m", "asgi_lambda", "event", kind, *args], capture_output=True, text=True, check=True).stdout


def test_a_message_after_its_connect_has_its_reply_printed_and_the_response_alone_on_stdout(app_dir: Path, env: dict[str, str]) -> None:
    connect = cli("invoke", "echo:app", "-", stdin=sample("ws-connect"), cwd=app_dir, env=env)
    message = cli("invoke", "echo:app", "-", stdin=sample("ws-message", "--body", "hi all"), cwd=app_dir, env=env)
    disconnect = cli("invoke", "echo:app", "-", stdin=sample("ws-disconnect"), cwd=app_dir, env=env)

    assert [result.returncode for result in (connect, message, disconnect)] == [0, 0, 0], message.stderr
    assert [json.loads(result.stdout) for result in (connect, message, disconnect)] == [{"statusCode": 200}] * 3
    assert f"asgi-lambda: sent to {SAMPLE_CONNECTION_ID}: echo: hi all\n" in message.stderr
    assert (Path(env["XDG_CACHE_HOME"]) / "asgi-lambda" / "invoke-connections.sqlite3").is_file()
    assert not (app_dir / ".asgi-lambda").exists()


def test_a_reply_that_cannot_be_delivered_exits_1_saying_why(app_dir: Path, env: dict[str, str]) -> None:
    with closed_endpoint() as endpoint_url:
        env = {**env, "WS_ENDPOINT_URL": endpoint_url, "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"}
        cli("invoke", "echo:app", "-", stdin=sample("ws-connect"), cwd=app_dir, env=env)
        result = cli("invoke", "echo:app", "-", stdin=sample("ws-message", "--body", "hi"), cwd=app_dir, env=env)

    assert result.returncode == 1
    assert json.loads(result.stdout) == {"statusCode": 200}  # what Lambda answers API Gateway all the same
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith("asgi-lambda: the WebSocket event did not go through (the function logged why, above): ")
    assert endpoint_url in last


def test_a_message_for_a_connection_never_connected_exits_1(app_dir: Path, env: dict[str, str]) -> None:
    result = cli("invoke", "--app", "echo:app", "-", stdin=sample("ws-message"), cwd=app_dir, env=env)

    assert (result.returncode, result.stderr.strip().splitlines()[-1]) == (
        1,
        f"asgi-lambda: the WebSocket event did not go through (the function logged why, above): WebSocket message on "
        f"{SAMPLE_CONNECTION_ID} dropped: no such connection in the store (expired, or never accepted)",
    )


def test_an_adapter_built_in_code_is_invoked_as_the_handler_it_is(env: dict[str, str]) -> None:
    result = cli("invoke", "hello_http:handler", "-", stdin=sample("http-v2"), cwd=EXAMPLES / "mangum", env=env)

    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["body"] == "Hello, world!"


@pytest.mark.parametrize(
    "args", [("echo:app", "-"), ("--app", "echo:app", "-"), ("-", "--app", "echo:app")], ids=["APP", "--app", "--app-after"]
)
def test_the_app_is_given_as_app_or_as_the_app_option(app_dir: Path, env: dict[str, str], args: tuple[str, ...]) -> None:
    result = cli("invoke", *args, stdin=sample("http-v2", "--path", "/items"), cwd=app_dir, env=env)

    assert (result.returncode, json.loads(result.stdout)["body"]) == (0, "/items")


def test_env_file_sets_the_app_before_it_is_imported(app_dir: Path, env: dict[str, str]) -> None:
    (app_dir / ".env").write_text("ASGI_APP=echo:handler\n")

    result = cli("invoke", "--env-file", ".env", "-", stdin=sample("http-v2", "--path", "/from-env"), cwd=app_dir, env=env)

    assert (result.returncode, json.loads(result.stdout)["body"]) == (0, "/from-env")


def test_two_different_apps_are_refused(app_dir: Path, env: dict[str, str]) -> None:
    result = cli("invoke", "echo:app", "-", "--app", "echo:handler", stdin="{}", cwd=app_dir, env=env)

    assert (result.returncode, result.stderr) == (1, "asgi-lambda: APP 'echo:app' and --app 'echo:handler': give the app once\n")
