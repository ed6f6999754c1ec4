"""The example app of template.yaml: a raw ASGI app, with no dependencies and no Lambda handler.

It deploys as is: the asgi-lambda layer's exec wrapper finds it through ASGI_APP
(hello.main:app in template.yaml, main:app in examples/serverless).
HTTP: GET / answers a JSON hello showing the scope's path and root_path; anything else is a 404.
WebSocket: connections are accepted and each text message comes back as "echo: <text>".
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import Any

Scope = dict[str, Any]
Message = dict[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]


async def app(scope: Scope, receive: Receive, send: Send) -> None:
    if scope["type"] == "http":
        await _http(scope, receive, send)
    elif scope["type"] == "websocket":
        await _websocket(receive, send)
    elif scope["type"] == "lifespan":
        await _lifespan(receive, send)


async def _http(scope: Scope, receive: Receive, send: Send) -> None:
    # The request body is not used, but reading it lets the server see the request through.
    while (await receive()).get("more_body", False):
        pass
    if scope["path"] == "/" and scope["method"] == "GET":
        status = 200
        payload = {"hello": "world", "path": scope["path"], "root_path": scope.get("root_path", "")}
    else:
        status = 404
        payload = {"error": "not found", "path": scope["path"]}
    body = json.dumps(payload).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


async def _websocket(receive: Receive, send: Send) -> None:
    while True:
        message = await receive()
        if message["type"] == "websocket.connect":
            await send({"type": "websocket.accept"})
        elif message["type"] == "websocket.receive":
            text = message.get("text")
            if text is not None:
                await send({"type": "websocket.send", "text": f"echo: {text}"})
        elif message["type"] == "websocket.disconnect":
            return


async def _lifespan(receive: Receive, send: Send) -> None:
    while True:
        message = await receive()
        if message["type"] == "lifespan.startup":
            await send({"type": "lifespan.startup.complete"})
        elif message["type"] == "lifespan.shutdown":
            await send({"type": "lifespan.shutdown.complete"})
            return
