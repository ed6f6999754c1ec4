"""The matrix app in Quart (tests/support/frameworks/matrix.py lists the routes)."""

from __future__ import annotations

from typing import Any

from quart import Quart, Response, request, url_for, websocket

app = Quart(__name__)
app.config["started"] = False


@app.before_serving
async def startup() -> None:
    app.config["started"] = True


@app.get("/items/<int:item_id>")
async def item(item_id: int) -> dict[str, Any]:
    return {
        "item_id": item_id,
        "tags": request.args.getlist("tag"),
        "session": request.cookies.get("session"),
        "url": url_for("item", item_id=item_id, _external=True),
        "started": app.config["started"],
    }


@app.post("/form")
async def form() -> dict[str, Any]:
    return dict((await request.form).items())


@app.post("/json")
async def json_echo() -> dict[str, Any]:
    return {"received": await request.get_json()}


@app.post("/upload")
async def upload() -> dict[str, Any]:
    file = (await request.files)["file"]
    return {"filename": file.filename, "size": len(file.read()), "note": (await request.form)["note"]}


@app.get("/binary")
async def binary() -> Response:
    return Response(bytes(range(256)), content_type="application/octet-stream")


@app.get("/boom")
async def boom() -> None:
    raise RuntimeError("boom")


@app.websocket("/ws")
async def echo() -> None:
    while True:
        await websocket.send(f"echo: {await websocket.receive()}")
