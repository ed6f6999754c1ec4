"""Lambda Function URLs: payload format 2.0, with the path as the client encoded it.

Events follow https://docs.aws.amazon.com/lambda/latest/dg/urls-invocation.html
"""

from __future__ import annotations

from tests.support import adapter
from tests.support.apps import RecordingApp
from tests.support.events import load_event, mapped

HOST = "abcdefghij0123456789klmnop.lambda-url.us-east-1.on.aws"


def test_function_url_event_maps_to_the_exact_scope(app: RecordingApp) -> None:
    adapter(app)(load_event("function_url_get"), None)

    assert mapped(app.scope) == {
        "type": "http",
        "asgi": {"version": "3.0", "spec_version": "2.4"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "https",
        "path": "/capture/space value/a/b",
        # Function URLs keep the client's encoding in rawPath, so %2F survives.
        "raw_path": b"/capture/space%20value/a%2Fb",
        "root_path": "",
        "query_string": b"q=a+b&plus=1%2B1",
        "headers": [
            (b"accept", b"*/*"),
            (b"host", HOST.encode()),
            (b"user-agent", b"curl/8.5.0"),
            (b"x-amzn-trace-id", b"Root=1-65a1b2c3-0123456789abcdef01234567"),
            (b"x-forwarded-for", b"203.0.113.9"),
            (b"x-forwarded-port", b"443"),
            (b"x-forwarded-proto", b"https"),
            # Sent both as a header and in `cookies`: one cookie header, not two.
            (b"cookie", b"session=abc123; theme=dark"),
        ],
        "client": ("203.0.113.9", 0),
        "server": (HOST, 443),
    }


def test_function_url_base64_request_body_is_decoded(app: RecordingApp) -> None:
    adapter(app)(load_event("function_url_post_base64"), None)

    assert (app.scope["method"], app.scope["path"], app.bodies) == ("POST", "/upload", [bytes(range(256))])


def test_function_url_response_has_the_payload_v2_shape() -> None:
    app = RecordingApp(headers=[(b"content-type", b"text/html; charset=utf-8"), (b"set-cookie", b"id=7")], body=b"<h1>ok</h1>")

    response = adapter(app)(load_event("function_url_get"), None)

    assert response == {
        "statusCode": 200,
        "headers": {"content-type": "text/html; charset=utf-8"},
        "body": "<h1>ok</h1>",
        "isBase64Encoded": False,
        "cookies": ["id=7"],
    }
