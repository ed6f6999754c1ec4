"""The ASGI apps under test. Raw ASGI apps keep the framework out of the numbers, so what
is measured is the adapter; the FastAPI app shows what that is worth in a real app."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

# Local aliases rather than asgi_lambda's, so the apps depend on nothing under test.
Scope = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]
Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]

TEXT_HEADERS = [(b"content-type", b"text/plain; charset=utf-8"), (b"content-length", b"2")]


async def minimal_app(scope: Scope, receive: Receive, send: Send) -> None:
    """200 text/plain "ok", whatever the request. Only ever run with lifespan off."""
    await send({"type": "http.response.start", "status": 200, "headers": TEXT_HEADERS})
    await send({"type": "http.response.body", "body": b"ok"})


async def lifespan_app(scope: Scope, receive: Receive, send: Send) -> None:
    """Speaks lifespan and answers with what startup put in the state, so the sanity check
    also proves each adapter delivered the lifespan state to the request."""
    if scope["type"] == "lifespan":
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                scope["state"]["greeting"] = "ok"
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await send({"type": "lifespan.shutdown.complete"})
                return
    body = scope["state"]["greeting"].encode()
    await send({"type": "http.response.start", "status": 200, "headers": TEXT_HEADERS})
    await send({"type": "http.response.body", "body": body})


# 200 KB of bytes that are not UTF-8 text, so both adapters answer them base64-encoded.
BINARY_BODY = bytes(range(256)) * 800
BINARY_HEADERS = [(b"content-type", b"application/octet-stream"), (b"content-length", str(len(BINARY_BODY)).encode())]


async def binary_app(scope: Scope, receive: Receive, send: Send) -> None:
    """200 application/octet-stream, 200 KB: what the response size guard costs. Lifespan off."""
    await send({"type": "http.response.start", "status": 200, "headers": BINARY_HEADERS})
    await send({"type": "http.response.body", "body": BINARY_BODY})


def fastapi_app() -> Any:
    """GET /items/{item_id} -> JSON. Imported lazily: FastAPI's import is slow and only this
    case needs it."""
    from fastapi import FastAPI

    app = FastAPI()

    @app.get("/items/{item_id}")
    async def read_item(item_id: int) -> dict[str, Any]:
        return {"id": item_id, "name": f"item {item_id}", "tags": ["a", "b"]}

    return app
