"""runtime/api.py's RuntimeConnection reading what a Runtime API writes, however it comes: against a
scripted server on 127.0.0.1 that answers each request with bytes written piece by piece."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

import pytest

from asgi_lambda.runtime.api import HEAD_LIMIT, PREFIX, RuntimeClientError, RuntimeConnection

# One answer: the pieces written one after the other (a short pause between them, so that each
# arrives on its own), and whether the server then closes the connection.
Answer = tuple[list[bytes], bool]


class ScriptedServer:
    """Answers the n-th request it reads, on whatever connection, with `answers[n]`; keeps the
    request lines it read."""

    def __init__(self, answers: list[Answer], family: socket.AddressFamily = socket.AF_INET) -> None:
        self.answers = list(answers)
        self.requests: list[bytes] = []
        self.connections = 0
        self.listener = socket.socket(family, socket.SOCK_STREAM)
        self.listener.bind(("::1" if family == socket.AF_INET6 else "127.0.0.1", 0))
        self.listener.listen()
        port = self.listener.getsockname()[1]
        self.address = f"[::1]:{port}" if family == socket.AF_INET6 else f"127.0.0.1:{port}"
        self.thread = threading.Thread(target=self.serve, daemon=True)
        self.thread.start()

    def serve(self) -> None:
        while self.answers:
            try:
                connection, _ = self.listener.accept()
            except OSError:
                return
            self.connections += 1
            with connection:
                while self.answers:
                    request = self.read_request(connection)
                    if request is None:
                        break
                    self.requests.append(request.split(b"\r\n", 1)[0])
                    pieces, close = self.answers.pop(0)
                    try:
                        for piece in pieces:
                            connection.sendall(piece)
                            time.sleep(0.005)
                    except OSError:  # the client hung up (an answer it refused to read on)
                        break
                    if close:
                        break

    @staticmethod
    def read_request(connection: socket.socket) -> bytes | None:
        data = b""
        while b"\r\n\r\n" not in data:
            chunk = connection.recv(65536)
            if not chunk:
                return None
            data += chunk
        head, _, body = data.partition(b"\r\n\r\n")
        length = int(next((line.split(b":")[1] for line in head.split(b"\r\n") if line.lower().startswith(b"content-length")), b"0"))
        while len(body) < length:
            body += connection.recv(65536)
        return head

    def close(self) -> None:
        self.listener.close()
        self.thread.join(5)


@contextmanager
def scripted(*answers: Answer, family: socket.AddressFamily = socket.AF_INET) -> Iterator[tuple[ScriptedServer, RuntimeConnection]]:
    server = ScriptedServer(list(answers), family)
    connection = RuntimeConnection(server.address)
    try:
        yield server, connection
    finally:
        connection.close()
        server.close()


EVENT = b'{"hello": "world"}'
NEXT = f"GET {PREFIX}/invocation/next HTTP/1.1".encode()


def test_an_answer_written_in_pieces_is_read_whole() -> None:
    head = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nLambda-Runtime-Aws-Request-Id: r-1\r\nContent-Length: 18\r\n\r\n"
    pieces = [head[:5], head[5:40], head[40:], EVENT[:4], EVENT[4:]]
    with scripted((pieces, False)) as (_, connection):
        headers, body = connection.next()

    assert (headers["lambda-runtime-aws-request-id"], headers["content-type"], body) == ("r-1", "application/json", EVENT)


def test_lines_ending_in_a_line_feed_alone_are_read() -> None:
    with scripted(([b"HTTP/1.1 200 OK\nContent-Length: 18\nX-Seen: yes\n\n" + EVENT], False)) as (_, connection):
        status, headers, body = connection.request("GET", f"{PREFIX}/invocation/next")

    assert (status, headers, body) == (200, {"content-length": "18", "x-seen": "yes"}, EVENT)


def test_a_body_without_a_length_ends_with_the_close() -> None:
    with scripted(([b"HTTP/1.1 200 OK\r\n\r\n", EVENT[:9], EVENT[9:]], True)) as (_, connection):
        status, headers, body = connection.request("GET", f"{PREFIX}/invocation/next")

        assert (status, headers, body) == (200, {"connection": "close"}, EVENT)
        assert connection.sock is None


def test_a_large_body_is_read_to_its_length_and_what_follows_is_kept_for_the_next_answer() -> None:
    event = b"x" * 3_000_000
    first = b"HTTP/1.1 200 OK\r\nContent-Length: 3000000\r\n\r\n" + event + b"HTTP/1.1 202 Accepted\r\nContent-Length: 2\r\n\r\n"
    with scripted(([first[:100_000], first[100_000:]], False), ([b"{}"], False)) as (server, connection):
        _, body = connection.next()
        status, _, answer = connection.request("POST", f"{PREFIX}/invocation/r-1/response", b"{}")

    assert (len(body), body == event, status, answer) == (3_000_000, True, 202, b"{}")
    assert server.connections == 1


def test_a_kept_alive_connection_the_api_closed_is_opened_again_once() -> None:
    ok = b"HTTP/1.1 200 OK\r\nContent-Length: 18\r\n\r\n" + EVENT
    with scripted(([ok], True), ([ok], False)) as (server, connection):
        connection.next()  # the server closes the connection after this answer
        _, body = connection.next()

    assert (body, server.connections, server.requests) == (EVENT, 2, [NEXT, NEXT])


def test_an_answer_whose_head_never_ends_fails_the_next_as_awslambdaric_reports_it() -> None:
    with scripted(([b"HTTP/1.1 200 OK\r\nX-Long: " + b"a" * (HEAD_LIMIT + 65536)], True)) as (_, connection):
        with pytest.raises(RuntimeClientError) as caught:
            connection.next()

    assert (str(caught.value), caught.value.report) == ("Failed to get next", "Failed to get next invocation. No Response from endpoint")


def test_an_ipv6_address_is_connected_to() -> None:
    if not socket.has_ipv6:
        pytest.skip("no IPv6 on this machine")
    try:
        probe = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
        probe.bind(("::1", 0))
        probe.close()
    except OSError as exc:
        pytest.skip(f"no IPv6 loopback on this machine: {exc}")
    with scripted(([b"HTTP/1.1 200 OK\r\nContent-Length: 18\r\n\r\n" + EVENT], False), family=socket.AF_INET6) as (server, connection):
        _, body = connection.next()

    assert (server.address.startswith("[::1]:"), body) == (True, EVENT)
