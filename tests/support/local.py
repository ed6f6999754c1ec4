"""The local gateway served for real: uvicorn in a background thread on a free port, the function
in its worker thread, as `asgi-lambda serve` runs them (without the CLI's argument handling); and
`asgi-lambda serve` in a child process."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest

from asgi_lambda.local.cli import listen, make_server
from asgi_lambda.local.events import MANAGEMENT_PREFIX, WS_STAGE, Payload
from asgi_lambda.local.function import Function, InProcessFunction
from asgi_lambda.local.gateway import Gateway
from asgi_lambda.local.runtime_function import function_environ

from .net import free_port


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


# --- `asgi-lambda serve` in a child process -----------------------------------------------------


def clean_environ(**changes: str) -> dict[str, str]:
    """This environment without ASGI_*, WS_* and AWS_* variables, unbuffered, with `changes`."""
    clean = {name: value for name, value in os.environ.items() if not name.startswith(("ASGI_", "WS_", "AWS_"))}
    return {**clean, "PYTHONUNBUFFERED": "1", **changes}


class ServeProcess:
    """`python -m asgi_lambda serve ...` in a child process, answering on `url` once started."""

    def __init__(self, *args: str, cwd: Path, env: dict[str, str], port: int | None = None) -> None:
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}/"
        command = [sys.executable, "-m", "asgi_lambda", "serve", *args, "--port", str(self.port)]
        self.process = subprocess.Popen(command, cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)

    def wait_until_serving(self, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while True:
            assert self.process.poll() is None, self.process.communicate()
            try:
                httpx.get(self.url, timeout=1)
                return
            except httpx.TransportError:
                assert time.monotonic() < deadline, f"serve did not answer within {timeout} s"
                time.sleep(0.05)

    def stop(self, signum: int = signal.SIGINT, timeout: float = 30) -> tuple[str, str]:
        """Send `signum` and wait for the end; returns (stdout, stderr)."""
        if self.process.poll() is None:
            self.process.send_signal(signum)
        try:
            return self.process.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            out, err = self.process.communicate()
            raise AssertionError(f"serve did not stop within {timeout} s after signal {signum}\n{out}\n{err}") from None


def get_until(url: str, done: Callable[[httpx.Response], bool], timeout: float = 30) -> httpx.Response:
    """GET `url` until `done` says the answer is the awaited one: a server restarting under --reload
    drops or refuses a request that meets the restart, as uvicorn's does, and a later one is answered."""
    deadline = time.monotonic() + timeout
    last = "no answer"
    while True:
        try:
            response = httpx.get(url, timeout=10)
        except httpx.TransportError as exc:  # the restart
            last = repr(exc)
        else:
            if done(response):
                return response
            last = f"{response.status_code}: {response.text[:200]}"
        assert time.monotonic() < deadline, f"still {last} after {timeout} s"
        time.sleep(0.1)
