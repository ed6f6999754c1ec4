"""What the app sends is checked: a bad message is a 500 and one log line naming the fault.

Each fault is sent on the adapter's first invocation; the second, on the same adapter, is
answered as usual.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Coroutine
from http import HTTPStatus
from typing import Any

import pytest

from asgi_lambda import Adapter, UnexpectedMessage
from asgi_lambda.exceptions import InvalidMessage
from tests.support import adapter
from tests.support.apps import RecordingApp
from tests.support.events import load_event

INTERNAL_ERROR_V2 = {
    "statusCode": 500,
    "headers": {"content-type": "text/plain; charset=utf-8"},
    "body": "Internal Server Error",
    "isBase64Encoded": False,
}
FINE_V2 = {"statusCode": 200, "headers": {"content-type": "text/plain; charset=utf-8"}, "body": "fine", "isBase64Encoded": False}
WHOLE_V2 = {"statusCode": 200, "headers": {"content-type": "text/plain"}, "body": "whole", "isBase64Encoded": False}

TEXT = [(b"content-type", b"text/plain")]
BODY = {"type": "http.response.body", "body": b"whole"}

Send = Callable[[Any], Coroutine[Any, Any, None]]


def start(**fields: Any) -> dict[str, Any]:
    """`http.response.start` with status 200 and a text/plain header, `fields` replacing them."""
    return {"type": "http.response.start", "status": 200, "headers": TEXT, **fields}


class FirstCallSends(RecordingApp):
    """Sends `messages` in order on its first call; answers 200 "fine" on every later one."""

    def __init__(self, *messages: Any) -> None:
        super().__init__(body=b"fine")
        self.messages = messages
        self.calls = 0

    async def __call__(self, scope: Any, receive: Any, send: Send) -> None:
        self.calls += 1
        if self.calls > 1:
            return await super().__call__(scope, receive, send)
        for message in self.messages:
            await send(message)


def invoke(handler: Adapter, caplog: pytest.LogCaptureFixture) -> tuple[Any, list[str]]:
    """One invocation with an HTTP API event: the response, and the lines logged making it."""
    caplog.clear()
    with caplog.at_level(logging.ERROR, logger="asgi_lambda"):
        response = handler(load_event("http_api_v2_get"), None)
    return response, [record.getMessage() for record in caplog.records]


# --- http.response.start: status ---------------------------------------------------------


@pytest.mark.parametrize(("status", "line"), [("200", "'200'"), (200.0, "200.0"), (None, "None")], ids=["str", "float", "None"])
def test_a_status_that_is_not_an_int_is_a_500(caplog: pytest.LogCaptureFixture, status: Any, line: str) -> None:
    handler = adapter(FirstCallSends(start(status=status), BODY))

    assert invoke(handler, caplog) == (INTERNAL_ERROR_V2, [f"the app sent a status as {type(status).__name__}: {line}"])
    assert invoke(handler, caplog) == (FINE_V2, [])


def test_a_bool_status_is_a_500(caplog: pytest.LogCaptureFixture) -> None:
    handler = adapter(FirstCallSends(start(status=True), BODY))

    assert invoke(handler, caplog) == (INTERNAL_ERROR_V2, ["the app sent a status as bool: True"])
    assert invoke(handler, caplog) == (FINE_V2, [])


@pytest.mark.parametrize("status", [99, 600, 999, -200])
def test_a_status_outside_100_to_599_is_a_500(caplog: pytest.LogCaptureFixture, status: int) -> None:
    handler = adapter(FirstCallSends(start(status=status), BODY))

    assert invoke(handler, caplog) == (INTERNAL_ERROR_V2, [f"the app sent a status out of range: {status}; expected 100 to 599"])
    assert invoke(handler, caplog) == (FINE_V2, [])


def test_a_missing_status_is_a_500(caplog: pytest.LogCaptureFixture) -> None:
    handler = adapter(FirstCallSends({"type": "http.response.start", "headers": TEXT}, BODY))

    assert invoke(handler, caplog) == (INTERNAL_ERROR_V2, ["the app sent http.response.start without a status"])
    assert invoke(handler, caplog) == (FINE_V2, [])


def test_an_int_enum_status_is_sent_as_its_number(caplog: pytest.LogCaptureFixture) -> None:
    response, logged = invoke(adapter(FirstCallSends(start(status=HTTPStatus.CREATED), BODY)), caplog)

    assert (response, logged) == ({**WHOLE_V2, "statusCode": 201}, [])
    assert type(response["statusCode"]) is int


# --- http.response.start: headers --------------------------------------------------------


def test_a_header_name_as_str_is_a_500(caplog: pytest.LogCaptureFixture) -> None:
    handler = adapter(FirstCallSends(start(headers=[("Content-Type", b"text/plain")]), BODY))

    assert invoke(handler, caplog) == (INTERNAL_ERROR_V2, ["the app sent a header name as str: 'Content-Type'"])
    assert invoke(handler, caplog) == (FINE_V2, [])


def test_a_header_value_as_str_is_a_500_without_the_value_in_the_log(caplog: pytest.LogCaptureFixture) -> None:
    # Values may be cookies or tokens; the log names the header instead.
    handler = adapter(FirstCallSends(start(headers=[(b"set-cookie", "session=secret")]), BODY))

    assert invoke(handler, caplog) == (INTERNAL_ERROR_V2, ["the app sent the value of header b'set-cookie' as str"])
    assert invoke(handler, caplog) == (FINE_V2, [])


@pytest.mark.parametrize(
    "name",
    [b"content type", b"content-type:", b"x-a\r\nx-b", b"", b"caf\xc3\xa9"],
    ids=["space", "colon", "CRLF", "empty", "non-ASCII"],
)
def test_a_header_name_that_is_not_an_http_token_is_a_500(caplog: pytest.LogCaptureFixture, name: bytes) -> None:
    handler = adapter(FirstCallSends(start(headers=[(name, b"1")]), BODY))

    assert invoke(handler, caplog) == (INTERNAL_ERROR_V2, [f"the app sent a header name that is not an HTTP token: {name!r}"])
    assert invoke(handler, caplog) == (FINE_V2, [])


@pytest.mark.parametrize(
    ("value", "found"),
    [(b"a\r\nset-cookie: admin=1", "CR at byte 1"), (b"a\nb", "LF at byte 1"), (b"ab\x00", "NUL at byte 2")],
    ids=["CRLF", "LF", "NUL"],
)
def test_a_header_value_with_cr_lf_or_nul_is_a_500(caplog: pytest.LogCaptureFixture, value: bytes, found: str) -> None:
    # Response splitting: a line break in a value would start a header of the app's choosing.
    handler = adapter(FirstCallSends(start(headers=[(b"x-note", value)]), BODY))

    assert invoke(handler, caplog) == (
        INTERNAL_ERROR_V2,
        [f"the app sent the value of header b'x-note' with {found}; header values may not hold CR, LF or NUL"],
    )
    assert invoke(handler, caplog) == (FINE_V2, [])


@pytest.mark.parametrize(
    ("header", "line"),
    [
        (b"content-type", "the app sent a header as bytes; expected a (name, value) pair"),
        ((b"a", b"b", b"c"), "the app sent a header as tuple of 3 items; expected a (name, value) pair"),
        (42, "the app sent a header as int; expected a (name, value) pair"),
    ],
    ids=["bytes", "three items", "int"],
)
def test_a_header_that_is_not_a_pair_is_a_500(caplog: pytest.LogCaptureFixture, header: Any, line: str) -> None:
    handler = adapter(FirstCallSends(start(headers=[header]), BODY))

    assert invoke(handler, caplog) == (INTERNAL_ERROR_V2, [line])
    assert invoke(handler, caplog) == (FINE_V2, [])


@pytest.mark.parametrize(
    ("headers", "kind"), [(None, "NoneType"), ({"content-type": "text/plain"}, "dict"), (b"content-type: text/plain", "bytes")]
)
def test_headers_that_are_not_an_iterable_of_pairs_are_a_500(caplog: pytest.LogCaptureFixture, headers: Any, kind: str) -> None:
    handler = adapter(FirstCallSends(start(headers=headers), BODY))

    assert invoke(handler, caplog) == (INTERNAL_ERROR_V2, [f"the app sent headers as {kind}; expected an iterable of (name, value) pairs"])
    assert invoke(handler, caplog) == (FINE_V2, [])


def test_headers_may_be_list_pairs_with_any_token_name_and_any_safe_value(caplog: pytest.LogCaptureFixture) -> None:
    headers = [[b"content-type", b"text/plain"], [b"X-Odd_Name.1!~", b"tab\there, obs-text \xe9"]]

    assert invoke(adapter(FirstCallSends(start(headers=headers), BODY)), caplog) == (
        {**WHOLE_V2, "headers": {"content-type": "text/plain", "x-odd_name.1!~": "tab\there, obs-text \xe9"}},
        [],
    )


def test_trailers_are_a_500(caplog: pytest.LogCaptureFixture) -> None:
    handler = adapter(FirstCallSends(start(trailers=True), BODY))

    assert invoke(handler, caplog) == (INTERNAL_ERROR_V2, ["the app sent trailers: True; expected False, since the response is sent whole"])
    assert invoke(handler, caplog) == (FINE_V2, [])


def test_trailers_false_is_accepted(caplog: pytest.LogCaptureFixture) -> None:
    assert invoke(adapter(FirstCallSends(start(trailers=False), BODY)), caplog) == (WHOLE_V2, [])


# --- http.response.body -------------------------------------------------------------------


def test_a_body_as_str_is_a_500(caplog: pytest.LogCaptureFixture) -> None:
    handler = adapter(FirstCallSends(start(), {"type": "http.response.body", "body": "whole"}))

    assert invoke(handler, caplog) == (INTERNAL_ERROR_V2, ["the app sent a body as str"])
    assert invoke(handler, caplog) == (FINE_V2, [])


@pytest.mark.parametrize("body", [bytearray(b"whole"), memoryview(b"whole")], ids=["bytearray", "memoryview"])
def test_a_bytes_like_body_is_taken_as_mangum_takes_it(body: Any, caplog: pytest.LogCaptureFixture) -> None:
    handler = adapter(FirstCallSends(start(), {"type": "http.response.body", "body": body}))

    assert invoke(handler, caplog) == (WHOLE_V2, [])


def test_a_body_as_int_is_a_500(caplog: pytest.LogCaptureFixture) -> None:
    handler = adapter(FirstCallSends(start(), {"type": "http.response.body", "body": 5}))

    assert invoke(handler, caplog) == (INTERNAL_ERROR_V2, ["the app sent a body as int"])
    assert invoke(handler, caplog) == (FINE_V2, [])


def test_more_body_that_is_not_a_bool_is_a_500(caplog: pytest.LogCaptureFixture) -> None:
    handler = adapter(FirstCallSends(start(), {**BODY, "more_body": "no"}))

    assert invoke(handler, caplog) == (INTERNAL_ERROR_V2, ["the app sent more_body as str: 'no'"])
    assert invoke(handler, caplog) == (FINE_V2, [])


def test_a_body_message_without_a_body_is_an_empty_chunk(caplog: pytest.LogCaptureFixture) -> None:
    app = FirstCallSends(start(), {"type": "http.response.body", "body": b"whole", "more_body": True}, {"type": "http.response.body"})

    assert invoke(adapter(app), caplog) == (WHOLE_V2, [])


# --- the messages themselves --------------------------------------------------------------


def test_a_message_without_a_type_is_a_500(caplog: pytest.LogCaptureFixture) -> None:
    handler = adapter(FirstCallSends({"status": 200, "headers": TEXT}))

    assert invoke(handler, caplog) == (INTERNAL_ERROR_V2, ["the app sent a message without a 'type'; its keys: ['status', 'headers']"])
    assert invoke(handler, caplog) == (FINE_V2, [])


def test_a_message_that_is_not_a_dict_is_a_500(caplog: pytest.LogCaptureFixture) -> None:
    handler = adapter(FirstCallSends(["http.response.start", 200]))

    assert invoke(handler, caplog) == (INTERNAL_ERROR_V2, ["the app sent a message as list; expected a dict with a 'type'"])
    assert invoke(handler, caplog) == (FINE_V2, [])


def test_a_body_before_the_start_is_a_500(caplog: pytest.LogCaptureFixture) -> None:
    handler = adapter(FirstCallSends(BODY))

    assert invoke(handler, caplog) == (INTERNAL_ERROR_V2, ["Expected ASGI message 'http.response.start', but got 'http.response.body'."])
    assert invoke(handler, caplog) == (FINE_V2, [])


def test_a_second_start_is_a_500(caplog: pytest.LogCaptureFixture) -> None:
    handler = adapter(FirstCallSends(start(), start(status=404), BODY))

    assert invoke(handler, caplog) == (INTERNAL_ERROR_V2, ["Expected ASGI message 'http.response.body', but got 'http.response.start'."])
    assert invoke(handler, caplog) == (FINE_V2, [])


def test_an_unknown_message_type_is_a_500(caplog: pytest.LogCaptureFixture) -> None:
    handler = adapter(FirstCallSends(start(), {"type": "http.response.trailers", "headers": []}))

    assert invoke(handler, caplog) == (INTERNAL_ERROR_V2, ["Expected ASGI message 'http.response.body', but got 'http.response.trailers'."])
    assert invoke(handler, caplog) == (FINE_V2, [])


# --- how a fault reaches the app, and what it decides --------------------------------------


def test_send_raises_an_invalid_message_naming_the_fault() -> None:
    raised: list[BaseException] = []

    async def app(scope: Any, receive: Any, send: Send) -> None:
        try:
            await send(start(headers=[("Content-Type", b"text/plain")]))
        except Exception as error:
            raised.append(error)

    adapter(app)(load_event("http_api_v2_get"), None)

    [error] = raised
    assert type(error) is InvalidMessage and isinstance(error, UnexpectedMessage)
    assert str(error) == "the app sent a header name as str: 'Content-Type'"


def test_a_fault_the_app_catches_is_still_a_500(caplog: pytest.LogCaptureFixture) -> None:
    async def app(scope: Any, receive: Any, send: Send) -> None:
        try:
            await send(start(status=999))
        except UnexpectedMessage:
            pass
        for message in (start(), BODY):  # a valid response after the fault changes nothing
            try:
                await send(message)
            except UnexpectedMessage:
                pass

    assert invoke(adapter(app), caplog) == (INTERNAL_ERROR_V2, ["the app sent a status out of range: 999; expected 100 to 599"])


def test_after_a_fault_send_refuses_every_message() -> None:
    raised: list[str] = []

    async def app(scope: Any, receive: Any, send: Send) -> None:
        for message in (start(status=999), start()):
            try:
                await send(message)
            except UnexpectedMessage as error:
                raised.append(str(error))

    adapter(app)(load_event("http_api_v2_get"), None)

    assert raised == [
        "the app sent a status out of range: 999; expected 100 to 599",
        "Expected ASGI message nothing (an earlier message was invalid), but got 'http.response.start'.",
    ]


def test_a_fault_mid_body_is_a_500(caplog: pytest.LogCaptureFixture) -> None:
    handler = adapter(FirstCallSends(start(), {**BODY, "more_body": True}, {"type": "http.response.body", "body": 1}))

    assert invoke(handler, caplog) == (INTERNAL_ERROR_V2, ["the app sent a body as int"])
    assert invoke(handler, caplog) == (FINE_V2, [])


def test_a_fault_after_the_response_is_complete_keeps_the_response(caplog: pytest.LogCaptureFixture) -> None:
    handler = adapter(FirstCallSends(start(), BODY, {"type": "http.response.body", "body": "late"}))

    assert invoke(handler, caplog) == (
        WHOLE_V2,
        ["Expected ASGI message nothing (the response is complete), but got 'http.response.body'."],
    )
    assert invoke(handler, caplog) == (FINE_V2, [])


def test_a_fault_the_app_catches_after_the_response_is_complete_is_logged(caplog: pytest.LogCaptureFixture) -> None:
    async def app(scope: Any, receive: Any, send: Send) -> None:
        for message in (start(), BODY, start()):
            try:
                await send(message)
            except UnexpectedMessage:
                pass

    assert invoke(adapter(app), caplog) == (
        WHOLE_V2,
        ["Expected ASGI message nothing (the response is complete), but got 'http.response.start'."],
    )


def test_the_apps_own_exception_after_a_fault_is_logged_too(caplog: pytest.LogCaptureFixture) -> None:
    async def app(scope: Any, receive: Any, send: Send) -> None:
        try:
            await send(start(status=999))
        except UnexpectedMessage:
            raise RuntimeError("handling the fault failed") from None

    assert invoke(adapter(app), caplog) == (
        INTERNAL_ERROR_V2,
        ["the app sent a status out of range: 999; expected 100 to 599", "Exception in ASGI application"],
    )


def test_receive_reports_disconnect_once_a_fault_decides_the_answer() -> None:
    seen: list[str] = []

    async def app(scope: Any, receive: Any, send: Send) -> None:
        await receive()
        listener = asyncio.ensure_future(receive())
        await asyncio.sleep(0)
        try:
            await send(start(status=999))
        except UnexpectedMessage:
            pass
        seen.append((await listener)["type"])

    response = adapter(app)(load_event("http_api_v2_get"), None)

    assert response == INTERNAL_ERROR_V2
    assert seen == ["http.disconnect"]
