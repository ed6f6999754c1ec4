"""Application Load Balancer targets, with and without multi-value headers.

Events follow https://docs.aws.amazon.com/elasticloadbalancing/latest/application/lambda-functions.html
"""

from __future__ import annotations

import logging

import pytest

from asgi_lambda.sources.alb import AlbEvent
from tests.support import adapter
from tests.support.apps import RecordingApp
from tests.support.events import load_event, mapped

HOST = "asgi-123456789.us-east-1.elb.amazonaws.com"


@pytest.fixture(autouse=True)
def fresh_warning_flag(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(AlbEvent, "warned_single_value", False)


def test_alb_single_value_event_maps_to_the_exact_scope(app: RecordingApp) -> None:
    adapter(app)(load_event("alb_single_value"), None)

    assert mapped(app.scope) == {
        "type": "http",
        "asgi": {"version": "3.0", "spec_version": "2.4"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": "/items/a b",
        "raw_path": b"/items/a%20b",
        "root_path": "",
        # ALB passes query values undecoded: they go through exactly as the client sent them.
        "query_string": b"q=a%20b&plus=1+1&redirect=https%3A%2F%2Fexample.com%2F",
        "headers": [
            (b"accept", b"application/json"),
            (b"host", HOST.encode()),
            (b"user-agent", b"curl/8.5.0"),
            (b"x-amzn-trace-id", b"Root=1-65a1b2c3-0123456789abcdef01234567"),
            (b"x-forwarded-for", b"198.51.100.1, 203.0.113.9"),
            (b"x-forwarded-port", b"80"),
            (b"x-forwarded-proto", b"http"),
        ],
        # The entry the load balancer appended; the earlier one is the client's to invent.
        "client": ("203.0.113.9", 0),
        "server": (HOST, 80),
    }


def test_alb_multi_value_event_keeps_every_repeat(app: RecordingApp) -> None:
    adapter(app)(load_event("alb_multi_value"), None)

    assert app.scope["query_string"] == b"tag=a&tag=b&q=a%20b&plus=1+1"
    assert [value for name, value in app.scope["headers"] if name == b"x-probe"] == [b"first", b"second"]
    assert (app.scope["scheme"], app.scope["server"]) == ("https", (HOST, 443))


def test_alb_base64_request_body_is_decoded(app: RecordingApp) -> None:
    adapter(app)(load_event("alb_post_base64"), None)

    assert (app.scope["query_string"], app.bodies) == (b"", [bytes(range(256))])


def test_alb_multi_value_response_keeps_every_value() -> None:
    app = RecordingApp(headers=[(b"content-type", b"text/plain"), (b"set-cookie", b"a=1"), (b"set-cookie", b"b=2")])

    response = adapter(app)(load_event("alb_multi_value"), None)

    assert response == {
        "statusCode": 200,
        "statusDescription": "200 OK",
        "body": "ok",
        "isBase64Encoded": False,
        "multiValueHeaders": {"content-type": ["text/plain"], "set-cookie": ["a=1", "b=2"]},
    }


def test_alb_single_value_response_joins_repeats_and_keeps_every_cookie() -> None:
    app = RecordingApp(
        status=404,
        headers=[
            (b"content-type", b"text/plain"),
            (b"vary", b"Accept"),
            (b"vary", b"Cookie"),
            (b"set-cookie", b"a=1"),
            (b"set-cookie", b"b=2"),
            (b"set-cookie", b"c=3"),
        ],
    )

    response = adapter(app)(load_event("alb_single_value"), None)

    assert response == {
        "statusCode": 404,
        "statusDescription": "404 Not Found",
        "body": "ok",
        "isBase64Encoded": False,
        "headers": {
            "content-type": "text/plain",
            "vary": "Accept, Cookie",
            # One string per name: each cookie under its own casing of the same header.
            "set-cookie": "a=1",
            "Set-cookie": "b=2",
            "sEt-cookie": "c=3",
        },
    }


def test_alb_single_value_cookie_warning_is_logged_once(caplog: pytest.LogCaptureFixture) -> None:
    app = RecordingApp(headers=[(b"set-cookie", b"a=1"), (b"set-cookie", b"b=2")])
    handler = adapter(app)

    with caplog.at_level(logging.WARNING, logger="asgi_lambda"):
        handler(load_event("alb_single_value"), None)
        handler(load_event("alb_single_value"), None)

    assert [record.getMessage() for record in caplog.records] == [
        "The response sets 2 cookies but the ALB target group sends single-value headers; they are sent "
        "under differently cased Set-Cookie names. Enable multi-value headers on the target group "
        "(lambda.multi_value_headers.enabled) to send them as they are."
    ]


@pytest.mark.parametrize(("status", "description"), [(200, "200 OK"), (302, "302 Found"), (418, "418 I'm a Teapot"), (599, "599")])
def test_alb_status_description_has_code_and_reason(status: int, description: str) -> None:
    response = adapter(RecordingApp(status=status))(load_event("alb_single_value"), None)

    assert response["statusDescription"] == description
