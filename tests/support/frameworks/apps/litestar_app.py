"""The matrix app in Litestar (tests/support/frameworks/matrix.py lists the routes)."""

from __future__ import annotations

from typing import Any

from litestar import Litestar, Request, Response, get, post, websocket_listener
from litestar.datastructures import State
from litestar.params import FromPath, JSONBody


async def startup(app: Litestar) -> None:
    app.state.started = True


@get("/items/{item_id:int}", name="item")
async def item(request: Request[Any, Any, State], item_id: FromPath[int]) -> dict[str, Any]:
    return {
        "item_id": item_id,
        "tags": request.query_params.getall("tag"),
        "session": request.cookies.get("session"),
        "url": request.url_for("item", item_id=item_id),
        "started": request.app.state.started,
    }


@post("/form", status_code=200)
async def form(request: Request[Any, Any, State]) -> dict[str, Any]:
    return dict((await request.form()).items())


@post("/json", status_code=200)
async def json_echo(data: JSONBody[dict[str, Any]]) -> dict[str, Any]:
    return {"received": data}


@post("/upload", status_code=200)
async def upload(request: Request[Any, Any, State]) -> dict[str, Any]:
    fields = await request.form()
    file = fields["file"]
    return {"filename": file.filename, "size": len(await file.read()), "note": fields["note"]}


@get("/binary")
async def binary() -> Response[bytes]:
    return Response(bytes(range(256)), media_type="application/octet-stream")


@get("/boom")
async def boom() -> None:
    raise RuntimeError("boom")


@websocket_listener("/ws")
async def echo(data: str) -> str:
    return f"echo: {data}"


app = Litestar(
    route_handlers=[item, form, json_echo, upload, binary, boom, echo],
    on_startup=[startup],
    state=State({"started": False}),
    logging_config=None,  # Litestar's default configures the root logger; Lambda's runtime has done that
)
