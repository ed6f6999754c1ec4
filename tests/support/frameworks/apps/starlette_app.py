"""The matrix app in Starlette (tests/support/frameworks/matrix.py lists the routes)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route, WebSocketRoute
from starlette.websockets import WebSocket


@asynccontextmanager
async def lifespan(app: Starlette) -> AsyncIterator[dict[str, Any]]:
    yield {"started": True}


async def item(request: Request) -> JSONResponse:
    item_id = request.path_params["item_id"]
    return JSONResponse(
        {
            "item_id": item_id,
            "tags": request.query_params.getlist("tag"),
            "session": request.cookies.get("session"),
            "url": str(request.url_for("item", item_id=item_id)),
            "started": request.state.started,
        }
    )


async def form(request: Request) -> JSONResponse:
    return JSONResponse(dict(await request.form()))


async def json_echo(request: Request) -> JSONResponse:
    return JSONResponse({"received": await request.json()})


async def upload(request: Request) -> JSONResponse:
    fields = await request.form()
    file = fields["file"]
    assert not isinstance(file, str)
    return JSONResponse({"filename": file.filename, "size": len(await file.read()), "note": fields["note"]})


async def binary(request: Request) -> Response:
    return Response(bytes(range(256)), media_type="application/octet-stream")


async def boom(request: Request) -> Response:
    raise RuntimeError("boom")


async def echo(websocket: WebSocket) -> None:
    await websocket.accept()
    while True:
        await websocket.send_text(f"echo: {await websocket.receive_text()}")


app = Starlette(
    lifespan=lifespan,
    routes=[
        Route("/items/{item_id:int}", item, name="item"),
        Route("/form", form, methods=["POST"]),
        Route("/json", json_echo, methods=["POST"]),
        Route("/upload", upload, methods=["POST"]),
        Route("/binary", binary),
        Route("/boom", boom),
        WebSocketRoute("/ws", echo),
    ],
)
