"""Issue #23, finding 6: a request cannot forge log lines.

A decoded path went into the text access log and the local gateway's log as it was: `%0a` in a
path printed a second, made-up line. Every logged value's control characters are escaped now (JSON
logs escaped them already; the access log's `extra` fields stay as they are, for them).
"""

from __future__ import annotations

import logging
import re
import time
from typing import Any

import pytest

from asgi_lambda import Adapter, send
from asgi_lambda.local.gateway import Gateway
from asgi_lambda.protocols import loop
from asgi_lambda.settings.websocket import WebSocketSettings
from asgi_lambda.sources.common import printable
from asgi_lambda.stores.memory import MemoryStore
from asgi_lambda.stores.record import ConnectionRecord
from asgi_lambda.websocket.hub import ConnectionHub, serving
from tests.support.events import http_api_event
from tests.support.net import closed_port

FORGED_PATH = "/a\nINFO asgi_lambda.access: GET /admin 200 1.0ms forged\x1b[2K\u2028"
ESCAPED_PATH = "/a\\nINFO asgi_lambda.access: GET /admin 200 1.0ms forged\\x1b[2K\\u2028"


async def ok(scope: Any, receive: Any, send: Any) -> None:
    if scope["type"] != "http":
        return
    await receive()
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": b"ok"})


class Context:
    aws_request_id = "req-1"


def test_the_access_logs_line_escapes_a_forged_path(caplog: pytest.LogCaptureFixture) -> None:
    adapter = Adapter(ok, lifespan="off", access_log=True)

    with caplog.at_level(logging.INFO, logger="asgi_lambda.access"):
        adapter(http_api_event(FORGED_PATH), Context())

    [record] = caplog.records
    assert re.fullmatch(rf"GET {re.escape(ESCAPED_PATH)} 200 \d+\.\dms req-1", record.getMessage())
    assert "\n" not in record.getMessage()
    assert record.path == FORGED_PATH  # type: ignore[attr-defined]  # the JSON field, escaped by the JSON log itself


def test_the_access_logs_websocket_line_escapes_a_forged_connection_id(caplog: pytest.LogCaptureFixture) -> None:
    adapter = Adapter(ok, lifespan="off", access_log=True, ws_config={"backend": "memory"})
    event = {
        "requestContext": {"eventType": "DISCONNECT", "stage": "prod", "connectionId": "c=\nforged", "apiId": "a1b2c3d4e5"},
        "isBase64Encoded": False,
    }

    with caplog.at_level(logging.INFO, logger="asgi_lambda.access"):
        adapter(event, Context())

    access = [record.getMessage() for record in caplog.records if record.name == "asgi_lambda.access"]
    assert len(access) == 1 and re.fullmatch(r"WebSocket DISCONNECT c=\\nforged 200 \d+\.\dms req-1", access[0])


@pytest.mark.parametrize("event_type", ["MESSAGE", "DISCONNECT"])
def test_the_websocket_store_lines_escape_a_connection_id_that_is_not_utf_8(event_type: str, caplog: pytest.LogCaptureFixture) -> None:
    # A lone surrogate cannot be written to Lambda's UTF-8 log, nor carried by anything that encodes it.
    adapter = Adapter(ok, lifespan="off", ws_config={"backend": "memory"})
    event = {
        "requestContext": {"eventType": event_type, "stage": "prod", "connectionId": "caf\udce9\n", "apiId": "a1b2c3d4e5"},
        "body": "hi",
        "isBase64Encoded": False,
    }

    with caplog.at_level(logging.INFO, logger="asgi_lambda.websocket"):
        adapter(event, Context())

    lines = [record.getMessage() for record in caplog.records if record.name == "asgi_lambda.websocket"]
    assert lines == [
        "WebSocket message on caf\\udce9\\n dropped: no such connection in the store (expired, or never accepted)"
        if event_type == "MESSAGE"
        else "WebSocket disconnect of caf\\udce9\\n, which the store does not know (expired, or never accepted)"
    ]


class Answers:
    """The function the gateway calls: answers 200, or raises."""

    def __init__(self, fail: bool = False) -> None:
        self.fail = fail

    def start(self) -> None:
        pass

    async def invoke(self, event: dict[str, Any]) -> Any:
        if self.fail:
            raise RuntimeError("boom")
        return {"statusCode": 200, "headers": {}, "body": "ok"}

    def close(self) -> None:
        pass


def test_a_failed_posts_line_escapes_the_stored_connection_id(monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture) -> None:
    # An id an app passes to send() may come from a message; the post's failure is logged with it.
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIDEXAMPLE")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY")
    endpoint = f"http://127.0.0.1:{closed_port()}/prod"
    store = MemoryStore()
    hub = ConnectionHub(WebSocketSettings("memory", {}, endpoint_url=endpoint), store=store)
    forged = "c=\nWARNING asgi_lambda.websocket: forged"
    loop.run(store.save(ConnectionRecord(forged, endpoint=endpoint, scope={}, expires_at=int(time.time()) + 60)))

    with caplog.at_level(logging.WARNING, logger="asgi_lambda.websocket"):
        delivered = loop.run(serving(hub, send(forged, "hello")))
    loop.run(hub.close())

    assert delivered is False
    [line] = [record.getMessage() for record in caplog.records]
    assert line.startswith(
        "WebSocket message to c=\\nWARNING asgi_lambda.websocket: forged not delivered: "
        f"POST {endpoint}/@connections/c=\\nWARNING asgi_lambda.websocket: forged: "
    )
    assert "\n" not in line


async def call(gateway: Gateway, path: str) -> None:
    messages = [{"type": "http.request", "body": b"", "more_body": False}]

    async def receive() -> dict[str, Any]:
        return messages.pop(0) if messages else {"type": "http.disconnect"}

    async def send(message: Any) -> None:
        pass

    scope = {
        "type": "http",
        "method": "GET",
        "path": path,
        "raw_path": path.encode("utf-8", "surrogateescape"),
        "query_string": b"",
        "headers": [(b"host", b"127.0.0.1:8000")],
        "client": ("127.0.0.1", 50000),
    }
    await gateway(scope, receive, send)


def test_the_local_gateways_line_escapes_a_forged_path() -> None:
    import asyncio

    lines: list[str] = []
    gateway = Gateway(Answers(), port=8000, log=lines.append)  # type: ignore[arg-type]

    asyncio.run(call(gateway, FORGED_PATH))

    assert len(lines) == 1 and re.fullmatch(rf"GET {re.escape(ESCAPED_PATH)} 200 \d+\.\d ms", lines[0])


def test_the_local_gateways_failure_report_escapes_a_forged_path(capsys: pytest.CaptureFixture[str]) -> None:
    import asyncio

    gateway = Gateway(Answers(fail=True), port=8000, log=lambda line: None)  # type: ignore[arg-type]

    asyncio.run(call(gateway, FORGED_PATH))

    report = capsys.readouterr().err
    assert report.startswith(f"GET {ESCAPED_PATH}: the function failed; answering 502:\nTraceback")


@pytest.mark.parametrize(
    ("value", "shown"),
    [("/plain/path", "/plain/path"), ("/é/日本", "/é/日本"), ("a\r\nb\tc\x00d\x7fe", "a\\r\\nb\\tc\\x00d\\x7fe")],
)
def test_printable_escapes_control_characters_only(value: str, shown: str) -> None:
    assert printable(value) == shown
