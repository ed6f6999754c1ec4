"""The Runtime API emulator writes each reply, head and body, in one write on a socket with
TCP_NODELAY, so a kept-alive connection takes no delayed-ACK stall (~40 ms a reply) between the
runtime client and the emulator. `python -m benchmarks.runtime_api` measures it."""

from __future__ import annotations

import http.client
import json
import os
import socket
import socketserver
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from asgi_lambda.local.runtime_api import PREFIX, RuntimeAPI


@pytest.fixture
def writes(monkeypatch: pytest.MonkeyPatch) -> list[tuple[int, bytes]]:
    """Every write the emulator's handlers make: (TCP_NODELAY on the socket, the bytes)."""
    seen: list[tuple[int, bytes]] = []
    lock = threading.Lock()
    write = socketserver._SocketWriter.write  # type: ignore[attr-defined]

    def recording(self: socketserver._SocketWriter, data: bytes) -> int:  # type: ignore[name-defined]
        with lock:
            seen.append((self._sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY), bytes(data)))
        return write(self, data)  # type: ignore[no-any-return]

    monkeypatch.setattr(socketserver._SocketWriter, "write", recording)  # type: ignore[attr-defined]
    return seen


def test_each_reply_is_one_write_on_a_socket_without_nagle(writes: list[tuple[int, bytes]]) -> None:
    with RuntimeAPI() as api:
        request_id = api.submit({"hello": "world"})
        host, port = api.address.split(":")

        next_call = http.client.HTTPConnection(host, int(port), timeout=5)
        next_call.request("GET", f"{PREFIX}/invocation/next")
        event = next_call.getresponse()
        assert (event.status, json.loads(event.read())) == (200, {"hello": "world"})
        answer = http.client.HTTPConnection(host, int(port), timeout=5)
        answer.request("POST", f"{PREFIX}/invocation/{request_id}/response", body=b'{"ok": true}')
        accepted = answer.getresponse()
        assert (accepted.status, accepted.read()) == (202, b'{"status": "OK"}')

    assert len(writes) == 2  # the event, then the 202
    for nodelay, data in writes:
        assert nodelay != 0
        head, _, body = data.partition(b"\r\n\r\n")
        length = next(line for line in head.split(b"\r\n") if line.lower().startswith(b"content-length:"))
        assert int(length.split(b":")[1]) == len(body) > 0  # the whole body came with its head
    assert writes[0][1].startswith(b"HTTP/1.0 200 OK\r\n")
    assert b"\r\nLambda-Runtime-Aws-Request-Id: " + request_id.encode() + b"\r\n" in writes[0][1]
    assert writes[1][1].startswith(b"HTTP/1.0 202 Accepted\r\n")


@pytest.fixture
def kept_alive_api() -> Iterator[RuntimeAPI]:
    """The emulator speaking HTTP/1.1, as a Runtime API on an HTTP/1.1 server does: awslambdaric's
    client then keeps one connection for every /next and /response, where a reply in two writes stalls."""
    with RuntimeAPI() as api:
        api._server.RequestHandlerClass.protocol_version = "HTTP/1.1"  # this emulator's own class
        yield api


def test_a_kept_alive_connection_takes_no_delayed_ack_stall(kept_alive_api: RuntimeAPI, tmp_path: Path) -> None:
    (tmp_path / "echo.py").write_text("def handler(event, context):\n    return event\n")
    env = {
        **os.environ,
        "AWS_LAMBDA_RUNTIME_API": kept_alive_api.address,
        "LAMBDA_TASK_ROOT": str(tmp_path),
        "AWS_LAMBDA_FUNCTION_NAME": "echo",
        "AWS_EXECUTION_ENV": f"AWS_Lambda_python{sys.version_info.major}.{sys.version_info.minor}",
    }
    runtime = subprocess.Popen([sys.executable, "-m", "awslambdaric", "echo.handler"], cwd=tmp_path, env=env, stdout=subprocess.DEVNULL)
    try:
        assert kept_alive_api.wait_ready(30), "awslambdaric did not call /next"
        seconds = []
        for number in range(30):
            started = time.perf_counter()
            result = kept_alive_api.invoke({"n": number}, timeout=10)
            seconds.append(time.perf_counter() - started)
            assert result.payload == {"n": number}
    finally:
        runtime.kill()
        runtime.wait()

    # Two replies per invocation (the event, the 202): a stall would put the median near 80 ms.
    assert statistics.median(seconds[5:]) < 0.02, [round(second * 1000, 1) for second in seconds]
