# Mangum's raw WebSocket example (its WebSocket-era README), unchanged but for the import line:
# everything happens during $connect.
from asgi_lambda import Adapter as Mangum


async def app(scope, receive, send):
    assert scope["type"] == "websocket"
    await send({"type": "websocket.accept", "subprotocol": None})
    await send({"type": "websocket.send", "text": "Hello world!"})
    await send({"type": "websocket.send", "bytes": b"Hello world!"})
    await send({"type": "websocket.close", "code": 1000})


handler = Mangum(app, ws_config={"backend": "s3", "params": {"bucket": "connections"}})
