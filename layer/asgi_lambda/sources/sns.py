"""Amazon SNS, delivered to the app as `POST {events_path}/sns` (passthrough.py).

https://docs.aws.amazon.com/lambda/latest/dg/with-sns.html

SNS invokes asynchronously: the answer is not read, but a failure is retried.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .passthrough import PassThroughEvent, first_record_source

if TYPE_CHECKING:
    from ..types import LambdaEvent


class SnsEvent(PassThroughEvent):
    name = "Amazon SNS"
    route = "sns"

    @classmethod
    def matches(cls, event: LambdaEvent) -> bool:
        return first_record_source(event) == "aws:sns"
