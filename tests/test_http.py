"""The HTTP cycle: what the app receives and may send."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import pytest

from asgi_lambda import Adapter

from .conftest import load_event


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

    response = Adapter(app, lifespan="off")(load_event("http_api_v2_get"), None)

    assert seen == ["body sent", "http.disconnect"]
    assert response["body"] == "YWI="  # b"ab", base64 for want of a content type


def test_request_message_carries_the_whole_body_at_once() -> None:
    received: list[dict[str, Any]] = []

    async def app(scope: Any, receive: Any, send: Any) -> None:
        received.append(dict(await receive()))
        await send({"type": "http.response.start", "status": 204, "headers": []})
        await send({"type": "http.response.body", "body": b""})

    Adapter(app, lifespan="off")(load_event("apigw_rest_post_base64"), None)

    assert received == [{"type": "http.request", "body": bytes(range(256)), "more_body": False}]


def test_sending_after_the_response_is_complete_is_an_unexpected_message(caplog: pytest.LogCaptureFixture) -> None:
    async def app(scope: Any, receive: Any, send: Any) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b""})
        await send({"type": "http.response.body", "body": b"more"})

    with caplog.at_level(logging.ERROR, logger="asgi_lambda"):
        response = Adapter(app, lifespan="off")(load_event("http_api_v2_get"), None)

    assert response["statusCode"] == 200
    [record] = caplog.records
    assert record.exc_info is not None
    assert str(record.exc_info[1]) == (
        "Expected ASGI message nothing (the response is complete), but got 'http.response.body'."
    )


def test_body_before_start_is_an_unexpected_message_and_a_500(caplog: pytest.LogCaptureFixture) -> None:
    async def app(scope: Any, receive: Any, send: Any) -> None:
        await send({"type": "http.response.body", "body": b"oops"})

    with caplog.at_level(logging.ERROR, logger="asgi_lambda"):
        response = Adapter(app, lifespan="off")(load_event("http_api_v2_get"), None)

    assert response["statusCode"] == 500
    assert caplog.records[0].exc_info is not None
    assert str(caplog.records[0].exc_info[1]) == "Expected ASGI message 'http.response.start', but got 'http.response.body'."
