"""The streaming example (examples/stream) through the Adapter, as Lambda would run it: its token
events, its page. Streaming itself is shown in tests/integration/local/test_stream_browser.py and tests/integration/runtime."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from tests.support import adapter
from tests.support.events import load_event
from tests.support.paths import EXAMPLES


@pytest.fixture
def example(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    monkeypatch.syspath_prepend(str(EXAMPLES))
    import stream.main

    monkeypatch.setattr(stream.main, "TOKEN_DELAY_SECONDS", 0.0)  # no model to wait for
    yield stream.main


def get(path: str, query: str = "") -> dict[str, Any]:
    event = load_event("function_url_get")
    event["rawPath"] = event["requestContext"]["http"]["path"] = path
    event["rawQueryString"] = query
    event.pop("cookies", None)
    event["headers"].pop("cookie", None)
    return event


def test_tokens_are_server_sent_events_one_per_token_then_done(example: Any) -> None:
    response = adapter(example.app)(get("/tokens", "prompt=hi%20there"), None)

    tokens = example.reply("hi there")
    assert tokens[:3] == ["You", " said:", " hi"]
    assert response["statusCode"] == 200
    assert response["headers"]["content-type"] == "text/event-stream; charset=utf-8"
    assert response["headers"]["cache-control"] == "no-cache"
    expected = "".join(f"data: {json.dumps(token)}\n\n" for token in tokens) + "event: done\ndata: {}\n\n"
    assert response["body"] == expected


def test_the_page_opens_an_event_source_on_the_relative_tokens_url(example: Any) -> None:
    response = adapter(example.app)(get("/"), None)

    assert response["statusCode"] == 200
    assert response["headers"]["content-type"] == "text/html; charset=utf-8"
    # Relative, so that under a REST API's stage (/prod/) the events come from /prod/tokens.
    assert 'new EventSource("tokens?prompt="' in response["body"]
