"""A FastAPI app traced by OpenTelemetry, for tests/integration/runtime/test_observability.py: one route, and a
WebSocket endpoint at WS_PATH (/) that echoes each message."""

from fastapi import FastAPI, WebSocket
from opentelemetry.instrumentation.fastapi import FastAPIInstrumentor

app = FastAPI()


@app.get("/items/{item_id}")
async def item(item_id: int) -> dict[str, int]:
    return {"item_id": item_id}


@app.websocket("/")
async def echo(websocket: WebSocket) -> None:
    await websocket.accept()
    while True:
        await websocket.send_text(f"echo: {await websocket.receive_text()}")


# The aws-lambda instrumentation imports the handler, and so this app, while opentelemetry-instrument
# loads the instrumentations, in no fixed order: the FastAPI one may come after this module made its
# app. Instrumenting the app itself works either way (a second instrumentation is skipped).
FastAPIInstrumentor.instrument_app(app)
