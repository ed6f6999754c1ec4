"""The local gateway served for real: uvicorn in a background thread on a free port, the function
in its worker thread, as `asgi-lambda serve` runs them (without the CLI's argument handling)."""

from __future__ import annotations

import contextlib
import os
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from asgi_lambda.local.cli import listen, make_server
from asgi_lambda.local.events import MANAGEMENT_PREFIX, WS_STAGE, Payload
from asgi_lambda.local.function import Function, InProcessFunction
from asgi_lambda.local.gateway import Gateway
from asgi_lambda.local.runtime_function import function_environ


class Served:
    """A running gateway: its URLs, and the lines it logged (one per request or event)."""

    def __init__(self, gateway: Gateway, port: int, lines: list[str]) -> None:
        self.gateway = gateway
        self.base_url = f"http://127.0.0.1:{port}"
        self.ws_url = f"ws://127.0.0.1:{port}{gateway.ws_path}"
        self.endpoint_url = f"http://127.0.0.1:{port}{MANAGEMENT_PREFIX}/{WS_STAGE}"
        self.lines = lines

    def wait_for_line(self, fragment: str, timeout: float = 5.0) -> str:
        """The first logged line containing `fragment`, waiting for it (events finish after the
        client has its answer, $disconnect after the client has left)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for line in list(self.lines):
                if fragment in line:
                    return line
            time.sleep(0.01)
        raise AssertionError(f"no line with {fragment!r} within {timeout}s; lines: {self.lines}")


@contextlib.contextmanager
def serve_gateway(
    app: str,
    monkeypatch: pytest.MonkeyPatch,
    state_dir: Path,
    *,
    function: Function | None = None,
    payload: Payload = "v2",
    alb: bool = False,
    ws_path: str = "/ws",
) -> Iterator[Served]:
    sock = listen("127.0.0.1", 0)
    port: int = sock.getsockname()[1]
    endpoint_url = f"http://127.0.0.1:{port}{MANAGEMENT_PREFIX}/{WS_STAGE}"
    added = function_environ(os.environ, app=app, endpoint_url=endpoint_url, ws_path=ws_path, state_dir=state_dir, port=port)
    for name, value in added.items():
        monkeypatch.setenv(name, value)  # undone after the test
    if function is None:
        function = InProcessFunction(app_variable="APP")
    function.start()
    lines: list[str] = []
    gateway = Gateway(function, port=port, payload=payload, alb=alb, ws_path=ws_path, log=lines.append)
    server = make_server(gateway)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + 10
        while not server.started:
            assert thread.is_alive() and time.monotonic() < deadline, "the gateway did not start"
            time.sleep(0.005)
        yield Served(gateway, port, lines)
    finally:
        server.should_exit = True
        thread.join(10)
        function.close()
        sock.close()


@pytest.fixture
def function_env(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    """The function's environment: none of the caller's ASGI_*/WS_* variables, the memory store,
    and fake credentials for the Management API client's signatures."""
    for name in list(os.environ):
        if name.startswith(("ASGI_", "WS_")):
            monkeypatch.delenv(name)
    monkeypatch.setenv("WS_BACKEND", "memory")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    return monkeypatch


@pytest.fixture
def serve(function_env: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[Callable[..., Served]]:
    """`serve(app_spec, payload=..., alb=..., ws_path=..., function=...)` starts a gateway, stopped
    after the test."""
    with contextlib.ExitStack() as stack:

        def start(app: str, **options: object) -> Served:
            return stack.enter_context(serve_gateway(app, function_env, tmp_path / ".asgi-lambda", **options))  # type: ignore[arg-type]

        yield start
