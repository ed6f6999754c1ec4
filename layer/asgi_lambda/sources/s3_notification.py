"""Amazon S3 event notifications, delivered to the app as `POST {events_path}/s3` (passthrough.py).

https://docs.aws.amazon.com/AmazonS3/latest/userguide/notification-content-structure.html

Object keys arrive URL-encoded, form style ("red flower.jpg" is "red+flower.jpg").
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .passthrough import PassThroughEvent, first_record_source

if TYPE_CHECKING:
    from ..types import LambdaEvent


class S3NotificationEvent(PassThroughEvent):
    name = "Amazon S3 event notifications"
    route = "s3"

    @classmethod
    def matches(cls, event: LambdaEvent) -> bool:
        return first_record_source(event) == "aws:s3"
