"""Ports on 127.0.0.1: one that refuses connections, one free for a server to bind."""

from __future__ import annotations

import socket
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
