"""Shared test helpers: events from tests/events/, and a raw ASGI app that records what it got."""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from asgi_lambda.protocols import loop
from asgi_lambda.settings.websocket import WebSocketSettings
from asgi_lambda.stores import Store
from asgi_lambda.websocket.hub import ConnectionHub, install_default

from .websocket.management_api import ManagementAPIStub

EVENTS = Path(__file__).parent / "events"

# The scope keys an event source maps; `aws.event` and `aws.context` are checked on their own.
MAPPED_KEYS = (
    "type",
    "asgi",
    "http_version",
    "method",
    "scheme",
    "path",
    "raw_path",
    "root_path",
    "query_string",
    "headers",
    "client",
    "server",
)


def load_event(name: str) -> dict[str, Any]:
    """A fresh copy of tests/events/<name>.json, safe to modify in a test."""
    return copy.deepcopy(_load(name))


_cache: dict[str, dict[str, Any]] = {}


def _load(name: str) -> dict[str, Any]:
    if name not in _cache:
        _cache[name] = json.loads((EVENTS / f"{name}.json").read_text())
    return _cache[name]


def mapped(scope: dict[str, Any]) -> dict[str, Any]:
    return {key: scope[key] for key in MAPPED_KEYS}


class RecordingApp:
    """A raw ASGI app: records each scope and request body, answers with a fixed response."""

    def __init__(
        self,
        *,
        status: int = 200,
        headers: list[tuple[bytes, bytes]] | None = None,
        body: bytes = b"ok",
    ) -> None:
        self.status = status
        self.headers = [(b"content-type", b"text/plain; charset=utf-8")] if headers is None else headers
        self.body = body
        self.scopes: list[dict[str, Any]] = []
        self.bodies: list[bytes] = []

    @property
    def scope(self) -> dict[str, Any]:
        return self.scopes[-1]

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            raise ValueError(f"RecordingApp serves http only, not {scope['type']}")
        self.scopes.append(scope)
        message = await receive()
        self.bodies.append(message["body"])
        await send({"type": "http.response.start", "status": self.status, "headers": self.headers})
        await send({"type": "http.response.body", "body": self.body})


@pytest.fixture
def app() -> RecordingApp:
    return RecordingApp()


@pytest.fixture
def stub(monkeypatch: pytest.MonkeyPatch) -> Iterator[ManagementAPIStub]:
    """A loopback Management API, and fake credentials for the client that signs calls to it."""
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    server = ManagementAPIStub()
    yield server
    server.close()


@contextmanager
def websocket_runtime(store: Store, *, endpoint: str, path: str = "/ws") -> Iterator[ConnectionHub]:
    """The environment's WebSocket runtime with this store, replies going to `endpoint`."""
    runtime = ConnectionHub(WebSocketSettings(backend=store.name, store_options={}, path=path, endpoint_url=endpoint), store=store)
    install_default(runtime)
    try:
        yield runtime
    finally:
        for gateway in runtime.clients.values():
            loop.run(gateway.close())
        install_default(None)
