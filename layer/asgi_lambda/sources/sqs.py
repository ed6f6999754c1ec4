"""Amazon SQS, delivered to the app as `POST {events_path}/sqs` (passthrough.py).

https://docs.aws.amazon.com/lambda/latest/dg/with-sqs.html

A batch of messages; answer {"batchItemFailures": [{"itemIdentifier": messageId}, ...]} to
have only those retried (with ReportBatchItemFailures on the event source mapping).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .passthrough import PassThroughEvent, first_record_source

if TYPE_CHECKING:
    from ..types import LambdaEvent


class SqsEvent(PassThroughEvent):
    name = "Amazon SQS"
    route = "sqs"

    @classmethod
    def matches(cls, event: LambdaEvent) -> bool:
        return first_record_source(event) == "aws:sqs"
