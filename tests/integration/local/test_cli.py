"""`python -m asgi_lambda serve APP`: faults in one line on stderr, a served request, a clean stop."""

from __future__ import annotations

import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest
from websockets.sync.client import connect

from asgi_lambda.docs import fix
from asgi_lambda.local.cli import main
from tests.support.local import clean_environ
from tests.support.net import free_port
from tests.support.paths import directory_outside_tmp

# A raw ASGI app: says which context object its handler got (ours in-process, awslambdaric's
# under --runtime), or at /log-level the asgi_lambda logger's level, echoes WebSocket messages, and
# reports its lifespan shutdown on stdout.
# LIFESPAN_FAIL makes its startup fail.
APP_SOURCE = """
import logging
import os

async def app(scope, receive, send):
    if scope["type"] == "lifespan":
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                if os.environ.get("LIFESPAN_FAIL"):
                    await send({"type": "lifespan.startup.failed", "message": "no database"})
                    return
                await send({"type": "lifespan.startup.complete"})
            else:
                print("SHUTDOWN", flush=True)
                await send({"type": "lifespan.shutdown.complete"})
                return
    if scope["type"] == "websocket":
        await receive()
        await send({"type": "websocket.accept"})
        while (message := await receive())["type"] == "websocket.receive":
            await send({"type": "websocket.send", "text": "echo: " + message["text"]})
        return
    await receive()
    body = f"hello from {type(scope['aws.context']).__name__}".encode()
    if scope["path"] == "/log-level":
        body = logging.getLevelName(logging.getLogger("asgi_lambda").getEffectiveLevel()).encode()
    await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"text/plain")]})
    await send({"type": "http.response.body", "body": body})
"""


@pytest.fixture
def app_dir(tmp_path: Path) -> Path:
    (tmp_path / "main.py").write_text(APP_SOURCE)
    return tmp_path


@pytest.fixture
def env() -> dict[str, str]:
    return clean_environ(AWS_ACCESS_KEY_ID="testing", AWS_SECRET_ACCESS_KEY="testing")


@pytest.fixture
def runtime_store(env: dict[str, str]) -> Iterator[None]:
    """Under --runtime the function looks like Lambda, where an SQLite file under /tmp (the app's
    directory here, so the default store's) is refused: the file goes elsewhere."""
    with directory_outside_tmp() as directory:
        env.update(WS_BACKEND="sqlite", WS_SQLITE_PATH=str(directory / "connections.sqlite3"))
        yield


def run_cli(*args: str, cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "asgi_lambda", *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=60)


@pytest.fixture
def start_cli(app_dir: Path, env: dict[str, str]) -> Iterator[Callable[..., tuple[subprocess.Popen[str], str]]]:
    """`start_cli(*options)` runs `python -m asgi_lambda serve main:app --port N *options` and waits
    until it answers; returns the process and its URL. Stopped after the test if still running."""
    processes: list[subprocess.Popen[str]] = []

    def start(*options: str) -> tuple[subprocess.Popen[str], str]:
        port = free_port()
        command = [sys.executable, "-m", "asgi_lambda", "serve", "main:app", "--port", str(port), *options]
        process = subprocess.Popen(command, cwd=app_dir, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        processes.append(process)
        url = f"http://127.0.0.1:{port}/"
        deadline = time.monotonic() + 30
        while True:
            assert process.poll() is None, process.communicate()
            try:
                httpx.get(url, timeout=1)
                return process, url
            except httpx.TransportError:
                assert time.monotonic() < deadline, "the gateway did not answer within 30 s"
                time.sleep(0.05)

    yield start
    for process in processes:
        if process.poll() is None:
            process.send_signal(signal.SIGINT)  # a clean stop removes what --runtime built
            try:
                process.communicate(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.communicate()


def test_an_unknown_app_is_one_line_naming_the_fault(app_dir: Path, env: dict[str, str]) -> None:
    result = run_cli("serve", "nonexistent:app", "--port", str(free_port()), cwd=app_dir, env=env)
    assert result.returncode == 1
    assert len(result.stderr.splitlines()) == 1, result.stderr
    assert result.stderr.startswith("asgi-lambda: APP='nonexistent:app': no module named 'nonexistent'.")


def test_a_port_in_use_is_one_line_saying_so(capsys: pytest.CaptureFixture[str]) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        assert main(["serve", "main:app", "--port", str(port)]) == 1
    assert capsys.readouterr().err == f"asgi-lambda: port {port} is in use on 127.0.0.1: choose another with --port\n"


def test_an_unknown_option_is_argparses_error_and_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["serve", "main:app", "--bogus"]) == 2
    assert "unrecognized arguments: --bogus" in capsys.readouterr().err


def test_a_bad_variable_is_its_config_error(app_dir: Path, env: dict[str, str]) -> None:
    result = run_cli("serve", "main:app", "--port", str(free_port()), cwd=app_dir, env={**env, "ASGI_LIFESPAN": "maybe"})
    assert result.returncode == 1
    assert result.stderr == "asgi-lambda: ASGI_LIFESPAN='maybe': expected one of auto, on, off." + fix("invalid-value") + "\n"


def test_a_failed_startup_is_its_lifespan_failure(app_dir: Path, env: dict[str, str]) -> None:
    result = run_cli("serve", "main:app", "--port", str(free_port()), cwd=app_dir, env={**env, "LIFESPAN_FAIL": "1"})
    assert result.returncode == 1
    assert result.stderr.splitlines()[-1] == "asgi-lambda: Application startup failed: no database" + fix("lifespan-startup-failed")


def test_serves_a_request_and_stops_cleanly_on_ctrl_c(start_cli: Callable[..., tuple[subprocess.Popen[str], str]]) -> None:
    process, url = start_cli()
    answer = httpx.get(url)
    assert (answer.status_code, answer.text) == (200, "hello from LocalContext")
    process.send_signal(signal.SIGINT)
    out, err = process.communicate(timeout=15)
    assert process.returncode == 0, err
    assert f"HTTP          {url}" in out
    assert "GET / 200" in out
    assert out.rstrip().endswith("SHUTDOWN")  # the app's lifespan shutdown ran, last


def test_runtime_mode_serves_through_awslambdaric_and_the_built_layer(
    start_cli: Callable[..., tuple[subprocess.Popen[str], str]], runtime_store: None
) -> None:
    process, url = start_cli("--runtime")
    answer = httpx.get(url)
    assert (answer.status_code, answer.text) == (200, "hello from LambdaContext")  # awslambdaric's context
    process.send_signal(signal.SIGINT)
    out, err = process.communicate(timeout=20)
    assert process.returncode == 0, err
    assert "in a Lambda runtime" in out
    assert "SHUTDOWN" in out  # the layer ran lifespan shutdown on SIGTERM


@pytest.mark.parametrize(
    ("options", "variables", "level"),
    [
        (("--runtime",), {}, "WARNING"),
        (("--runtime", "--log-level", "debug"), {"AWS_LAMBDA_LOG_LEVEL": "ERROR"}, "DEBUG"),
        (("--runtime",), {"AWS_LAMBDA_LOG_LEVEL": "ERROR"}, "ERROR"),
        (("--log-level", "debug"), {}, "DEBUG"),
    ],
    ids=["runtime-default", "runtime-debug-over-the-variable", "runtime-the-variable", "in-process-debug"],
)
def test_the_function_logs_at_log_level_given_in_either_mode_else_under_runtime_as_on_lambda(
    start_cli: Callable[..., tuple[subprocess.Popen[str], str]],
    env: dict[str, str],
    runtime_store: None,
    options: tuple[str, ...],
    variables: dict[str, str],
    level: str,
) -> None:
    env.update(variables)
    _, url = start_cli(*options)

    assert httpx.get(f"{url}log-level").text == level


def test_runtime_mode_serves_websockets(start_cli: Callable[..., tuple[subprocess.Popen[str], str]], runtime_store: None) -> None:
    process, url = start_cli("--runtime")
    with connect(url.replace("http://", "ws://")) as ws:  # WS_PATH's default, /
        ws.send("hi")
        assert ws.recv(timeout=10) == "echo: hi"  # posted by the function's Management API client
