"""The matrix app in BlackSheep (tests/support/frameworks/matrix.py lists the routes). BlackSheep removes
`root_path` when it routes, and its URLResolver adds it to the URLs it builds."""

from __future__ import annotations

from blacksheep import Application, Content, Request, Response, WebSocket, json
from blacksheep.server.routing import URLResolver

app = Application()
state = {"started": False}


async def startup(application: Application) -> None:
    state["started"] = True


app.on_start += startup


@app.router.get("/items/{int:item_id}", name="item")
async def item(request: Request, item_id: int, url_resolver: URLResolver) -> Response:
    return json(
        {
            "item_id": item_id,
            "tags": request.query.get("tag", []),
            "session": request.cookies.get("session"),
            "url": url_resolver.absolute_url_for("item", item_id=str(item_id)),
            "started": state["started"],
        }
    )


@app.router.post("/form")
async def form(request: Request) -> Response:
    return json(dict(await request.form() or {}))


@app.router.post("/json")
async def json_echo(request: Request) -> Response:
    return json({"received": await request.json()})


@app.router.post("/upload")
async def upload(request: Request) -> Response:
    parts = {part.name.decode(): part for part in await request.multipart()}
    file = parts["file"]
    return json(
        {
            "filename": file.file_name.decode() if file.file_name else None,
            "size": len(file.data),
            "note": parts["note"].data.decode(),
        }
    )


@app.router.get("/binary")
async def binary() -> Response:
    return Response(200, content=Content(b"application/octet-stream", bytes(range(256))))


@app.router.get("/boom")
async def boom() -> Response:
    raise RuntimeError("boom")


@app.router.ws("/ws")
async def echo(websocket: WebSocket) -> None:
    await websocket.accept()
    while True:
        await websocket.send_text(f"echo: {await websocket.receive_text()}")
