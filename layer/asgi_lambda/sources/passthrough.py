"""Non-HTTP events, delivered to the app as HTTP: what SQS, SNS, EventBridge, S3, DynamoDB
Streams and Kinesis share. Each has its own module, which says how to recognise it.

The event becomes `POST {events_path}/{route}` (`/events/sqs`) with the event as its JSON body
(`content-type: application/json`) and `aws.event` / `aws.context` in the scope, so the app
that serves the API also consumes its queue, its rules and its schedules. The app's answer:
- 2xx: its JSON body is the invocation's result (an SQS `batchItemFailures` partial batch
  response, say); an empty body is `null`, a body that is not JSON its text;
- anything else: the invocation fails with EventNotHandled, so the platform retries the event
  (or sends it to its dead-letter queue) as its configuration says.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any, Final

from ..exceptions import EventNotHandled
from .common import LAMBDA_RESPONSE_LIMIT, http_scope
from .fields import Anything, Fields, ListOf

if TYPE_CHECKING:
    from ..settings import Settings
    from ..types import LambdaEvent, LambdaResponse, Response


class PassThroughEvent:
    kind: Final = "http"
    streams = False  # Lambda streams only Function URL and REST API answers
    name: str  # each source's own
    route: str  # the last path segment: sqs, sns, eventbridge, s3, dynamodb, kinesis
    max_response_bytes = LAMBDA_RESPONSE_LIMIT
    # The event goes to the app as it came; only its records' place is read.
    fields = Fields({"Records": ListOf(Anything())}, required=("Records",))

    def __init__(self, event: LambdaEvent, context: Any, settings: Settings) -> None:
        prefix = (settings.events_path or "").rstrip("/")
        path = f"{prefix}/{self.route}"
        self.body = json.dumps(event, separators=(",", ":")).encode()
        self.scope = http_scope(
            event=event,
            context=context,
            method="POST",
            path=path,
            raw_path=path,
            root_path="",
            query_string=b"",
            headers=[(b"content-type", b"application/json"), (b"content-length", str(len(self.body)).encode())],
            lookup={},
            client_ip=None,
            protocol=None,
            domain_name=None,
        )

    def to_response(self, response: Response) -> LambdaResponse:
        status, body = response["status"], response["body"]
        if not 200 <= status < 300:
            excerpt = body[:200].decode("utf-8", "replace")
            raise EventNotHandled(
                f"The app answered {status} to the {self.name} event (POST {self.scope['path']}): {excerpt!r}. "
                "The invocation fails, so that the event is retried."
            )
        if not body:
            return None
        try:
            return json.loads(body)
        except ValueError:
            return body.decode("utf-8", "replace")


def first_record_source(event: LambdaEvent) -> object:
    """The `eventSource` of the first of the event's `Records` (SNS spells it `EventSource`)."""
    records = event.get("Records")
    if not isinstance(records, list) or not records or not isinstance(records[0], dict):
        return None
    first = records[0]
    return first.get("eventSource", first.get("EventSource"))
