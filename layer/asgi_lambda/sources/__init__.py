"""Event sources: one module per kind of Lambda event. Each maps its events to what the app
receives and shapes what the app sent into the answer that kind of event expects (the
`EventSource` protocol below); `common.py` holds what several of them share.

This module is the order the adapter tries them in. Adding a source: its module here, one entry
below.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any, Protocol

from .alb import AlbEvent
from .apigw_http import HttpApiEvent
from .apigw_rest import RestApiEvent

if TYPE_CHECKING:
    from ..settings import Settings
    from ..types import LambdaEvent, MappedEvent
    from .fields import Fields


class EventSource(Protocol):
    """One kind of Lambda event: a class whose instances are its events, mapped. `fields` declares
    the fields its mapping reads and the types it accepts (fields.py)."""

    name: str
    fields: Fields

    @classmethod
    def matches(cls, event: LambdaEvent) -> bool: ...

    def __call__(self, event: LambdaEvent, context: Any, settings: Settings) -> MappedEvent: ...


# Tried first, in this order, and imported with the package: HTTP API payload 2.0, the commonest,
# then REST and ALB.
COMMON_SOURCES: tuple[EventSource, ...] = (HttpApiEvent, RestApiEvent, AlbEvent)

# Tried next, as "module:Class", imported on the first event none of the above takes, so that an
# HTTP function's cold start never pays for them. The sources above refuse their events (a
# WebSocket $connect may carry httpMethod, an authorizer's REQUEST event looks like a request).
# Authorizers before WebSocket: a WebSocket API's $connect authorizer gets the $connect event,
# requestContext and all, with a methodArn.
OTHER_SOURCES = (
    "authorizer:AuthorizerEvent",
    "apigw_websocket:WebSocketEvent",
    "vpc_lattice:VpcLatticeEvent",
    "vpc_lattice:VpcLatticeV1Event",
    "lambda_edge:LambdaEdgeEvent",
)

# Non-HTTP events, POSTed to the app under `events_path` (ASGI_EVENTS_PATH): tried only when that
# is set. Off, these events get UnknownEventError, as any unknown event.
EVENT_SOURCES = (
    "sqs:SqsEvent",
    "sns:SnsEvent",
    "eventbridge:EventBridgeEvent",
    "s3_notification:S3NotificationEvent",
    "dynamodb_stream:DynamoDBStreamEvent",
    "kinesis_stream:KinesisStreamEvent",
)


# The layer's own fan-out pages (SQS records it queued for a broadcast), tried before any other
# source and whatever `events_path` says; imported on the first event with "Records", so that an
# HTTP function's cold start never pays for it.
FANOUT_SOURCE = "fanout:FanoutEvent"


class SourceOrder:
    """The sources one adapter tries, in order."""

    def __init__(self, settings: Settings) -> None:
        self.later = OTHER_SOURCES + (EVENT_SOURCES if settings.events_path is not None else ())
        self.loaded: tuple[EventSource, ...] | None = None
        self.fanout: EventSource | None = None

    def find(self, event: LambdaEvent) -> EventSource | None:
        """The source whose event this is, None when none."""
        if "Records" in event:
            if self.fanout is None:
                self.fanout = load(FANOUT_SOURCE)
            if self.fanout.matches(event):
                return self.fanout
        for source in COMMON_SOURCES:
            if source.matches(event):
                return source
        for source in self.all()[len(COMMON_SOURCES) :]:
            if source.matches(event):
                return source
        return None

    def all(self) -> tuple[EventSource, ...]:
        if self.loaded is None:
            self.loaded = COMMON_SOURCES + tuple(load(target) for target in self.later)
        return self.loaded

    def unknown_event_message(self, event: Any) -> str:
        tried = self.all()
        names = "; ".join(dict.fromkeys(source.name for source in tried if not getattr(source, "refuses", False)))
        hint = ""
        if len(self.later) == len(OTHER_SOURCES) and isinstance(event, dict) and ("Records" in event or "detail-type" in event):
            hint = " Non-HTTP events (SQS, SNS, EventBridge, S3, DynamoDB and Kinesis) are delivered only when ASGI_EVENTS_PATH (events_path=) is set."
        return f"The event is not one asgi_lambda handles. Supported sources: {names}.{hint} Got {describe(event)}."


def load(target: str) -> EventSource:
    module_name, _, class_name = target.partition(":")
    source: EventSource = getattr(importlib.import_module(f"{__name__}.{module_name}"), class_name)
    return source


def describe(event: Any) -> str:
    if isinstance(event, dict):
        keys = ", ".join(sorted(map(str, event))[:12])
        return f"an event with keys [{keys}]"
    return f"a {type(event).__name__}"
