"""The streaming page's `curl -N` command asks for a path the streaming example serves
(examples/stream), and gets Server-Sent Events there: the example, in-process through the Adapter,
answers that request as the page says."""

from __future__ import annotations

import importlib.util
import re
import sys
from types import ModuleType
from urllib.parse import urlsplit

import pytest

from asgi_lambda import Adapter
from tests.support.events import load_event
from tests.support.paths import DOCS, EXAMPLES

PAGE = (DOCS / "streaming.md").read_text()


@pytest.fixture
def example(monkeypatch: pytest.MonkeyPatch) -> ModuleType:
    monkeypatch.setenv("TOKEN_DELAY_SECONDS", "0")
    spec = importlib.util.spec_from_file_location("stream_example_main", EXAMPLES / "stream" / "main.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    monkeypatch.setitem(sys.modules, "stream_example_main", module)
    spec.loader.exec_module(module)
    return module


def test_the_curl_command_names_the_example_and_a_path_it_streams_events_from(example: ModuleType) -> None:
    (command,) = re.findall(r"`(curl -N [^`]+)`", PAGE)
    url = urlsplit(command.split()[-1].strip("'"))
    event = load_event("function_url_get")
    event["rawPath"], event["rawQueryString"] = url.path, url.query
    event["requestContext"]["http"]["path"] = url.path

    response = Adapter(example.app, lifespan="off")(event, None)

    assert "--app-dir examples/stream" in PAGE
    assert (url.path, response["statusCode"], response["headers"]["content-type"]) == ("/tokens", 200, "text/event-stream; charset=utf-8")
    assert response["body"].startswith('data: "You"\n\ndata: " said:"\n\ndata: " hi."\n\n')
    assert response["body"].endswith("event: done\ndata: {}\n\n")
