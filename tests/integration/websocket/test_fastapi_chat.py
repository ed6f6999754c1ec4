"""A FastAPI chat app with a plain @app.websocket endpoint, on every store: what its users see."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, WebSocket, WebSocketDisconnect

from asgi_lambda.websocket import broadcast
from asgi_lambda.websocket.hub import ConnectionHub
from tests.support import adapter
from tests.support.events import load_event
from tests.support.management_api import ManagementAPIStub

chat = FastAPI()


@chat.websocket("/ws")
async def room(websocket: WebSocket, name: str = "anonymous") -> None:
    await websocket.accept()
    await broadcast(f"{name} joined")
    try:
        while True:
            text = await websocket.receive_text()
            await broadcast(f"{name}: {text}")
    except WebSocketDisconnect:
        await broadcast(f"{name} left")


def event(kind: str, connection_id: str, **changes: Any) -> dict[str, Any]:
    loaded = load_event(f"ws_{kind}")
    loaded["requestContext"]["connectionId"] = connection_id
    loaded.update(changes)
    return loaded


def test_a_fastapi_chat_room_across_connect_messages_broadcast_and_disconnect(ws: ConnectionHub, stub: ManagementAPIStub) -> None:
    handler = adapter(chat)
    ada = event("connect", "ada=", queryStringParameters={"name": "Ada"}, multiValueQueryStringParameters={"name": ["Ada"]})
    bob = event("connect", "bob=", queryStringParameters={"name": "Bob"}, multiValueQueryStringParameters={"name": ["Bob"]})

    assert handler(ada, None)["statusCode"] == 200
    assert handler(bob, None)["statusCode"] == 200
    assert handler(event("message", "ada=", body="hi all"), None) == {"statusCode": 200}
    assert handler(event("disconnect", "bob="), None) == {"statusCode": 200}

    posts = [(connection_id, body.decode()) for connection_id, body in stub.posts()]
    # Bob's join reaches Ada (Bob's own connection is not open while he joins); Ada's message
    # reaches both; Bob's leaving reaches Ada. Nothing repeats when Ada's and Bob's later
    # events replay the endpoint's join.
    assert posts[0] == ("ada=", "Bob joined")
    assert sorted(posts[1:3]) == [("ada=", "Ada: hi all"), ("bob=", "Ada: hi all")]
    assert posts[3:] == [("ada=", "Bob left")]
