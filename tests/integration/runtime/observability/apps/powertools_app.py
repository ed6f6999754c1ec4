"""A FastAPI app using Powertools' Logger and Tracer, for tests/integration/runtime/test_observability.py.

The layer puts the invocation's Lambda context in the scope (`aws.context`, beside `aws.event`), so
a middleware hands both to Logger.inject_lambda_context once per request: every log line then
carries function_request_id, cold_start and the rest, as with a decorated Lambda handler.
"""

from aws_lambda_powertools import Logger, Tracer
from fastapi import FastAPI, Request

logger = Logger()  # POWERTOOLS_SERVICE_NAME names the service
tracer = Tracer()
app = FastAPI()


@logger.inject_lambda_context(clear_state=True)
def log_with_lambda_context(event: dict, context: object) -> None:
    """Powertools' decorator adds the context's keys to the log lines that follow."""


@app.middleware("http")
async def lambda_context(request: Request, call_next):  # type: ignore[no-untyped-def]
    log_with_lambda_context(request.scope["aws.event"], request.scope["aws.context"])
    return await call_next(request)


@app.get("/items/{item_id}")
@tracer.capture_method
async def item(item_id: int) -> dict[str, object]:
    tracer.put_annotation(key="item_id", value=item_id)
    logger.info("item read", extra={"item_id": item_id})
    return {"item_id": item_id}
