"""Event sources: one module per kind of Lambda event. Each maps its events to what the app
receives and shapes what the app sent into the answer that kind of event expects (the
`EventSource` protocol in types.py); `common.py` holds what several of them share.

This module is the list the adapter tries. Adding a source: its module here, one entry below.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from .alb import AlbEvent
from .apigw_http import HttpApiEvent
from .apigw_rest import RestApiEvent
from .apigw_websocket import WebSocketEvent
from .lambda_edge import LambdaEdgeEvent
from .vpc_lattice import VpcLatticeEvent, VpcLatticeV1Event

if TYPE_CHECKING:
    from ..settings import Settings
    from ..types import EventSource

# Tried in this order; the first whose `matches` accepts the event maps it. HTTP API payload 2.0
# first, the commonest; WebSocket before REST, since a $connect event may carry `httpMethod`.
HTTP_SOURCES: tuple[EventSource, ...] = (
    HttpApiEvent,
    WebSocketEvent,
    RestApiEvent,
    AlbEvent,
    VpcLatticeEvent,
    VpcLatticeV1Event,
    LambdaEdgeEvent,
)

# Non-HTTP events, POSTed to the app under `events_path` (ASGI_EVENTS_PATH): "module:Class",
# imported only when that is set. Off, these events get UnknownEventError, as any unknown event.
EVENT_SOURCES = (
    "sqs:SqsEvent",
    "sns:SnsEvent",
    "eventbridge:EventBridgeEvent",
    "s3_notification:S3NotificationEvent",
    "dynamodb_stream:DynamoDBStreamEvent",
    "kinesis_stream:KinesisStreamEvent",
)


def enabled(settings: Settings) -> tuple[EventSource, ...]:
    """The sources an adapter with these settings tries, in order."""
    if settings.events_path is None:
        return HTTP_SOURCES
    event_sources = []
    for target in EVENT_SOURCES:
        module_name, _, class_name = target.partition(":")
        event_sources.append(getattr(importlib.import_module(f"{__name__}.{module_name}"), class_name))
    return HTTP_SOURCES + tuple(event_sources)


def unknown_event_message(event: Any, tried: tuple[EventSource, ...]) -> str:
    names = "; ".join(source.name for source in tried)
    hint = ""
    if len(tried) == len(HTTP_SOURCES) and isinstance(event, dict) and ("Records" in event or "detail-type" in event):
        hint = " Non-HTTP events (SQS, SNS, EventBridge, S3, DynamoDB and Kinesis) are delivered only when ASGI_EVENTS_PATH (events_path=) is set."
    return f"The event is not one asgi_lambda handles. Supported sources: {names}.{hint} Got {describe(event)}."


def describe(event: Any) -> str:
    if isinstance(event, dict):
        keys = ", ".join(sorted(map(str, event))[:12])
        return f"an event with keys [{keys}]"
    return f"a {type(event).__name__}"
