"""API Gateway HTTP API, payload format 2.0.

Events follow https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-develop-integrations-lambda.html
"""

from __future__ import annotations

import base64

from tests.support import adapter
from tests.support.apps import RecordingApp
from tests.support.events import load_event, mapped

HOST = "a1b2c3d4e5.execute-api.us-east-1.amazonaws.com"


def test_http_api_event_maps_to_the_exact_scope(app: RecordingApp) -> None:
    adapter(app)(load_event("http_api_v2_get"), None)

    assert mapped(app.scope) == {
        "type": "http",
        "asgi": {"version": "3.0", "spec_version": "2.4"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "https",
        "path": "/items/42",
        "raw_path": b"/items/42",
        "root_path": "",
        # rawQueryString goes through as sent: still encoded, "+" untouched.
        "query_string": b"tag=a&tag=b&q=a+b&plus=1%2B1&empty=",
        "headers": [
            (b"accept", b"application/json"),
            (b"content-length", b"0"),
            (b"host", HOST.encode()),
            (b"user-agent", b"curl/8.5.0"),
            (b"x-amzn-trace-id", b"Root=1-65a1b2c3-0123456789abcdef01234567"),
            (b"x-forwarded-for", b"198.51.100.1, 203.0.113.9"),
            (b"x-forwarded-port", b"443"),
            (b"x-forwarded-proto", b"https"),
            (b"x-probe", b"first,second"),
            (b"cookie", b"session=abc123; theme=dark"),
        ],
        # From requestContext.http.sourceIp, not the client-writable X-Forwarded-For.
        "client": ("203.0.113.9", 0),
        "server": (HOST, 443),
    }


def test_http_api_named_stage_is_the_root_path(app: RecordingApp) -> None:
    adapter(app)(load_event("http_api_v2_named_stage"), None)

    assert (app.scope["path"], app.scope["raw_path"], app.scope["root_path"]) == (
        "/dev/items/42",
        b"/dev/items/42",
        "/dev",
    )


def test_http_api_stage_and_base_path_together_form_the_root_path(app: RecordingApp) -> None:
    event = load_event("http_api_v2_named_stage")
    event["rawPath"] = "/dev/api/items/42"

    adapter(app, api_gateway_base_path="api")(event, None)

    assert (app.scope["path"], app.scope["root_path"]) == ("/dev/api/items/42", "/dev/api")


def test_http_api_decoded_unicode_path_is_reencoded_in_raw_path(app: RecordingApp) -> None:
    # HTTP APIs hand over rawPath already decoded, despite its name.
    adapter(app)(load_event("http_api_v2_unicode_path"), None)

    assert (app.scope["path"], app.scope["raw_path"]) == ("/café/a b", b"/caf%C3%A9/a%20b")


def test_http_api_custom_domain_base_path_becomes_root_path(app: RecordingApp) -> None:
    adapter(app, api_gateway_base_path="/v1/")(load_event("http_api_v2_custom_domain"), None)

    assert (app.scope["path"], app.scope["root_path"], app.scope["server"]) == (
        "/v1/items/42",
        "/v1",
        ("api.example.com", 443),
    )


def test_base_path_is_stripped_only_on_a_segment_boundary(app: RecordingApp) -> None:
    event = load_event("http_api_v2_get")
    event["rawPath"] = "/apiary/hive"

    adapter(app, api_gateway_base_path="/api")(event, None)

    assert (app.scope["path"], app.scope["root_path"]) == ("/apiary/hive", "")


def test_base_path_alone_is_the_whole_path(app: RecordingApp) -> None:
    event = load_event("http_api_v2_get")
    event["rawPath"] = "/api"

    adapter(app, api_gateway_base_path="/api")(event, None)

    assert (app.scope["path"], app.scope["root_path"]) == ("/api", "/api")


def test_http_api_base64_request_body_is_decoded(app: RecordingApp) -> None:
    adapter(app)(load_event("http_api_v2_post_base64"), None)

    assert (app.scope["method"], app.bodies) == ("POST", [bytes(range(256))])


def test_http_api_response_puts_set_cookie_in_cookies_and_joins_other_repeats() -> None:
    app = RecordingApp(
        headers=[
            (b"content-type", b"application/json"),
            (b"set-cookie", b"a=1; Path=/"),
            (b"Set-Cookie", b"b=2; Path=/"),
            (b"cache-control", b"no-store"),
            (b"cache-control", b"max-age=0"),
        ],
        body=b'{"ok": true}',
    )

    response = adapter(app)(load_event("http_api_v2_get"), None)

    assert response == {
        "statusCode": 200,
        "headers": {"content-type": "application/json", "cache-control": "no-store, max-age=0"},
        "body": '{"ok": true}',
        "isBase64Encoded": False,
        "cookies": ["a=1; Path=/", "b=2; Path=/"],
    }


def test_http_api_response_invents_no_content_type() -> None:
    app = RecordingApp(headers=[], body=b"plain bytes")

    response = adapter(app)(load_event("http_api_v2_get"), None)

    # Mangum adds "content-type: application/json" here; we send what the app sent.
    assert response == {
        "statusCode": 200,
        "headers": {},
        "body": base64.b64encode(b"plain bytes").decode(),
        "isBase64Encoded": True,
    }


def test_http_api_head_is_answered_without_a_body() -> None:
    app = RecordingApp(headers=[(b"content-type", b"text/html")], body=b"<p>hi</p>")

    response = adapter(app)(load_event("http_api_v2_head"), None)

    assert response == {"statusCode": 200, "headers": {"content-type": "text/html"}, "body": "", "isBase64Encoded": False}
