"""CloudFront Lambda@Edge viewer-request and origin-request events, answered with a generated
response in the shape AWS documents.

Events follow https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/lambda-event-structure.html,
responses https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/lambda-generating-http-responses-in-requests.html
"""

from __future__ import annotations

import base64
import logging

import pytest
from mangum import Mangum

from asgi_lambda import UnknownEventError
from tests.support import adapter
from tests.support.apps import RecordingApp
from tests.support.events import load_event, mapped


def test_origin_request_maps_to_the_exact_scope_and_body(app: RecordingApp) -> None:
    adapter(app)(load_event("lambda_edge_origin_request"), None)

    assert mapped(app.scope) == {
        "type": "http",
        "asgi": {"version": "3.0", "spec_version": "2.4"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "https",
        "path": "/contact/submit",
        "raw_path": b"/contact/submit",
        "root_path": "",
        # CloudFront passes the query string as the viewer encoded it.
        "query_string": b"lang=en&tag=a&tag=b&q=caf%C3%A9%20latte",
        "headers": [
            (b"host", b"app.origin.example.com"),
            (b"x-forwarded-for", b"198.51.100.77"),
            (b"user-agent", b"Amazon CloudFront"),
            (b"via", b"2.0 5c1d9e0b7a3f4e2d8c6b1a0f9e8d7c6b.cloudfront.net (CloudFront)"),
            (b"content-type", b"application/x-www-form-urlencoded"),
            (b"content-length", b"66"),
            (b"accept", b"text/html"),
            # A header sent twice is two entries, kept apart.
            (b"x-experiment", b"checkout-v2"),
            (b"x-experiment", b"dark-mode"),
            # Two Cookie headers become one, as HTTP/1.1 has it and frameworks read it.
            (b"cookie", b"session=s%3A9f8e7d6c; theme=dark; consent=yes"),
        ],
        "client": ("198.51.100.77", 0),
        "server": ("app.origin.example.com", 443),
    }
    # CloudFront always sends the body base64.
    assert app.bodies == [b"name=Ada+Lovelace&email=ada%40example.com&message=Hello%2C+edge%21"]
    assert app.scope["aws.input_truncated"] is False


def test_viewer_request_decodes_the_path_and_keeps_the_raw_one(app: RecordingApp) -> None:
    adapter(app)(load_event("lambda_edge_viewer_request"), None)

    assert (app.scope["method"], app.scope["path"], app.scope["raw_path"], app.scope["query_string"]) == (
        "GET",
        "/articles/hello world",
        b"/articles/hello%20world",
        b"page=2&sort=-created",
    )
    assert (app.scope["client"], app.scope["server"], app.bodies) == (("2001:db8:4f2a::17", 0), ("www.example.com", 443), [b""])


def test_a_truncated_body_is_said_in_the_scope(app: RecordingApp) -> None:
    event = load_event("lambda_edge_origin_request")
    event["Records"][0]["cf"]["request"]["body"]["inputTruncated"] = True

    adapter(app)(event, None)

    assert app.scope["aws.input_truncated"] is True


def test_the_answer_has_cloudfronts_shape_with_every_set_cookie_kept() -> None:
    app = RecordingApp(
        status=201,
        headers=[
            (b"content-type", b"text/html; charset=utf-8"),
            (b"set-cookie", b"a=1; Path=/"),
            (b"set-cookie", b"b=2; Path=/"),
            (b"cache-control", b"no-store"),
        ],
        body=b"<p>created</p>",
    )

    response = adapter(app)(load_event("lambda_edge_origin_request"), None)

    assert response == {
        "status": "201",
        "statusDescription": "Created",
        "headers": {
            "content-type": [{"key": "Content-Type", "value": "text/html; charset=utf-8"}],
            "set-cookie": [{"key": "Set-Cookie", "value": "a=1; Path=/"}, {"key": "Set-Cookie", "value": "b=2; Path=/"}],
            "cache-control": [{"key": "Cache-Control", "value": "no-store"}],
        },
        "bodyEncoding": "text",
        "body": "<p>created</p>",
    }


def test_a_binary_answer_is_base64_encoded() -> None:
    app = RecordingApp(headers=[(b"content-type", b"image/png")], body=b"\x89PNG\r\n")

    response = adapter(app)(load_event("lambda_edge_viewer_request"), None)

    assert (response["bodyEncoding"], base64.b64decode(response["body"])) == ("base64", b"\x89PNG\r\n")


def test_headers_cloudfront_refuses_in_a_generated_response_are_left_out() -> None:
    app = RecordingApp(
        headers=[
            (b"content-type", b"text/plain"),
            (b"content-length", b"2"),
            (b"transfer-encoding", b"chunked"),
            (b"connection", b"keep-alive"),
            (b"via", b"1.1 app"),
            (b"x-amz-cf-pop", b"LHR"),
            (b"x-edge-location", b"LHR"),
            (b"x-request-id", b"42"),
        ]
    )

    response = adapter(app)(load_event("lambda_edge_viewer_request"), None)

    assert sorted(response["headers"]) == ["content-type", "x-request-id"]


def test_a_viewer_request_answer_over_40_kb_is_a_logged_500(caplog: pytest.LogCaptureFixture) -> None:
    app = RecordingApp(headers=[(b"content-type", b"text/plain")], body=b"x" * (41 * 1024))

    with caplog.at_level(logging.ERROR, logger="asgi_lambda"):
        response = adapter(app)(load_event("lambda_edge_viewer_request"), None)

    assert (response["status"], response["body"]) == ("500", "Internal Server Error")
    assert "over the 40960-byte limit" in caplog.text


def test_an_origin_request_answer_of_41_kb_is_sent() -> None:
    app = RecordingApp(headers=[(b"content-type", b"text/plain")], body=b"x" * (41 * 1024))

    response = adapter(app)(load_event("lambda_edge_origin_request"), None)

    assert (response["status"], len(response["body"])) == ("200", 41 * 1024)


def test_response_events_are_not_requests(app: RecordingApp) -> None:
    event = load_event("lambda_edge_origin_request")
    event["Records"][0]["cf"]["config"]["eventType"] = "origin-response"

    with pytest.raises(Exception, match="not one asgi_lambda handles"):
        adapter(app)(event, None)


def test_where_mangum_differs_from_cloudfronts_documented_shape() -> None:
    # Mangum 0.22 answers with an int status, isBase64Encoded instead of bodyEncoding, and one
    # entry per header name (the second Set-Cookie lost). CloudFront documents the shape above.
    app = RecordingApp(headers=[(b"content-type", b"text/plain"), (b"set-cookie", b"a=1"), (b"set-cookie", b"b=2")])

    theirs = Mangum(app, lifespan="off")(load_event("lambda_edge_viewer_request"), None)
    ours = adapter(app)(load_event("lambda_edge_viewer_request"), None)

    assert (theirs["status"], "bodyEncoding" in theirs, len(theirs["headers"]["set-cookie"])) == (200, False, 1)
    assert (ours["status"], ours["bodyEncoding"], len(ours["headers"]["set-cookie"])) == ("200", "text", 2)


# `sam local generate-event cloudfront ...` samples (samcli/lib/generated_sample_events/events/
# cloudfront/, rendered with their defaults: uri /test, method GET) name no event type, and some
# have no querystring or no clientIp.


def test_a_sam_sample_without_event_type_or_querystring_maps_to_the_exact_scope_and_is_answered(app: RecordingApp) -> None:
    response = adapter(app)(load_event("lambda_edge_sam_response_generation"), None)

    assert mapped(app.scope) == {
        "type": "http",
        "asgi": {"version": "3.0", "spec_version": "2.4"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "https",
        "path": "/test",
        "raw_path": b"/test",
        "root_path": "",
        "query_string": b"",
        "headers": [(b"host", b"d3k9x2example7.cloudfront.net")],
        "client": ("2001:db8:4f2a::17", 0),
        "server": ("d3k9x2example7.cloudfront.net", 443),
    }
    assert app.bodies == [b""]
    assert response == {
        "status": "200",
        "statusDescription": "OK",
        "headers": {"content-type": [{"key": "Content-Type", "value": "text/plain; charset=utf-8"}]},
        "bodyEncoding": "text",
        "body": "ok",
    }


def test_a_sam_sample_without_client_ip_has_no_client(app: RecordingApp) -> None:
    response = adapter(app)(load_event("lambda_edge_sam_redirect_unauthenticated_users"), None)

    assert (app.scope["method"], app.scope["path"], app.scope["query_string"], app.scope["client"]) == (
        "GET",
        "/test",
        b"next=%2Faccount",
        None,
    )
    assert (response["status"], response["body"]) == ("200", "ok")


def test_a_sam_sample_carrying_a_response_is_a_response_event_and_unknown(app: RecordingApp) -> None:
    # sam's access-request-in-response sample: a request and the response to it, no event type.
    event = load_event("lambda_edge_sam_response_generation")
    event["Records"][0]["cf"]["response"] = {"status": "200", "statusDescription": "OK", "headers": {}}

    with pytest.raises(UnknownEventError) as error:
        adapter(app)(event, None)

    assert str(error.value) == (
        "The event is not one asgi_lambda handles. Supported sources: API Gateway HTTP API (payload 2.0) and Lambda "
        "Function URL; API Gateway REST API (payload 1.0); Application Load Balancer; API Gateway WebSocket API; Amazon "
        "VPC Lattice (event structure version 2); Amazon VPC Lattice (event structure version 1); CloudFront Lambda@Edge "
        "(viewer-request, origin-request). Non-HTTP events (SQS, SNS, EventBridge, S3, DynamoDB and Kinesis) are "
        "delivered only when ASGI_EVENTS_PATH (events_path=) is set. Got an event with keys [Records]."
    )
    assert app.scopes == []


def test_a_sam_sample_answer_is_held_to_the_viewer_request_limit(caplog: pytest.LogCaptureFixture) -> None:
    app = RecordingApp(headers=[(b"content-type", b"text/plain")], body=b"x" * (41 * 1024))

    with caplog.at_level(logging.ERROR, logger="asgi_lambda"):
        response = adapter(app)(load_event("lambda_edge_sam_response_generation"), None)

    assert (response["status"], response["body"]) == ("500", "Internal Server Error")
    assert "over the 40960-byte limit" in caplog.text
