"""The matrix app in Bottle, a WSGI app (tests/support/frameworks/matrix.py lists the routes). Bottle
has no lifespan and no WebSockets; `request.url` and `get_url` take SCRIPT_NAME into account."""

from __future__ import annotations

from typing import Any

from bottle import Bottle, HTTPResponse, request

app = Bottle()


@app.get("/items/<item_id:int>", name="item")
def item(item_id: int) -> dict[str, Any]:
    return {
        "item_id": item_id,
        "tags": request.query.getall("tag"),
        "session": request.get_cookie("session"),
        "url": f"{request.urlparts.scheme}://{request.urlparts.netloc}{app.get_url('item', item_id=item_id)}",
        "started": False,
    }


@app.post("/form")
def form() -> dict[str, Any]:
    return {name: request.forms.getunicode(name) for name in request.forms}


@app.post("/json")
def json_echo() -> dict[str, Any]:
    return {"received": request.json}


@app.post("/upload")
def upload() -> dict[str, Any]:
    file = request.files["file"]
    return {"filename": file.raw_filename, "size": len(file.file.read()), "note": request.forms.getunicode("note")}


@app.get("/binary")
def binary() -> HTTPResponse:
    return HTTPResponse(bytes(range(256)), headers={"Content-Type": "application/octet-stream"})


@app.get("/boom")
def boom() -> None:
    raise RuntimeError("boom")
