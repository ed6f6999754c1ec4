"""`asgi-lambda invoke [APP] EVENT`: one event through the handler the layer makes, its answer printed.

A WebSocket event runs as under `serve`: without WS_BACKEND its connection is kept in a SQLite file
under the cache directory (state.py), kept from one `invoke` to the next, so `ws-connect`, then
`ws-message`, then `ws-disconnect` are one connection's events; without WS_ENDPOINT_URL the replies
go to a Management API served here on loopback (`Replies`), which prints each one on stderr. With
WS_ENDPOINT_URL they go there. A reply that was not delivered (the function logs why), or an answer
other than 200, ends `invoke` with status 1: on Lambda the client would not have had it.
"""

from __future__ import annotations

import json
import logging
import os
import sys
import threading
from collections.abc import Mapping
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import unquote

from ..exceptions import AppImportError, ConfigError, LifespanFailure
from ..sources.apigw_websocket import WebSocketEvent
from .env_file import EnvFileError, load_env_file, read_env_file
from .events import MANAGEMENT_PREFIX, WS_STAGE
from .state import state_dir

PROG = "asgi-lambda"


def invoke(*, event_name: str, app: str | None, app_variable: str, app_dir: str, env_file: str | None) -> int:
    """Read the event, make the handler, run the event once; print the answer (stdout) and what the
    function sent to WebSocket clients (stderr). The exit status: 0, or 1 for a failure."""
    if env_file is not None:
        try:
            load_env_file(read_env_file(Path(env_file)), os.environ)
        except EnvFileError as exc:
            return fail(str(exc))
    try:
        text = sys.stdin.read() if event_name == "-" else Path(event_name).read_text()
    except OSError as exc:
        return fail(f"EVENT {event_name!r}: {exc.strerror or exc}")
    try:
        event = json.loads(text)
    except ValueError as exc:
        return fail(f"EVENT {event_name!r} is not JSON: {exc}")
    app = app or os.environ.get("ASGI_APP", "").strip()
    if not app:
        return fail("no app: give APP (or --app) as module:attribute, such as main:app, or set ASGI_APP")
    sys.path.insert(0, str(Path(app_dir).resolve()))
    configure_logging()
    os.environ["ASGI_APP"] = app
    websocket = isinstance(event, dict) and WebSocketEvent.matches(event)
    replies = (
        Replies(state_dir() / "invoke-management-api-port") if websocket and not os.environ.get("WS_ENDPOINT_URL", "").strip() else None
    )
    try:
        if websocket:
            os.environ.update(websocket_environ(os.environ, endpoint_url=replies.endpoint_url if replies else None))
        return run(event, app_variable=app_variable, websocket=websocket)
    finally:
        if replies is not None:
            replies.close()


def run(event: Any, *, app_variable: str, websocket: bool) -> int:
    from .function import LocalContext, local_handler

    try:
        handler = local_handler(os.environ, app_variable=app_variable)
    except (AppImportError, ConfigError, LifespanFailure) as exc:
        return fail(str(exc))
    errors = ErrorsLogged()
    logging.getLogger("asgi_lambda").addHandler(errors)
    try:
        response = handler(event, LocalContext("asgi-lambda-invoke"))
    except Exception as exc:  # what the runtime would report as the invocation's error
        sys.stdout.write(json.dumps({"errorMessage": str(exc), "errorType": type(exc).__name__}, indent=2) + "\n")
        return 1
    finally:
        logging.getLogger("asgi_lambda").removeHandler(errors)
        handler.close()
    sys.stdout.write(json.dumps(response, indent=2) + "\n")
    if websocket:
        status = response.get("statusCode") if isinstance(response, dict) else None
        if errors.messages:
            return fail(f"the WebSocket event did not go through (the function logged why, above): {errors.messages[0]}")
        if status != 200:
            return fail(f"the function answered {status} to the WebSocket event: API Gateway would not have taken it")
    return 0


def websocket_environ(environ: Mapping[str, str], *, endpoint_url: str | None) -> dict[str, str]:
    """The variables a WebSocket event needs, where the user set none: a store that outlives this
    process, where replies go, and credentials to sign them with (placeholders only when none)."""
    from .runtime_function import has_credentials

    added: dict[str, str] = {}
    if not environ.get("WS_BACKEND", "").strip():
        added.update(WS_BACKEND="sqlite", WS_SQLITE_PATH=str(state_dir() / "invoke-connections.sqlite3"))
    if endpoint_url is not None:
        added["WS_ENDPOINT_URL"] = endpoint_url
        if not has_credentials(environ):
            added.update(AWS_ACCESS_KEY_ID="local", AWS_SECRET_ACCESS_KEY="local")
    return added


class ErrorsLogged(logging.Handler):
    """The messages of the warnings and errors the package logs while the event runs: a reply not
    delivered, a message for a connection the store does not have."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        error = record.exc_info[1] if record.exc_info else None
        # "Exception in ASGI application": what went wrong is the exception (a GatewayError, say).
        self.messages.append(record.getMessage() + (f": {type(error).__name__}: {error}" if error is not None else ""))


class Replies:
    """A Management API on loopback for one `invoke`: each POST to `@connections/{id}` is printed on
    stderr and answered 200, as API Gateway answers a post to an open connection; DELETE closes it."""

    def __init__(self, port_file: Path) -> None:
        self.server = listen(port_file)
        self.server.daemon_threads = True
        port = self.server.server_address[1]
        self.endpoint_url = f"http://127.0.0.1:{port}{MANAGEMENT_PREFIX}/{WS_STAGE}"
        self.thread = threading.Thread(target=self.server.serve_forever, name="management-api", daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def listen(port_file: Path) -> ThreadingHTTPServer:
    """The server, on the port the last `invoke` used when it is free: a connection keeps the
    endpoint it was accepted with (the store's record), and each `invoke` is a new process."""
    try:
        saved = int(port_file.read_text())
    except (OSError, ValueError):
        saved = 0
    try:
        server = ThreadingHTTPServer(("127.0.0.1", saved), ReplyHandler)
    except OSError:  # taken since: connections accepted before go unanswered, and say so
        server = ThreadingHTTPServer(("127.0.0.1", 0), ReplyHandler)
    port_file.write_text(str(server.server_address[1]))
    return server


class ReplyHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # the client keeps its connection open between posts

    def do_POST(self) -> None:
        connection_id = self.connection_id()
        if connection_id is None:
            return
        data = self.rfile.read(int(self.headers.get("content-length") or 0))
        try:
            shown = data.decode()
        except UnicodeDecodeError:
            shown = f"<{len(data)} bytes>"
        say(f"sent to {connection_id}: {shown}")
        self.answer(200, b"")

    def do_DELETE(self) -> None:
        connection_id = self.connection_id()
        if connection_id is not None:
            say(f"connection {connection_id} closed by the function")
            self.answer(204, b"")

    def do_GET(self) -> None:
        if self.connection_id() is not None:
            self.answer(200, json.dumps({"identity": {"sourceIp": "127.0.0.1"}}).encode())

    def connection_id(self) -> str | None:
        path = unquote(self.path.split("?")[0])  # signed requests encode @ and =
        parts = path.split("/")
        if path.startswith(f"{MANAGEMENT_PREFIX}/{WS_STAGE}/@connections/") and len(parts) == 5 and parts[4]:
            return parts[4]
        self.answer(404, b'{"message": "Not Found"}')
        return None

    def answer(self, status: int, body: bytes) -> None:
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        pass  # each reply is printed by its handler


def say(message: str) -> None:
    sys.stderr.write(f"{PROG}: {message}\n")
    sys.stderr.flush()


def fail(message: str) -> int:
    say(message)
    return 1


def configure_logging() -> None:
    """Logs on stderr, as the runtime sends them to CloudWatch: asgi_lambda's at INFO (startup,
    app errors with tracebacks), others at WARNING."""
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    if logging.getLogger("asgi_lambda").level == logging.NOTSET:
        logging.getLogger("asgi_lambda").setLevel(logging.INFO)
