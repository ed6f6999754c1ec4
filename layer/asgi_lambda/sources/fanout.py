"""asgi-lambda's own fan-out pages: SQS records the layer queued for a broadcast (websocket/fanout.py).

https://docs.aws.amazon.com/lambda/latest/dg/with-sqs.html

Recognised before any other source, with or without `events_path`: an SQS batch whose first record
carries the message attribute `asgi-lambda` = `fanout`. The app never sees it: each page is posted
to its connections, and the answer is a partial batch response, {"batchItemFailures":
[{"itemIdentifier": messageId}, ...]}, naming the pages to deliver again. A record of the batch
without the attribute (a queue shared with other senders) is not the layer's to post: it is
reported as failed, so that SQS keeps it (and, past maxReceiveCount, moves it to the queue's
dead-letter queue).
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any, Final

from .fields import Anything, Fields, ListOf

if TYPE_CHECKING:
    from ..settings import Settings
    from ..types import LambdaEvent, LambdaResponse

logger = logging.getLogger("asgi_lambda.websocket")


def is_page(record: Any) -> bool:
    """An SQS record the layer queued: its `asgi-lambda` attribute says `fanout`."""
    if not isinstance(record, dict) or record.get("eventSource") != "aws:sqs":
        return False
    attributes = record.get("messageAttributes")
    attribute = attributes.get("asgi-lambda") if isinstance(attributes, dict) else None
    return isinstance(attribute, dict) and attribute.get("stringValue") == "fanout"


class FanoutEvent:
    kind: Final = "fanout"
    name = "asgi-lambda fan-out (Amazon SQS)"
    streams = False
    fields = Fields({"Records": ListOf(Anything())}, required=("Records",))

    @classmethod
    def matches(cls, event: LambdaEvent) -> bool:
        records = event.get("Records")
        return isinstance(records, list) and bool(records) and is_page(records[0])

    def __init__(self, event: LambdaEvent, context: Any, settings: Settings) -> None:
        self.context = context
        self.pages: list[tuple[str, str]] = []  # (messageId, body) of each page
        self.refused: list[str] = []  # messageIds of the records that are not pages
        for record in event["Records"]:
            message_id = record.get("messageId") if isinstance(record, dict) else None
            if not isinstance(message_id, str):
                raise ValueError(f"an SQS record without a messageId: {str(record)[:120]}")
            if is_page(record) and isinstance(record.get("body"), str):
                self.pages.append((message_id, record["body"]))
            else:
                logger.error("SQS message %s came with the fan-out's pages but is not one of them; reported as failed", message_id)
                self.refused.append(message_id)

    def to_response(self, failed: list[str]) -> LambdaResponse:
        return {"batchItemFailures": [{"itemIdentifier": message_id} for message_id in [*failed, *self.refused]]}
