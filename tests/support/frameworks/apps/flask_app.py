"""The matrix app in Flask, a WSGI app (tests/support/frameworks/matrix.py lists the routes). Flask
has no lifespan and no WebSockets; `url_for` carries the stage or base path from SCRIPT_NAME."""

from __future__ import annotations

from typing import Any

from flask import Flask, Response, request, url_for

app = Flask(__name__)


@app.get("/items/<int:item_id>")
def item(item_id: int) -> dict[str, Any]:
    return {
        "item_id": item_id,
        "tags": request.args.getlist("tag"),
        "session": request.cookies.get("session"),
        "url": url_for("item", item_id=item_id, _external=True),
        "started": False,
    }


@app.get("/where")
def where() -> dict[str, Any]:
    return {"script_root": request.script_root, "path": request.path, "url": url_for("where")}


@app.post("/form")
def form() -> dict[str, Any]:
    return dict(request.form.items())


@app.post("/json")
def json_echo() -> dict[str, Any]:
    return {"received": request.get_json()}


@app.post("/upload")
def upload() -> dict[str, Any]:
    file = request.files["file"]
    return {"filename": file.filename, "size": len(file.read()), "note": request.form["note"]}


@app.get("/binary")
def binary() -> Response:
    return Response(bytes(range(256)), content_type="application/octet-stream")


@app.get("/cookies")
def cookies() -> Response:
    response = Response("two cookies")
    response.set_cookie("a", "1")
    response.set_cookie("b", "2", httponly=True)
    return response


@app.get("/boom")
def boom() -> None:
    raise RuntimeError("boom")
