"""The matrix app in Sanic, served in ASGI mode (tests/support/frameworks/matrix.py lists the routes).

What Sanic 25.12 needs under API Gateway, each shown by tests/unit/frameworks/test_sanic.py:
- ASGI_STRIP_ROOT_PATH=1 (strip_root_path=True): Sanic routes on scope["raw_path"] as it is.
- lifespan auto or on: Sanic's ASGI mode starts the app (and runs before_server_start) in the
  lifespan startup.
- PROXIES_COUNT = 1: in ASGI mode Sanic ignores scope["scheme"], so without trusting API
  Gateway's X-Forwarded-Proto every URL it builds is http://.
- Its url_for does not know `root_path`: the stage or base path goes in through `_server`.
"""

from __future__ import annotations

from sanic import Request, Sanic, Websocket
from sanic.response import HTTPResponse, JSONResponse, json, raw


def make_app(name: str) -> Sanic:
    app = Sanic(name)
    app.config.PROXIES_COUNT = 1  # API Gateway, whose X-Forwarded-Proto is the client's scheme
    app.ctx.started = False

    @app.before_server_start
    async def startup(app: Sanic) -> None:
        app.ctx.started = True

    @app.get("/items/<item_id:int>", name="item")
    async def item(request: Request, item_id: int) -> JSONResponse:
        server = f"{request.host}{request.scope['root_path']}"
        url = app.url_for("item", item_id=item_id, _external=True, _scheme=request.scheme, _server=server)
        return json(
            {
                "item_id": item_id,
                "tags": request.args.getlist("tag"),
                "session": request.cookies.get("session"),
                "url": url,
                "started": app.ctx.started,
            }
        )

    @app.post("/form")
    async def form(request: Request) -> JSONResponse:
        return json({name: request.form.get(name) for name in request.form})

    @app.post("/json")
    async def json_echo(request: Request) -> JSONResponse:
        return json({"received": request.json}, ensure_ascii=False)

    @app.post("/upload")
    async def upload(request: Request) -> JSONResponse:
        file = request.files.get("file")
        return json({"filename": file.name, "size": len(file.body), "note": request.form.get("note")})

    @app.get("/binary")
    async def binary(request: Request) -> HTTPResponse:
        return raw(bytes(range(256)), content_type="application/octet-stream")

    @app.get("/boom")
    async def boom(request: Request) -> HTTPResponse:
        raise RuntimeError("boom")

    @app.websocket("/ws")
    async def echo(request: Request, ws: Websocket) -> None:
        while (message := await ws.recv()) is not None:  # None: the client left
            await ws.send(f"echo: {message}")

    return app


app = make_app("matrix")
