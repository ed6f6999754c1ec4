"""What the tests share: import it, never another test module or a conftest.py.

paths          the repository's files (ROOT, EVENTS, EXAMPLES, ...), wherever a test sits
events         load_event(name), a fresh copy of tests/events/<name>.json; mapped(scope)
apps           RecordingApp, LifespanApp, ChatApp: raw ASGI apps that record what they got
websocket      websocket_runtime(store, endpoint=...), connection(): a record for the stores; count_calls(store)
management_api ManagementAPIStub, a loopback API Gateway Management API
net            closed_port(), closed_endpoint(), free_port()
parallel       names of this interpreter and xdist worker's own, on the shared servers
services       PostgreSQL and Redis: their URLs, require_server(), unique tables and prefixes
aws            the session's moto server, fake credentials, boto3 clients, the request recorder
sqs            a fan-out queue on the moto server, its messages as Lambda SQS events
local          the local gateway in this process (serve_gateway) or a child (ServeProcess)
runtime        a Lambda function run as the managed runtime runs it (harness), the layer zip
frameworks     the framework matrix and its apps
npm, browser   the release tests' npm tools; the Chromium the browser tests drive
"""

from __future__ import annotations

from typing import Any

from asgi_lambda import Adapter


def adapter(app: Any, **options: Any) -> Adapter:
    """Adapter(app, lifespan="off", **options): the adapter most tests build, with no lifespan."""
    return Adapter(app, lifespan="off", **options)


def invoke(handler: Adapter, event: dict[str, Any]) -> dict[str, Any]:
    """One invocation, without a Lambda context: handler(event, None)."""
    response: dict[str, Any] = handler(event, None)
    return response
