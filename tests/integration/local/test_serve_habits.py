"""`asgi-lambda serve` as a uvicorn user reaches for it: the app as APP or --app, --root-path,
--log-level, --reload answering with the error while the app cannot start; WebSocket scopes that
match HTTP ones; a refused $connect answered with its status; state under the cache directory."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest
from websockets.exceptions import InvalidStatus
from websockets.sync.client import connect

from tests.support.local import ServeProcess, clean_environ, get_until

# Answers HTTP requests and WebSocket messages with what its scope says; a $connect with "boom" in
# its query string raises.
APP_SOURCE = """
import json

def seen(scope):
    return json.dumps({key: scope.get(key) for key in ("scheme", "server", "path", "root_path")})

async def app(scope, receive, send):
    if scope["type"] == "websocket":
        if b"boom" in scope["query_string"]:
            raise RuntimeError("boom")
        await receive()
        await send({"type": "websocket.accept"})
        while (await receive())["type"] == "websocket.receive":
            await send({"type": "websocket.send", "text": seen(scope)})
    elif scope["type"] == "http":
        await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"application/json")]})
        await send({"type": "http.response.body", "body": seen(scope).encode()})
"""


@pytest.fixture
def app_dir(tmp_path: Path) -> Path:
    (tmp_path / "app").mkdir()
    (tmp_path / "app" / "main.py").write_text(APP_SOURCE)
    return tmp_path / "app"


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    return clean_environ(AWS_ACCESS_KEY_ID="testing", AWS_SECRET_ACCESS_KEY="testing", XDG_CACHE_HOME=str(tmp_path / "cache"))


def test_websocket_scopes_have_the_server_and_scheme_of_http_scopes(
    serve_process: Callable[..., ServeProcess], app_dir: Path, env: dict[str, str]
) -> None:
    served = serve_process("main:app", cwd=app_dir, env=env)
    http = httpx.get(served.url).json()
    with connect(f"ws://127.0.0.1:{served.port}/") as client:
        client.send("hi")
        websocket = json.loads(client.recv(timeout=10))

    assert (http["scheme"], http["server"]) == ("http", ["127.0.0.1", served.port])
    assert (websocket["scheme"], websocket["server"]) == ("ws", ["127.0.0.1", served.port])


def test_a_failed_connect_is_refused_with_the_status_the_gateway_logs(
    serve_process: Callable[..., ServeProcess], app_dir: Path, env: dict[str, str]
) -> None:
    served = serve_process("--app", "main:app", cwd=app_dir, env=env)

    with pytest.raises(InvalidStatus) as refused:
        connect(f"ws://127.0.0.1:{served.port}/?boom", open_timeout=10)
    out, err = served.stop()

    assert refused.value.response.status_code == 500
    (line,) = [line for line in out.splitlines() if line.startswith("WS $connect")]
    assert line.split()[3] == "500"
    assert "returned without completing handshake" not in err


def test_root_path_serves_the_app_under_it_as_a_base_path_mapping_does(
    serve_process: Callable[..., ServeProcess], app_dir: Path, env: dict[str, str]
) -> None:
    served = serve_process("main:app", "--root-path", "/v1/", cwd=app_dir, env=env)

    inside = httpx.get(f"{served.url}v1/items")
    outside = httpx.get(f"{served.url}items")
    out, _ = served.stop()

    assert (inside.status_code, inside.json()["path"], inside.json()["root_path"]) == (200, "/v1/items", "/v1")
    assert (outside.status_code, outside.json()) == (404, {"message": "Not Found"})
    assert f"  HTTP          http://127.0.0.1:{served.port}/v1/   (HTTP API, payload 2.0)" in out.splitlines()
    assert "GET /items 404" in out


def test_log_level_warning_prints_no_line_per_request(
    serve_process: Callable[..., ServeProcess], app_dir: Path, env: dict[str, str]
) -> None:
    served = serve_process("main:app", "--log-level", "warning", cwd=app_dir, env=env)

    httpx.get(f"{served.url}items")
    out, err = served.stop()

    assert "GET /items" not in out + err
    assert "INFO asgi_lambda" not in err


def test_connections_are_kept_under_the_cache_directory_not_the_working_one(
    serve_process: Callable[..., ServeProcess], app_dir: Path, env: dict[str, str]
) -> None:
    served = serve_process("main:app", cwd=app_dir, env=env)
    with connect(f"ws://127.0.0.1:{served.port}/") as client:  # the store is opened with the first connection
        client.send("hi")
        client.recv(timeout=10)
    served.stop()

    state = Path(env["XDG_CACHE_HOME"]) / "asgi-lambda"
    assert (state.stat().st_mode & 0o777, (state / f"connections-{served.port}.sqlite3").exists()) == (0o700, True)
    assert not (app_dir / ".asgi-lambda").exists()


def test_under_reload_a_syntax_error_is_the_answer_until_it_is_fixed(
    serve_process: Callable[..., ServeProcess], app_dir: Path, env: dict[str, str]
) -> None:
    served = serve_process("main:app", "--reload", cwd=app_dir, env=env)

    (app_dir / "main.py").write_text(APP_SOURCE + "\ndef broken(:\n")
    failing = get_until(served.url, lambda response: response.status_code == 500)
    (app_dir / "main.py").write_text(APP_SOURCE)
    fixed = get_until(served.url, lambda response: response.status_code == 200)
    out, _ = served.stop()

    assert failing.headers["content-type"] == "text/plain; charset=utf-8"
    assert failing.text.startswith("asgi-lambda: the app failed to start; fix it and save: the server restarts on the change.\n\n")
    assert "APP='main:app' failed at init: SyntaxError: invalid syntax (main.py, line " in failing.text
    assert fixed.json()["path"] == "/"
    assert "asgi-lambda: serving main:app in a child process, started afresh on each change (--reload), behind emulated API Gateway" in out
    assert "in this process" not in out
