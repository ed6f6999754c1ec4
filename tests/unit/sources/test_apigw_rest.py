"""API Gateway payload 1.0: REST APIs, and HTTP APIs set to payload 1.0.

Events follow https://docs.aws.amazon.com/apigateway/latest/developerguide/set-up-lambda-proxy-integrations.html
"""

from __future__ import annotations

import base64

from tests.support import adapter
from tests.support.apps import RecordingApp
from tests.support.events import load_event, mapped

HOST = "a1b2c3d4e5.execute-api.us-east-1.amazonaws.com"


def test_rest_event_maps_to_the_exact_scope(app: RecordingApp) -> None:
    adapter(app)(load_event("apigw_rest_get"), None)

    assert mapped(app.scope) == {
        "type": "http",
        "asgi": {"version": "3.0", "spec_version": "2.4"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "https",
        # The client asked for /prod/items/42: `path` has the stage, `root_path` names it.
        "path": "/prod/items/42",
        "raw_path": b"/prod/items/42",
        "root_path": "/prod",
        # Rebuilt from multiValueQueryStringParameters: repeats kept in order, re-encoded.
        "query_string": b"tag=a&tag=b&q=a+b&plus=1%2B1&empty=",
        "headers": [
            (b"accept", b"application/json"),
            (b"host", HOST.encode()),
            (b"user-agent", b"curl/8.5.0"),
            (b"x-amzn-trace-id", b"Root=1-65a1b2c3-0123456789abcdef01234567"),
            (b"x-forwarded-for", b"203.0.113.9"),
            (b"x-forwarded-port", b"443"),
            (b"x-forwarded-proto", b"https"),
            (b"x-probe", b"first"),
            (b"x-probe", b"second"),
        ],
        "client": ("203.0.113.9", 0),
        "server": (HOST, 443),
    }
    assert app.bodies == [b""]


def test_rest_scope_carries_the_raw_event_and_context(app: RecordingApp) -> None:
    event, context = load_event("apigw_rest_get"), object()

    adapter(app)(event, context)

    assert app.scope["aws.event"] is event
    assert app.scope["aws.context"] is context


def test_rest_custom_domain_base_path_becomes_root_path(app: RecordingApp) -> None:
    adapter(app, api_gateway_base_path="/v1")(load_event("apigw_rest_custom_domain"), None)

    assert (app.scope["path"], app.scope["root_path"], app.scope["server"]) == (
        "/v1/items/42",
        "/v1",
        ("api.example.com", 443),
    )


def test_rest_custom_domain_without_configured_base_path_has_no_root_path(app: RecordingApp) -> None:
    adapter(app)(load_event("apigw_rest_custom_domain"), None)

    assert (app.scope["path"], app.scope["root_path"]) == ("/v1/items/42", "")


def test_rest_encoded_slash_stays_in_raw_path_and_unicode_is_decoded(app: RecordingApp) -> None:
    adapter(app)(load_event("apigw_rest_encoded_path"), None)

    assert app.scope["path"] == "/prod/files/a/b/café"
    assert app.scope["raw_path"] == b"/prod/files/a%2Fb/caf%C3%A9"
    assert app.scope["query_string"] == b""


def test_rest_base64_request_body_is_decoded(app: RecordingApp) -> None:
    adapter(app)(load_event("apigw_rest_post_base64"), None)

    assert app.scope["method"] == "POST"
    assert app.bodies == [bytes(range(256))]


def test_rest_console_test_event_without_headers_or_query(app: RecordingApp) -> None:
    response = adapter(app)(load_event("apigw_rest_console_test"), None)

    assert (app.scope["path"], app.scope["root_path"], app.scope["headers"], app.scope["server"]) == (
        "/items/42",
        "",
        [],
        ("testPrefix.testDomainName", 443),
    )
    assert response["statusCode"] == 200


def test_rest_response_puts_single_headers_in_headers_and_repeated_ones_in_multi_value_headers() -> None:
    # Mangum 0.22's shape: a name sent once in `headers`, a repeated one (names lowercased, so
    # "Vary" and "vary" are one name) only in `multiValueHeaders`, every Set-Cookie kept.
    app = RecordingApp(
        status=201,
        headers=[
            (b"content-type", b"application/json"),
            (b"set-cookie", b"a=1; Path=/"),
            (b"Vary", b"Accept"),
            (b"set-cookie", b"b=2; Path=/"),
            (b"vary", b"Cookie"),
            (b"X-Request-Id", b"r-1"),
            (b"set-cookie", b"c=3; Path=/"),
        ],
        body=b'{"id": 42}',
    )

    response = adapter(app)(load_event("apigw_rest_get"), None)

    assert response == {
        "statusCode": 201,
        "headers": {"content-type": "application/json", "x-request-id": "r-1"},
        "multiValueHeaders": {
            "set-cookie": ["a=1; Path=/", "b=2; Path=/", "c=3; Path=/"],
            "vary": ["Accept", "Cookie"],
        },
        "body": '{"id": 42}',
        "isBase64Encoded": False,
    }


def test_rest_response_has_both_header_keys_even_when_empty() -> None:
    app = RecordingApp(status=204, headers=[], body=b"")

    response = adapter(app)(load_event("apigw_rest_get"), None)

    assert response == {"statusCode": 204, "headers": {}, "multiValueHeaders": {}, "body": "", "isBase64Encoded": False}


def test_rest_response_leaves_excluded_headers_out_of_both_keys() -> None:
    app = RecordingApp(
        headers=[
            (b"content-type", b"text/plain"),
            (b"Server", b"uvicorn"),
            (b"x-internal", b"1"),
            (b"X-Internal", b"2"),
            (b"set-cookie", b"a=1"),
        ],
        body=b"ok",
    )

    response = adapter(app, exclude_headers=["server", "X-INTERNAL"])(load_event("apigw_rest_get"), None)

    assert (response["headers"], response["multiValueHeaders"]) == ({"content-type": "text/plain", "set-cookie": "a=1"}, {})


def test_rest_head_is_answered_without_a_body() -> None:
    app = RecordingApp(headers=[(b"content-type", b"text/plain"), (b"content-length", b"5")], body=b"hello")

    response = adapter(app)(load_event("apigw_rest_head"), None)

    assert response == {
        "statusCode": 200,
        "headers": {"content-type": "text/plain", "content-length": "5"},
        "multiValueHeaders": {},
        "body": "",
        "isBase64Encoded": False,
    }


def test_rest_binary_response_is_base64() -> None:
    app = RecordingApp(headers=[(b"content-type", b"image/png")], body=b"\x89PNG\r\n\x1a\n")

    response = adapter(app)(load_event("apigw_rest_get"), None)

    assert (response["body"], response["isBase64Encoded"]) == (base64.b64encode(b"\x89PNG\r\n\x1a\n").decode(), True)


def test_http_api_payload_v1_has_the_named_stage_as_root_path(app: RecordingApp) -> None:
    adapter(app)(load_event("http_api_v1_get"), None)

    assert mapped(app.scope) | {"headers": None} == {
        "type": "http",
        "asgi": {"version": "3.0", "spec_version": "2.4"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "https",
        "path": "/dev/items/42",
        "raw_path": b"/dev/items/42",
        "root_path": "/dev",
        "query_string": b"tag=a&tag=b",
        "headers": None,
        "client": ("203.0.113.9", 0),
        "server": (HOST, 443),
    }
    # HTTP APIs comma-join repeated request headers before the function sees them.
    assert (b"x-probe", b"first,second") in app.scope["headers"]


def test_http_api_payload_v1_response_has_the_rest_shape() -> None:
    app = RecordingApp(headers=[(b"content-type", b"text/plain"), (b"set-cookie", b"a=1"), (b"set-cookie", b"b=2")], body=b"")

    response = adapter(app)(load_event("http_api_v1_get"), None)

    assert response == {
        "statusCode": 200,
        "headers": {"content-type": "text/plain"},
        "multiValueHeaders": {"set-cookie": ["a=1", "b=2"]},
        "body": "",
        "isBase64Encoded": False,
    }
