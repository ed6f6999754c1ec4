"""Amazon Kinesis Data Streams, delivered to the app as `POST {events_path}/kinesis` (passthrough.py).

https://docs.aws.amazon.com/lambda/latest/dg/with-kinesis.html

Each record's data is base64. Answer {"batchItemFailures": [{"itemIdentifier": sequenceNumber}]}
for partial batch responses.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .passthrough import PassThroughEvent, first_record_source

if TYPE_CHECKING:
    from ..types import LambdaEvent


class KinesisStreamEvent(PassThroughEvent):
    name = "Amazon Kinesis Data Streams"
    route = "kinesis"

    @classmethod
    def matches(cls, event: LambdaEvent) -> bool:
        return first_record_source(event) == "aws:kinesis"
