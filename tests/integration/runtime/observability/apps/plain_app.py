"""A FastAPI app with no observability code, for tests/integration/runtime/test_observability.py: Datadog's
handler wraps the layer's, and ddtrace traces FastAPI by itself."""

from fastapi import FastAPI

app = FastAPI()


@app.get("/items/{item_id}")
async def item(item_id: int) -> dict[str, int]:
    return {"item_id": item_id}
