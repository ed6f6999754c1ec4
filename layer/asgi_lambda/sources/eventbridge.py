"""Amazon EventBridge events, scheduled rules included, delivered to the app as
`POST {events_path}/eventbridge` (passthrough.py).

https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-events.html
https://docs.aws.amazon.com/lambda/latest/dg/services-cloudwatchevents.html

A scheduled rule's event has `source` "aws.events" and `detail-type` "Scheduled Event".
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .fields import TEXT, Anything, Fields
from .passthrough import PassThroughEvent

if TYPE_CHECKING:
    from ..types import LambdaEvent


class EventBridgeEvent(PassThroughEvent):
    name = "Amazon EventBridge"
    route = "eventbridge"
    fields = Fields({"detail-type": TEXT, "source": TEXT, "detail": Anything()}, required=("detail-type", "source"))

    @classmethod
    def matches(cls, event: LambdaEvent) -> bool:
        return "detail-type" in event and "source" in event and "detail" in event
