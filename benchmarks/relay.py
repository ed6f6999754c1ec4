"""A counting TCP relay: what a store's round trips to its server are, on the wire.

Hooks in a client library count the operations it was asked for; the relay counts what
reached the network, so it also sees what a library does on its own: connection setup,
authentication, statements prepared before they run, retries. It forwards bytes unchanged
between 127.0.0.1:<relay.port> and the server, and counts a round trip each time the client
sends after the server last spoke (or for the first time on a connection): writes the client
pipelines without waiting for an answer count once.
"""

from __future__ import annotations

import selectors
import socket
import threading


class RoundTripRelay:
    def __init__(self, host: str, port: int) -> None:
        self.target = (host, port)
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.lock = threading.Lock()
        self.round_trips = 0
        self.connections = 0  # TCP connections opened through the relay
        self.open: set[socket.socket] = set()
        threading.Thread(target=self._accept, name="relay-accept", daemon=True).start()

    @property
    def port(self) -> int:
        port: int = self.listener.getsockname()[1]
        return port

    def take(self) -> tuple[int, int]:
        """Round trips and new connections since the last take, and start counting afresh.
        A client has read its answer before it returns, and the relay counted the request
        before forwarding it, so the counts are complete when the operation is."""
        with self.lock:
            counts = (self.round_trips, self.connections)
            self.round_trips = self.connections = 0
        return counts

    def close(self) -> None:
        try:
            self.listener.shutdown(socket.SHUT_RDWR)  # wakes the accepting thread
        except OSError:
            pass
        self.listener.close()
        with self.lock:
            sockets, self.open = list(self.open), set()
        for sock in sockets:
            sock.close()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            try:
                upstream = socket.create_connection(self.target, timeout=5)
            except OSError:
                client.close()
                continue
            upstream.settimeout(None)
            for sock in (client, upstream):
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            with self.lock:
                self.connections += 1
                self.open.update((client, upstream))
            threading.Thread(target=self._pipe, args=(client, upstream), name="relay-pipe", daemon=True).start()

    def _pipe(self, client: socket.socket, upstream: socket.socket) -> None:
        client_spoke = False  # since the server last did
        selector = selectors.DefaultSelector()
        selector.register(client, selectors.EVENT_READ)
        selector.register(upstream, selectors.EVENT_READ)
        try:
            while True:
                for key, _ in selector.select():
                    sock = key.fileobj
                    assert isinstance(sock, socket.socket)
                    data = sock.recv(65536)
                    if not data:
                        return
                    if sock is client:
                        if not client_spoke:
                            client_spoke = True
                            with self.lock:
                                self.round_trips += 1
                        upstream.sendall(data)
                    else:
                        client_spoke = False
                        client.sendall(data)
        except (OSError, ValueError):
            pass
        finally:
            selector.close()
            with self.lock:
                self.open.difference_update((client, upstream))
            client.close()
            upstream.close()
