"""Issue #23, finding 7: a malformed answer from the Management API stays the client's own error.

A bad status line raised ValueError and a 70 KB header asyncio's LimitOverrunError, so `send()`
and `broadcast()` raised into the app instead of returning False. Here a hostile server on
127.0.0.1 answers each call as scripted; every protocol fault must come out as GatewayError (send:
False, logged), and a connection cut by a timeout or a cancellation must be closed, never kept.
"""

from __future__ import annotations

import asyncio
import logging
import socket
import threading
import time
from collections.abc import Iterator

import pytest

from asgi_lambda import send
from asgi_lambda.protocols import loop
from asgi_lambda.settings.websocket import WebSocketSettings
from asgi_lambda.stores.memory import MemoryStore
from asgi_lambda.stores.record import ConnectionRecord
from asgi_lambda.websocket import management_api
from asgi_lambda.websocket.hub import ConnectionHub, serving
from asgi_lambda.websocket.management_api import GatewayError, ManagementAPI
from tests.support.net import AcceptingServer


class HostileServer(AcceptingServer):
    """Reads one request per connection, answers `answer` (bytes; None: never answers), and notes
    when each connection was closed by the client (its EOF)."""

    def __init__(self, answer: bytes | None) -> None:
        self.answer = answer
        self.closed_by_client = 0
        super().__init__()

    def handle(self, connection: socket.socket) -> None:
        threading.Thread(target=self.talk, args=(connection,), daemon=True).start()

    def talk(self, connection: socket.socket) -> None:
        connection.settimeout(10)
        with connection:
            data = b""
            while b"\r\n\r\n" not in data:
                data += connection.recv(65536)
            if self.answer is not None:
                connection.sendall(self.answer)
            try:
                while connection.recv(65536):
                    pass
                self.closed_by_client += 1
            except OSError:
                pass


@pytest.fixture
def credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")


@pytest.fixture
def hostile(request: pytest.FixtureRequest) -> Iterator[HostileServer]:
    server = HostileServer(request.param)
    yield server
    server.close()


def wait_until(condition: object, timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition() and time.monotonic() < deadline:  # type: ignore[operator]
        time.sleep(0.01)


HUGE_HEADER = b"HTTP/1.1 200 OK\r\nx-padding: " + b"a" * 70_000 + b"\r\ncontent-length: 0\r\n\r\n"

MALFORMED = [
    (b"HTTP/1.1 abc Nope\r\ncontent-length: 0\r\n\r\n", "not an HTTP status line: b'HTTP/1.1 abc Nope\\r\\n'"),
    (b"SMTP ready\r\n\r\n", "not an HTTP status line: b'SMTP ready\\r\\n'"),
    (HUGE_HEADER, "a line longer than 64 KiB"),
    (b"HTTP/1.1 200 OK\r\ncontent-length: lots\r\n\r\n", "not a length: b'lots'"),
    (b"HTTP/1.1 200 OK\r\ncontent-length: -5\r\n\r\n", "not a length: b'-5'"),
    (b"HTTP/1.1 200 OK\r\ncontent-length: 99999999999\r\n\r\n", "a body of 99999999999 bytes, over 65536"),
    (b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\nzz\r\n", "not a length: b'zz\\r\\n'"),
    (b"HTTP/1.1 200 OK\r\nno colon here\r\n\r\n", "not an HTTP header line: b'no colon here\\r\\n'"),
]


@pytest.mark.parametrize(("hostile", "fault"), MALFORMED, indirect=["hostile"], ids=[f"answer-{i}" for i in range(len(MALFORMED))])
def test_a_malformed_answer_is_a_gateway_error_and_its_connection_is_closed(credentials: None, hostile: HostileServer, fault: str) -> None:
    client = ManagementAPI(f"http://127.0.0.1:{hostile.port}/prod", region="eu-west-1")

    with pytest.raises(GatewayError) as refused:
        loop.run(client.post("conn=", b"hello"))

    assert str(refused.value) == f"POST http://127.0.0.1:{hostile.port}/prod/@connections/conn=: {fault}"
    assert client.idle == []
    wait_until(lambda: hostile.closed_by_client == hostile.accepted)
    assert (hostile.accepted, hostile.closed_by_client) == (1, 1)


@pytest.mark.parametrize("hostile", [b"HTTP/1.1 abc\r\n\r\n", HUGE_HEADER], indirect=True, ids=["status-line", "70-kb-header"])
def test_send_returns_false_and_logs_when_the_answer_is_malformed(
    credentials: None, hostile: HostileServer, caplog: pytest.LogCaptureFixture
) -> None:
    endpoint = f"http://127.0.0.1:{hostile.port}/prod"
    store = MemoryStore()
    hub = ConnectionHub(WebSocketSettings("memory", {}, endpoint_url=endpoint), store=store)
    loop.run(store.save(ConnectionRecord("conn=", endpoint=endpoint, scope={}, expires_at=int(time.time()) + 60)))

    with caplog.at_level(logging.WARNING, logger="asgi_lambda.websocket"):
        delivered = loop.run(serving(hub, send("conn=", "hello")))

    assert delivered is False
    assert [record.getMessage().split(": ", 1)[0] for record in caplog.records] == ["WebSocket message to conn= not delivered"]
    loop.run(hub.close())


@pytest.mark.parametrize("hostile", [None], indirect=True, ids=["silent"])
def test_a_connection_cut_by_the_timeout_is_closed(credentials: None, hostile: HostileServer, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(management_api, "TIMEOUT_SECONDS", 0.3)
    client = ManagementAPI(f"http://127.0.0.1:{hostile.port}/prod", region="eu-west-1")

    with pytest.raises(GatewayError) as refused:
        loop.run(client.post("conn=", b"hello"))

    assert str(refused.value) == f"POST http://127.0.0.1:{hostile.port}/prod/@connections/conn=: TimeoutError()"
    wait_until(lambda: hostile.closed_by_client == 1)
    assert (hostile.accepted, hostile.closed_by_client, client.idle) == (1, 1, [])


@pytest.mark.parametrize("hostile", [None], indirect=True, ids=["silent"])
def test_a_connection_cut_by_a_cancellation_is_closed(credentials: None, hostile: HostileServer) -> None:
    client = ManagementAPI(f"http://127.0.0.1:{hostile.port}/prod", region="eu-west-1")

    async def cancelled() -> None:
        task = asyncio.ensure_future(client.post("conn=", b"hello"))
        while hostile.accepted == 0:
            await asyncio.sleep(0.01)
        await asyncio.sleep(0.1)  # the request is out, the answer awaited
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task

    loop.run(cancelled())

    wait_until(lambda: hostile.closed_by_client == 1)
    assert (hostile.accepted, hostile.closed_by_client, client.idle) == (1, 1, [])
