"""Which source maps which event: every fixture in tests/events/ goes to exactly the source
written for it, whatever else the event carries."""

from __future__ import annotations

from typing import Any

import pytest

from asgi_lambda import Adapter
from asgi_lambda.sources.alb import AlbEvent
from asgi_lambda.sources.apigw_http import HttpApiEvent
from asgi_lambda.sources.apigw_rest import RestApiEvent
from asgi_lambda.sources.apigw_websocket import WebSocketEvent
from asgi_lambda.sources.authorizer import AuthorizerEvent
from asgi_lambda.sources.dynamodb_stream import DynamoDBStreamEvent
from asgi_lambda.sources.eventbridge import EventBridgeEvent
from asgi_lambda.sources.kinesis_stream import KinesisStreamEvent
from asgi_lambda.sources.lambda_edge import LambdaEdgeEvent
from asgi_lambda.sources.s3_notification import S3NotificationEvent
from asgi_lambda.sources.sns import SnsEvent
from asgi_lambda.sources.sqs import SqsEvent
from asgi_lambda.sources.vpc_lattice import VpcLatticeEvent, VpcLatticeV1Event
from tests.support import adapter
from tests.support.apps import RecordingApp
from tests.support.events import load_event
from tests.support.paths import EVENTS

SOURCE_OF = {
    "alb_": AlbEvent,
    "apigw_rest_": RestApiEvent,
    "http_api_v1_": RestApiEvent,
    "http_api_v2_": HttpApiEvent,
    "function_url_": HttpApiEvent,
    "ws_": WebSocketEvent,
    "authorizer_": AuthorizerEvent,
    "vpc_lattice_v2_": VpcLatticeEvent,
    "vpc_lattice_v1_": VpcLatticeV1Event,
    "lambda_edge_": LambdaEdgeEvent,
    "sqs_": SqsEvent,
    "sns_": SnsEvent,
    "eventbridge_": EventBridgeEvent,
    "s3_": S3NotificationEvent,
    "dynamodb_": DynamoDBStreamEvent,
    "kinesis_": KinesisStreamEvent,
}


def expected_source(fixture: str) -> Any:
    return next(source for prefix, source in SOURCE_OF.items() if fixture.startswith(prefix))


@pytest.mark.parametrize("fixture", sorted(path.stem for path in EVENTS.glob("*.json")))
def test_each_fixture_is_mapped_by_its_own_source(fixture: str) -> None:
    adapter = Adapter(RecordingApp(), lifespan="off", events_path="/events")
    source = expected_source(fixture)

    if getattr(source, "refuses", False):  # found only to be refused: map raises its refusal
        assert adapter.sources.find(load_event(fixture)) is source
    else:
        assert type(adapter.map(load_event(fixture), None)) is source


def test_a_websocket_connect_event_carrying_http_method_is_a_websocket_event() -> None:
    event = load_event("ws_connect")
    event.update(httpMethod="GET", path="/", resource="/")

    assert type(adapter(RecordingApp()).map(event, None)) is WebSocketEvent


def test_non_http_events_are_unknown_until_events_path_is_set() -> None:
    adapter = Adapter(RecordingApp(), lifespan="off")

    for fixture in ("sqs_batch", "sns_notification", "eventbridge_scheduled", "s3_put", "dynamodb_stream", "kinesis_stream"):
        with pytest.raises(Exception, match="delivered only when ASGI_EVENTS_PATH"):
            adapter.map(load_event(fixture), None)
