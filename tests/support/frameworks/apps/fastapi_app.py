"""The matrix app in FastAPI (tests/support/frameworks/matrix.py lists the routes)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Annotated, Any

from fastapi import Cookie, FastAPI, File, Form, Query, Request, Response, UploadFile, WebSocket


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[dict[str, Any]]:
    yield {"started": True}


app = FastAPI(lifespan=lifespan)


@app.get("/items/{item_id}", name="item")
async def item(
    item_id: int, request: Request, tag: Annotated[list[str], Query()], session: Annotated[str | None, Cookie()] = None
) -> dict[str, Any]:
    return {
        "item_id": item_id,
        "tags": tag,
        "session": session,
        "url": str(request.url_for("item", item_id=item_id)),
        "started": request.state.started,
    }


@app.post("/form")
async def form(name: Annotated[str, Form()], lang: Annotated[str, Form()]) -> dict[str, str]:
    return {"name": name, "lang": lang}


@app.post("/json")
async def json_echo(received: dict[str, Any]) -> dict[str, Any]:
    return {"received": received}


@app.post("/upload")
async def upload(file: Annotated[UploadFile, File()], note: Annotated[str, Form()]) -> dict[str, Any]:
    return {"filename": file.filename, "size": len(await file.read()), "note": note}


@app.get("/binary")
async def binary() -> Response:
    return Response(bytes(range(256)), media_type="application/octet-stream")


@app.get("/boom")
async def boom() -> None:
    raise RuntimeError("boom")


@app.websocket("/ws")
async def echo(websocket: WebSocket) -> None:
    await websocket.accept()
    while True:
        await websocket.send_text(f"echo: {await websocket.receive_text()}")
