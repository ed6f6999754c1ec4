"""The WebSocket side of the environment: a runtime (hub) installed with a given store, and the
connection records the store tests save."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from asgi_lambda.protocols import loop
from asgi_lambda.settings.websocket import WebSocketSettings
from asgi_lambda.stores import Store
from asgi_lambda.stores.record import ConnectionRecord
from asgi_lambda.websocket.hub import ConnectionHub, install_default

ENDPOINT = "https://a1b2c3d4e5.execute-api.us-east-1.amazonaws.com/prod"


@contextmanager
def websocket_runtime(store: Store, *, endpoint: str, path: str = "/ws", **settings: Any) -> Iterator[ConnectionHub]:
    """The environment's WebSocket runtime with this store, replies going to `endpoint`; `settings`
    are more of WebSocketSettings' (session_max_bytes, fanout_queue_url, ...)."""
    runtime = ConnectionHub(
        WebSocketSettings(backend=store.name, store_options={}, path=path, endpoint_url=endpoint, **settings), store=store
    )
    install_default(runtime)
    try:
        yield runtime
    finally:
        for gateway in runtime.clients.values():
            loop.run(gateway.close())
        install_default(None)


def connection(connection_id: str = "L0SM9cOFvHcCIhw=", *, expires_in: int = 7260, **scope: object) -> ConnectionRecord:
    return ConnectionRecord(
        connection_id,
        endpoint=ENDPOINT,
        scope={"path": "/ws", "query_string": "room=1", "headers": [["host", "example.com"]], "subprotocol": None, **scope},
        expires_at=int(time.time()) + expires_in,
    )


STORE_METHODS = ("save", "load", "update", "pop", "scan", "join", "leave", "rooms", "members")


def count_calls(store: Store) -> list[str]:
    """Every call of the store's contract from now on, by name, in order (the instance's methods
    wrapped; a store fixture is made per test, so nothing needs undoing)."""
    calls: list[str] = []
    for name in STORE_METHODS:
        original = getattr(store, name)
        if name == "members":

            def counted_members(*args: object, _original: object = original) -> object:
                calls.append("members")
                return _original(*args)  # type: ignore[operator]

            setattr(store, name, counted_members)
            continue

        async def counted(*args: object, _original: object = original, _name: str = name) -> object:
            calls.append(_name)
            return await _original(*args)  # type: ignore[operator]

        setattr(store, name, counted)
    return calls
