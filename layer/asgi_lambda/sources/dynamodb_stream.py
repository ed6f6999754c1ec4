"""Amazon DynamoDB Streams, delivered to the app as `POST {events_path}/dynamodb` (passthrough.py).

https://docs.aws.amazon.com/lambda/latest/dg/with-ddb.html

Answer {"batchItemFailures": [{"itemIdentifier": SequenceNumber}]} for partial batch responses.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .passthrough import PassThroughEvent, first_record_source

if TYPE_CHECKING:
    from ..types import LambdaEvent


class DynamoDBStreamEvent(PassThroughEvent):
    name = "Amazon DynamoDB Streams"
    route = "dynamodb"

    @classmethod
    def matches(cls, event: LambdaEvent) -> bool:
        return first_record_source(event) == "aws:dynamodb"
