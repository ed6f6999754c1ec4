"""Raw ASGI apps the tests serve: one that records what it got, one with a lifespan, a WebSocket chat."""

from __future__ import annotations

import asyncio
from typing import Any


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


class LifespanApp:
    """A raw ASGI app with a lifespan that counts startups and keeps a loop-bound object. Served
    without a lifespan (lifespan="off"), it answers `no lifespan`."""

    def __init__(self, *, fail_startup: str | None = None) -> None:
        self.fail_startup = fail_startup
        self.startups = 0
        self.shutdowns = 0
        self.lock: asyncio.Lock | None = None

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "lifespan":
            await receive()
            self.startups += 1
            if self.fail_startup:
                await send({"type": "lifespan.startup.failed", "message": self.fail_startup})
                return
            # Made at startup, used by every request: only works if the loop outlives invocations.
            self.lock = asyncio.Lock()
            scope["state"]["counter"] = 0
            scope["state"]["shared"] = []
            await send({"type": "lifespan.startup.complete"})
            await receive()
            self.shutdowns += 1
            await send({"type": "lifespan.shutdown.complete"})
            return
        if self.lock is None:
            body = b"no lifespan"
        else:
            async with self.lock:
                state = scope["state"]
                state["counter"] += 1
                state["shared"].append(1)
            body = f"counter={state['counter']} shared={len(state['shared'])}".encode()
        await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"text/plain")]})
        await send({"type": "http.response.body", "body": body})


CONNECTION_ID = "L0SM9cOFvHcCIhw="


class ChatApp:
    """A raw ASGI websocket app that records what it sees and does what each message says."""

    def __init__(self) -> None:
        self.scopes: list[dict[str, Any]] = []
        self.received: list[dict[str, Any]] = []
        self.disconnects: list[dict[str, Any]] = []
        self.on_connect = "accept"

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        self.scopes.append(scope)
        assert (await receive())["type"] == "websocket.connect"
        if self.on_connect == "close":
            await send({"type": "websocket.close", "code": 4003})
            return
        if self.on_connect == "return":
            return
        if self.on_connect == "raise":
            raise RuntimeError("connect failed")
        await send({"type": "websocket.accept", "subprotocol": scope["subprotocols"][0] if scope["subprotocols"] else None})
        if self.on_connect == "welcome":
            await send({"type": "websocket.send", "text": "welcome"})
            await send({"type": "websocket.send", "bytes": b"\x00\x01"})
        while True:
            message = await receive()
            if message["type"] == "websocket.disconnect":
                self.disconnects.append(message)
                return
            self.received.append(message)
            text = message.get("text")
            if text == "close":
                await send({"type": "websocket.close", "code": 1000})
            elif text == "silence":
                pass
            elif text is not None:
                await send({"type": "websocket.send", "text": f"echo: {text}"})
            else:
                await send({"type": "websocket.send", "bytes": message["bytes"][::-1]})
