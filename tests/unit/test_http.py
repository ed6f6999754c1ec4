"""The HTTP cycle: what the app receives and may send."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import pytest

from tests.support import adapter
from tests.support.events import load_event


def test_receive_reports_disconnect_only_after_the_response_is_complete() -> None:
    seen: list[str] = []

    async def app(scope: Any, receive: Any, send: Any) -> None:
        await receive()

        async def listen() -> None:
            message = await receive()
            seen.append(message["type"])

        listener = asyncio.ensure_future(listen())
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"a", "more_body": True})
        await asyncio.sleep(0)
        seen.append("body sent")
        await send({"type": "http.response.body", "body": b"b"})
        await listener

    response = adapter(app)(load_event("http_api_v2_get"), None)

    assert seen == ["body sent", "http.disconnect"]
    assert response["body"] == "YWI="  # b"ab", base64 for want of a content type


def test_request_message_carries_the_whole_body_at_once() -> None:
    received: list[dict[str, Any]] = []

    async def app(scope: Any, receive: Any, send: Any) -> None:
        received.append(dict(await receive()))
        await send({"type": "http.response.start", "status": 204, "headers": []})
        await send({"type": "http.response.body", "body": b""})

    adapter(app)(load_event("apigw_rest_post_base64"), None)

    assert received == [{"type": "http.request", "body": bytes(range(256)), "more_body": False}]


def test_sending_after_the_response_is_complete_is_an_unexpected_message(caplog: pytest.LogCaptureFixture) -> None:
    async def app(scope: Any, receive: Any, send: Any) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b""})
        await send({"type": "http.response.body", "body": b"more"})

    with caplog.at_level(logging.ERROR, logger="asgi_lambda"):
        response = adapter(app)(load_event("http_api_v2_get"), None)

    assert response["statusCode"] == 200
    [record] = caplog.records
    assert record.exc_info is not None
    assert str(record.exc_info[1]) == ("Expected ASGI message nothing (the response is complete), but got 'http.response.body'.")


def test_body_before_start_is_an_unexpected_message_and_a_500(caplog: pytest.LogCaptureFixture) -> None:
    async def app(scope: Any, receive: Any, send: Any) -> None:
        await send({"type": "http.response.body", "body": b"oops"})

    with caplog.at_level(logging.ERROR, logger="asgi_lambda"):
        response = adapter(app)(load_event("http_api_v2_get"), None)

    assert response["statusCode"] == 500
    assert caplog.records[0].exc_info is not None
    assert str(caplog.records[0].exc_info[1]) == "Expected ASGI message 'http.response.start', but got 'http.response.body'."


def test_headers_may_be_any_iterable() -> None:
    async def app(scope: Any, receive: Any, send: Any) -> None:
        headers = ((name, value) for name, value in [(b"content-type", b"text/plain"), (b"set-cookie", b"a=1")])
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": b"ok"})

    response = adapter(app)(load_event("http_api_v2_get"), None)

    assert response == {
        "statusCode": 200,
        "headers": {"content-type": "text/plain"},
        "body": "ok",
        "isBase64Encoded": False,
        "cookies": ["a=1"],
    }


def test_calling_the_handler_inside_a_running_loop_is_a_clear_error() -> None:
    async def app(scope: Any, receive: Any, send: Any) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b""})

    handler = adapter(app)

    async def inside_a_loop() -> None:
        handler(load_event("http_api_v2_get"), None)

    with pytest.raises(RuntimeError) as error:
        asyncio.run(inside_a_loop())

    assert str(error.value) == (
        "asgi_lambda was called from inside a running event loop. Lambda calls handlers from "
        "synchronous code; call the handler outside `async def` (in tests too)."
    )
    # Nothing was left behind: the next call from synchronous code works as usual.
    assert handler(load_event("http_api_v2_get"), None)["statusCode"] == 200


@pytest.mark.parametrize(("protocol", "version"), [("HTTP/1.0", "1.0"), ("HTTP/1.1", "1.1"), ("HTTP/2.0", "2"), ("HTTP/2", "2")])
def test_http_version_comes_from_the_request_context(protocol: str, version: str) -> None:
    seen: list[str] = []

    async def app(scope: Any, receive: Any, send: Any) -> None:
        seen.append(scope["http_version"])
        await send({"type": "http.response.start", "status": 204, "headers": []})
        await send({"type": "http.response.body", "body": b""})

    event = load_event("http_api_v2_get")
    event["requestContext"]["http"]["protocol"] = protocol
    adapter(app)(event, None)

    assert seen == [version]
