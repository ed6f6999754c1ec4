"""Ports on 127.0.0.1: one that refuses connections, one free for a server to bind; and a TCP
server there that accepts in a thread and counts who connects."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager

_held: list[socket.socket] = []


def closed_port() -> int:
    """A port on 127.0.0.1 that refuses connections: bound but never listening, and held by this
    process until it exits, so that no other test, xdist worker or interpreter can take it meanwhile."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    _held.append(sock)
    port: int = sock.getsockname()[1]
    return port


@contextmanager
def closed_endpoint() -> Iterator[str]:
    """An endpoint URL on a closed_port()."""
    yield f"http://127.0.0.1:{closed_port()}"


def free_port() -> int:
    """A port nothing listens on now, for a server started next to bind (bound to learn one, then closed)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


class AcceptingServer:
    """A TCP server on 127.0.0.1 (`port`) that accepts in a daemon thread, counts the connections in
    `accepted`, and hands each to `handle`, which closes it; a subclass answers there instead."""

    def __init__(self) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(8)
        self.sock.settimeout(0.1)  # so that the loop sees `running` turn False
        self.port: int = self.sock.getsockname()[1]
        self.accepted = 0
        self.running = True
        self.thread = threading.Thread(target=self.serve, daemon=True)
        self.thread.start()

    def serve(self) -> None:
        while self.running:
            try:
                connection, _ = self.sock.accept()
            except OSError:
                continue
            self.accepted += 1
            self.handle(connection)

    def handle(self, connection: socket.socket) -> None:
        connection.close()

    def close(self) -> None:
        self.running = False
        self.thread.join(2)
        self.sock.close()
