"""The adapter's early answer (`Adapter.answer_http`), which the layer's runtime client uses: the
answer once the app has sent its last body message, the rest of the app (`Remainder`) finished
afterwards within the invocation's deadline less a margin. `Adapter.__call__` (a user's own
handler, the managed runtime) still waits for the app. Orderings are shown with events the test sets."""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any

import pytest

from asgi_lambda.adapter import AFTER_RESPONSE_MARGIN, Remainder
from asgi_lambda.protocols import loop
from tests.support import adapter
from tests.support.events import load_event


class AfterTheAnswer:
    """Answers, then goes on until `go` is set, recording what it did."""

    def __init__(self, *, fail_after: bool = False, bad_message: bool = False) -> None:
        self.go = asyncio.Event()
        self.steps: list[str] = []
        self.fail_after = fail_after
        self.bad_message = bad_message

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        await receive()
        if self.bad_message:
            try:
                await send({"type": "http.response.start", "status": 999})
            except RuntimeError:  # InvalidMessage: the app carries on, but its answer is decided, a 500
                pass
        else:
            await send({"type": "http.response.start", "status": 201, "headers": [(b"content-type", b"text/plain")]})
            await send({"type": "http.response.body", "body": b"answer"})
        self.steps.append("answered")
        try:
            await self.go.wait()
        except asyncio.CancelledError:
            self.steps.append("cancelled")
            raise
        if self.fail_after:
            raise LookupError("after the answer")
        self.steps.append("finished")


def early(app: Any) -> tuple[Any, Remainder | None]:
    """The answer `Adapter.answer_http` gives, shaped, and the app's remainder."""
    handler = adapter(app)
    request = handler.map(load_event("http_api_v2_get"), None)
    answered = loop.run(handler.answer_http(request))  # type: ignore[arg-type]
    assert answered.response is not None
    return handler.shape(request, answered.response, answered.access), answered.rest  # type: ignore[arg-type]


def test_the_answer_comes_once_the_body_is_complete_and_the_rest_runs_when_finished() -> None:
    app = AfterTheAnswer()
    answer, rest = early(app)

    assert (answer["statusCode"], answer["body"], app.steps) == (201, "answer", ["answered"])
    assert rest is not None and not rest.task.done()
    loop.get_loop().call_soon(app.go.set)
    loop.run(rest.finish(time.time() + 30))
    assert app.steps == ["answered", "finished"]


def test_a_bad_message_decides_a_500_at_once() -> None:
    app = AfterTheAnswer(bad_message=True)
    answer, rest = early(app)

    assert answer["statusCode"] == 500 and app.steps == ["answered"]
    assert rest is not None
    loop.get_loop().call_soon(app.go.set)
    loop.run(rest.finish(None))


def test_an_app_that_is_done_leaves_nothing_to_finish(app: Any) -> None:
    answer, rest = early(app)

    assert (answer["statusCode"], answer["body"], rest) == (200, "ok", None)


def test_at_the_deadline_less_the_margin_the_rest_is_cancelled_and_logged(caplog: pytest.LogCaptureFixture) -> None:
    app = AfterTheAnswer()
    _, rest = early(app)
    assert rest is not None
    with caplog.at_level(logging.ERROR, logger="asgi_lambda.adapter"):
        loop.run(rest.finish(time.time() + AFTER_RESPONSE_MARGIN))  # no time left

    assert app.steps == ["answered", "cancelled"] and rest.task.cancelled()
    assert [record.getMessage() for record in caplog.records] == [
        "The app's work after its response was still running 500 ms before the invocation's deadline: cancelled."
    ]


def test_an_exception_after_the_answer_is_logged_not_raised(caplog: pytest.LogCaptureFixture) -> None:
    app = AfterTheAnswer(fail_after=True)
    answer, rest = early(app)
    assert rest is not None
    loop.get_loop().call_soon(app.go.set)
    with caplog.at_level(logging.ERROR):
        loop.run(rest.finish(None))

    assert answer["statusCode"] == 201
    assert [(record.name, record.getMessage()) for record in caplog.records] == [
        ("asgi_lambda.http", "Exception in ASGI application after its response was complete")
    ]


def test_the_adapter_called_as_a_handler_still_waits_for_the_app() -> None:
    app = AfterTheAnswer()
    handler = adapter(app)
    loop.get_loop().call_later(0.01, app.go.set)
    answer = handler(load_event("http_api_v2_get"), None)

    assert answer["statusCode"] == 201 and app.steps == ["answered", "finished"]
