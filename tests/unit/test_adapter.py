"""The adapter across sources: arguments, unknown events, body encoding and faults."""

from __future__ import annotations

import base64
import gzip
import json
import logging
from typing import Any

import pytest

from asgi_lambda import Adapter, ConfigError, UnknownEventError
from asgi_lambda.docs import fix
from asgi_lambda.exceptions import MalformedEvent
from tests.support import adapter
from tests.support.apps import RecordingApp
from tests.support.events import load_event

ONE_EVENT_PER_SOURCE = ["apigw_rest_get", "http_api_v1_get", "http_api_v2_get", "function_url_get", "alb_single_value", "alb_multi_value"]

SUPPORTED = (
    "Supported sources: API Gateway HTTP API (payload 2.0) and Lambda Function URL; API Gateway REST API (payload 1.0); "
    "Application Load Balancer; API Gateway WebSocket API; Amazon VPC Lattice (event structure version 2); "
    "Amazon VPC Lattice (event structure version 1); CloudFront Lambda@Edge (viewer-request, origin-request)."
)


def response_headers(response: dict[str, Any]) -> dict[str, Any]:
    """Every header name of the answer: payload 1.0 splits them between two keys."""
    return {**(response.get("headers") or {}), **(response.get("multiValueHeaders") or {})}


# --- arguments ----------------------------------------------------------------------


def test_mangum_keyword_arguments_are_accepted(app: RecordingApp) -> None:
    handler = Adapter(
        app,
        lifespan="off",
        api_gateway_base_path="/api",
        text_mime_types=["application/vnd.custom"],
        exclude_headers=["X-Secret"],
    )

    assert handler(load_event("http_api_v2_get"), None)["statusCode"] == 200


def test_invalid_lifespan_argument_names_the_choices(app: RecordingApp) -> None:
    with pytest.raises(ConfigError) as error:
        Adapter(app, lifespan="maybe")  # type: ignore[arg-type]

    assert str(error.value) == "lifespan='maybe': expected one of auto, on, off." + fix("invalid-value")


@pytest.mark.parametrize("argument", ["text_mime_types", "exclude_headers"])
def test_a_single_string_where_a_list_belongs_is_a_config_error(app: RecordingApp, argument: str) -> None:
    with pytest.raises(ConfigError) as error:
        adapter(app, **{argument: "application/x-custom"})

    assert str(error.value) == f"{argument}='application/x-custom': expected a list of strings, such as ['application/x-custom']." + fix(
        "invalid-value"
    )


# --- events of no known shape -------------------------------------------------------


def test_unknown_event_raises_an_error_naming_the_supported_sources(app: RecordingApp) -> None:
    with pytest.raises(UnknownEventError) as error:
        adapter(app)({"Records": [{"eventSource": "aws:mq"}]}, None)

    assert str(error.value) == (
        f"The event is not one asgi_lambda handles. {SUPPORTED} Non-HTTP events (SQS, SNS, EventBridge, S3, DynamoDB "
        "and Kinesis) are delivered only when ASGI_EVENTS_PATH (events_path=) is set. Got an event with keys [Records]."
    )


def test_non_dict_event_raises_unknown_event_error(app: RecordingApp) -> None:
    with pytest.raises(UnknownEventError) as error:
        adapter(app)("hello", None)

    assert str(error.value).endswith("Got a str.")


@pytest.mark.parametrize(
    "event",
    [
        pytest.param({"version": "2.0", "rawPath": "/", "requestContext": {"stage": "$default"}}, id="v2-without-requestContext.http"),
        pytest.param({"httpMethod": "GET", "path": "/"}, id="v1-without-requestContext"),
        pytest.param({"version": "3.0", "httpMethod": "GET", "requestContext": {}}, id="unknown-payload-version"),
        pytest.param({"requestContext": {"routeKey": "$connect", "eventType": "CONNECT"}}, id="websocket-without-connection-id"),
    ],
)
def test_near_miss_events_are_unknown(app: RecordingApp, event: dict[str, Any]) -> None:
    with pytest.raises(UnknownEventError):
        adapter(app)(event, None)


def test_known_event_missing_a_required_field_names_the_field(app: RecordingApp) -> None:
    event = load_event("apigw_rest_get")
    del event["path"]

    with pytest.raises(MalformedEvent) as error:
        adapter(app)(event, None)

    assert str(error.value) == "API Gateway REST API (payload 1.0) event: path is missing; expected a string."


def test_invalid_base64_request_body_is_a_clear_error(app: RecordingApp) -> None:
    event = load_event("http_api_v2_post_base64")
    event["body"] = "not base64!"

    with pytest.raises(MalformedEvent) as error:
        adapter(app)(event, None)

    assert str(error.value).startswith("API Gateway HTTP API (payload 2.0) and Lambda Function URL event: body is not valid base64 ")
    assert str(error.value).endswith("; expected base64, since the event is marked isBase64Encoded.")


# --- response bodies: text or base64 --------------------------------------------------


@pytest.mark.parametrize(
    "content_type",
    [
        b"text/html; charset=utf-8",
        b"application/json",
        b"application/problem+json",
        b"application/atom+xml",
        b"application/javascript",
        b"application/x-www-form-urlencoded",
        b"image/svg+xml",
        b"TEXT/CSV",
    ],
)
def test_text_content_types_are_sent_as_text(content_type: bytes) -> None:
    app = RecordingApp(headers=[(b"content-type", content_type)], body="é ✓".encode())

    response = adapter(app)(load_event("http_api_v2_get"), None)

    assert (response["body"], response["isBase64Encoded"]) == ("é ✓", False)


@pytest.mark.parametrize("content_type", [b"image/png", b"application/octet-stream", b"application/pdf", b""])
def test_binary_content_types_are_sent_as_base64(content_type: bytes) -> None:
    app = RecordingApp(headers=[(b"content-type", content_type)] if content_type else [], body=b"\x00\x01text")

    response = adapter(app)(load_event("http_api_v2_get"), None)

    assert (response["body"], response["isBase64Encoded"]) == (base64.b64encode(b"\x00\x01text").decode(), True)


def test_content_encoding_makes_a_text_body_base64() -> None:
    compressed = gzip.compress(b'{"big": "json"}')
    app = RecordingApp(headers=[(b"content-type", b"application/json"), (b"content-encoding", b"gzip")], body=compressed)

    response = adapter(app)(load_event("http_api_v2_get"), None)

    assert (response["body"], response["isBase64Encoded"]) == (base64.b64encode(compressed).decode(), True)


def test_text_body_that_is_not_utf8_falls_back_to_base64() -> None:
    app = RecordingApp(headers=[(b"content-type", b"text/plain; charset=latin-1")], body="café".encode("latin-1"))

    response = adapter(app)(load_event("http_api_v2_get"), None)

    assert (response["body"], response["isBase64Encoded"]) == (base64.b64encode(b"caf\xe9").decode(), True)


def test_text_mime_types_extend_the_defaults() -> None:
    handler_for = lambda app: adapter(app, text_mime_types=["application/vnd.custom"])  # noqa: E731
    custom = handler_for(RecordingApp(headers=[(b"content-type", b"application/vnd.custom")], body=b"abc"))
    json_app = handler_for(RecordingApp(headers=[(b"content-type", b"application/json")], body=b"{}"))

    assert custom(load_event("http_api_v2_get"), None)["isBase64Encoded"] is False
    assert json_app(load_event("http_api_v2_get"), None)["isBase64Encoded"] is False


@pytest.mark.parametrize("status", [204, 304])
@pytest.mark.parametrize("event_name", ONE_EVENT_PER_SOURCE)
def test_no_content_and_not_modified_have_no_body(status: int, event_name: str) -> None:
    app = RecordingApp(status=status, headers=[(b"etag", b'"v1"')], body=b"should not be sent")

    response = adapter(app)(load_event(event_name), None)

    assert (response["statusCode"], response["body"], response["isBase64Encoded"]) == (status, "", False)


@pytest.mark.parametrize("event_name", ONE_EVENT_PER_SOURCE)
def test_exclude_headers_applies_to_every_source(event_name: str) -> None:
    app = RecordingApp(headers=[(b"content-type", b"text/plain"), (b"X-Internal", b"1"), (b"server", b"uvicorn")])

    response = adapter(app, exclude_headers=["x-internal", "Server"])(load_event(event_name), None)

    assert set(response_headers(response)) == {"content-type"}


@pytest.mark.parametrize("event_name", ONE_EVENT_PER_SOURCE)
def test_streamed_body_chunks_are_collected(event_name: str) -> None:
    async def app(scope: Any, receive: Any, send: Any) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"text/plain")]})
        for chunk in (b"one ", b"two ", b"three"):
            await send({"type": "http.response.body", "body": chunk, "more_body": True})
        await send({"type": "http.response.body", "body": b""})

    response = adapter(app)(load_event(event_name), None)

    assert response["body"] == "one two three"


# --- faults -------------------------------------------------------------------------


class FlakyApp(RecordingApp):
    """Fails the first call in the way `fail` describes, then behaves."""

    def __init__(self, fail: str) -> None:
        super().__init__(body=b"fine")
        self.fail = fail
        self.calls = 0

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        self.calls += 1
        if self.calls > 1:
            return await super().__call__(scope, receive, send)
        if self.fail == "before start":
            raise RuntimeError("boom before start")
        await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"text/plain")]})
        if self.fail == "mid body":
            await send({"type": "http.response.body", "body": b"partial", "more_body": True})
            raise RuntimeError("boom mid body")
        if self.fail == "returns early":
            return
        await send({"type": "http.response.body", "body": b"whole"})
        raise RuntimeError("boom after complete")


INTERNAL_ERROR_V2 = {
    "statusCode": 500,
    "headers": {"content-type": "text/plain; charset=utf-8"},
    "body": "Internal Server Error",
    "isBase64Encoded": False,
}
FINE_V2 = {"statusCode": 200, "headers": {"content-type": "text/plain; charset=utf-8"}, "body": "fine", "isBase64Encoded": False}


def test_app_exception_before_the_response_is_a_500_with_the_traceback_logged(caplog: pytest.LogCaptureFixture) -> None:
    handler = adapter(FlakyApp("before start"))

    with caplog.at_level(logging.ERROR, logger="asgi_lambda"):
        first = handler(load_event("http_api_v2_get"), None)

    assert first == INTERNAL_ERROR_V2
    [record] = caplog.records
    assert record.getMessage() == "Exception in ASGI application"
    assert record.exc_info is not None and str(record.exc_info[1]) == "boom before start"
    assert handler(load_event("http_api_v2_get"), None) == FINE_V2


def test_app_exception_after_a_complete_response_keeps_the_response(caplog: pytest.LogCaptureFixture) -> None:
    handler = adapter(FlakyApp("after complete"))

    with caplog.at_level(logging.ERROR, logger="asgi_lambda"):
        first = handler(load_event("http_api_v2_get"), None)

    assert first == {"statusCode": 200, "headers": {"content-type": "text/plain"}, "body": "whole", "isBase64Encoded": False}
    assert [record.getMessage() for record in caplog.records] == ["Exception in ASGI application after its response was complete"]
    assert handler(load_event("http_api_v2_get"), None) == FINE_V2


def test_app_exception_in_the_middle_of_the_body_is_a_500(caplog: pytest.LogCaptureFixture) -> None:
    # Nothing has reached the client yet; a truncated 200 would be a lie.
    handler = adapter(FlakyApp("mid body"))

    with caplog.at_level(logging.ERROR, logger="asgi_lambda"):
        assert handler(load_event("http_api_v2_get"), None) == INTERNAL_ERROR_V2

    assert [record.getMessage() for record in caplog.records] == ["Exception in ASGI application"]
    assert handler(load_event("http_api_v2_get"), None) == FINE_V2


def test_app_returning_without_completing_its_response_is_a_500(caplog: pytest.LogCaptureFixture) -> None:
    handler = adapter(FlakyApp("returns early"))

    with caplog.at_level(logging.ERROR, logger="asgi_lambda"):
        assert handler(load_event("http_api_v2_get"), None) == INTERNAL_ERROR_V2

    assert [record.getMessage() for record in caplog.records] == ["ASGI application returned without completing its response"]


def test_response_over_lambdas_6mb_limit_is_a_logged_500(caplog: pytest.LogCaptureFixture) -> None:
    big = RecordingApp(headers=[(b"content-type", b"application/octet-stream")], body=b"\xff" * (5 * 1024 * 1024))
    handler = adapter(big)

    with caplog.at_level(logging.ERROR, logger="asgi_lambda"):
        response = handler(load_event("http_api_v2_get"), None)

    assert response == INTERNAL_ERROR_V2
    [record] = caplog.records
    assert record.getMessage() == (
        "The response to GET /items/42 is 6990621 bytes, over the 6291456-byte limit of API Gateway HTTP API "
        "(payload 2.0) and Lambda Function URL; answering 500 instead. Send large bodies another way "
        "(compression, a presigned S3 URL, pagination)."
    )
    big.body = b"\xff" * 1024
    assert handler(load_event("http_api_v2_get"), None)["statusCode"] == 200


def test_response_just_under_the_limit_is_sent() -> None:
    body = b"x" * (6 * 1024 * 1024 - 200)
    app = RecordingApp(headers=[(b"content-type", b"text/plain")], body=body)

    response = adapter(app)(load_event("http_api_v2_get"), None)

    assert (response["statusCode"], len(response["body"])) == (200, len(body))


def test_alb_response_over_its_1mb_limit_is_a_500() -> None:
    app = RecordingApp(headers=[(b"content-type", b"text/plain")], body=b"x" * (1024 * 1024))

    response = adapter(app)(load_event("alb_single_value"), None)

    assert (response["statusCode"], response["body"]) == (500, "Internal Server Error")


# --- Mangum custom handlers -----------------------------------------------------------


def test_mangum_custom_handlers_take_events_the_built_in_sources_do_not() -> None:
    from mangum.handlers import LambdaAtEdge  # a real Mangum handler class

    edge_event = {
        "Records": [
            {
                "cf": {
                    "config": {"distributionDomainName": "d111111abcdef8.cloudfront.net", "eventType": "origin-request"},
                    "request": {
                        "clientIp": "203.0.113.178",
                        "headers": {"host": [{"key": "Host", "value": "d111111abcdef8.cloudfront.net"}]},
                        "method": "GET",
                        "querystring": "size=large",
                        "uri": "/picture.jpg",
                    },
                }
            }
        ]
    }
    app = RecordingApp(headers=[(b"content-type", b"text/plain")], body=b"edge")

    response = adapter(app, custom_handlers=[LambdaAtEdge])(edge_event, None)

    assert (app.scope["path"], app.scope["query_string"], app.scope["client"]) == ("/picture.jpg", b"size=large", ("203.0.113.178", 0))
    assert response == {
        "status": 200,
        "headers": {"content-type": [{"key": "content-type", "value": "text/plain"}]},
        "body": "edge",
        "isBase64Encoded": False,
    }


@pytest.mark.parametrize(
    ("body", "is_base64"),
    [
        (base64.b64encode(bytes(range(256)) * 2000).decode(), True),
        ('ascii with "quotes", back\\slashes\nand lines\r\n\tand\x01controls ' * 30000, False),
        ("non-ASCII: café ünïcödé 日本語 😀 " * 30000, False),
    ],
    ids=["base64", "ascii-with-escapes", "non-ascii"],
)
def test_the_size_guard_measures_large_bodies_without_serialising_and_never_under(body: str, is_base64: bool) -> None:
    from asgi_lambda.adapter import response_size

    response = {"statusCode": 200, "headers": {"content-type": "x"}, "body": body, "isBase64Encoded": is_base64}
    exact = len(json.dumps(response))

    measured = response_size(response, limit=6 * 1024 * 1024)

    assert exact <= measured <= exact * 1.25
    if is_base64:
        assert measured == exact
    # Where the bound would reach the limit, the figure is exact.
    assert response_size(response, limit=exact) == exact
