"""The matrix app in Falcon's ASGI flavour (tests/support/frameworks/matrix.py lists the routes).

Falcon routes on scope["path"] as it is, so it runs with ASGI_STRIP_ROOT_PATH=1
(strip_root_path=True); `req.prefix` then carries the stage or base path, as `root_path` does.
Falcon has no url_for: URLs are built from `req.prefix`."""

from __future__ import annotations

from typing import Any

import falcon
import falcon.asgi

state = {"started": False}


class Startup:
    async def process_startup(self, scope: dict[str, Any], event: dict[str, Any]) -> None:
        state["started"] = True


class Item:
    async def on_get(self, req: falcon.asgi.Request, resp: falcon.asgi.Response, item_id: int) -> None:
        resp.media = {
            "item_id": item_id,
            "tags": req.get_param_as_list("tag"),
            "session": req.cookies.get("session"),
            "url": f"{req.prefix}/items/{item_id}",
            "started": state["started"],
        }


class Form:
    async def on_post(self, req: falcon.asgi.Request, resp: falcon.asgi.Response) -> None:
        resp.media = dict(await req.get_media())


class Json:
    async def on_post(self, req: falcon.asgi.Request, resp: falcon.asgi.Response) -> None:
        resp.media = {"received": await req.get_media()}


class Upload:
    async def on_post(self, req: falcon.asgi.Request, resp: falcon.asgi.Response) -> None:
        fields: dict[str, Any] = {}
        async for part in await req.get_media():
            if part.filename:
                fields["filename"], fields["size"] = part.filename, len(await part.get_data())
            else:
                fields[part.name] = await part.get_text()
        resp.media = fields


class Binary:
    async def on_get(self, req: falcon.asgi.Request, resp: falcon.asgi.Response) -> None:
        resp.data = bytes(range(256))
        resp.content_type = "application/octet-stream"


class Boom:
    async def on_get(self, req: falcon.asgi.Request, resp: falcon.asgi.Response) -> None:
        raise RuntimeError("boom")


class Echo:
    async def on_websocket(self, req: falcon.asgi.Request, ws: falcon.asgi.WebSocket) -> None:
        await ws.accept()
        while True:
            await ws.send_text(f"echo: {await ws.receive_text()}")


app = falcon.asgi.App(middleware=[Startup()])
app.add_route("/items/{item_id:int}", Item())
app.add_route("/form", Form())
app.add_route("/json", Json())
app.add_route("/upload", Upload())
app.add_route("/binary", Binary())
app.add_route("/boom", Boom())
app.add_route("/ws", Echo())
