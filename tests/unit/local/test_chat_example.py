"""examples/chat/main.py through the adapter with real API Gateway events: the page, its
configuration, and two users chatting over the WebSocket API (memory store, loopback Management API)."""

from __future__ import annotations

import importlib.util
import json
from collections.abc import Iterator
from html.parser import HTMLParser
from types import ModuleType
from typing import Any

import pytest

from asgi_lambda import Adapter
from asgi_lambda.protocols import loop
from asgi_lambda.stores.memory import MemoryStore
from asgi_lambda.websocket.hub import ConnectionHub
from tests.support import adapter
from tests.support.events import load_event
from tests.support.management_api import ManagementAPIStub
from tests.support.paths import EXAMPLES
from tests.support.websocket import websocket_runtime

EXAMPLE = EXAMPLES / "chat" / "main.py"


def load_example() -> ModuleType:
    """examples/chat/main.py under its own module name, so it cannot clash with another `main`."""
    spec = importlib.util.spec_from_file_location("asgi_lambda_examples_chat_main", EXAMPLE)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def chat() -> ModuleType:
    return load_example()


@pytest.fixture
def handler(chat: ModuleType) -> Adapter:
    return adapter(chat.app)


@pytest.fixture
def ws(stub: ManagementAPIStub) -> Iterator[ConnectionHub]:
    """The environment's WebSocket runtime, as WS_BACKEND=memory WS_PATH=/ws would make it,
    with replies going to the loopback Management API."""
    with websocket_runtime(MemoryStore(), endpoint=stub.endpoint) as runtime:
        yield runtime


def http_get(path: str, **headers: str) -> dict[str, Any]:
    event = load_event("http_api_v2_get")
    event["rawPath"] = event["requestContext"]["http"]["path"] = path
    event["rawQueryString"] = ""
    event.pop("queryStringParameters", None)
    event["headers"].update(headers)
    return event


def ws_event(kind: str, connection_id: str, **changes: Any) -> dict[str, Any]:
    event = load_event(f"ws_{kind}")
    event["requestContext"]["connectionId"] = connection_id
    event.update(changes)
    return event


def connect(connection_id: str, name: str) -> dict[str, Any]:
    return ws_event(
        "connect",
        connection_id,
        queryStringParameters={"name": name},
        multiValueQueryStringParameters={"name": [name]},
    )


class Elements(HTMLParser):
    """Every element of a page: (tag, attributes), and the text of its inline scripts."""

    def __init__(self) -> None:
        super().__init__()
        self.elements: list[tuple[str, dict[str, str | None]]] = []
        self.scripts: list[str] = []
        self._in_script = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.elements.append((tag, dict(attrs)))
        self._in_script = tag == "script"

    def handle_endtag(self, tag: str) -> None:
        if tag == "script":
            self._in_script = False

    def handle_data(self, data: str) -> None:
        if self._in_script:
            self.scripts.append(data)

    def by_id(self) -> dict[str, str]:
        return {str(attrs["id"]): tag for tag, attrs in self.elements if attrs.get("id")}


# The page


def test_the_page_is_html_with_the_chat_elements(handler: Adapter) -> None:
    response = handler(http_get("/"), None)

    assert response["statusCode"] == 200
    assert response["headers"]["content-type"].startswith("text/html")
    assert response["isBase64Encoded"] is False
    page = Elements()
    page.feed(response["body"])
    assert page.by_id() == {
        "join": "form",
        "name": "input",
        "connect": "button",
        "status": "p",
        "help": "p",
        "messages": "ul",
        "say": "form",
        "message": "input",
        "send": "button",
    }


def test_the_page_needs_nothing_from_elsewhere_and_shows_messages_as_text(handler: Adapter) -> None:
    page = Elements()
    page.feed(handler(http_get("/"), None)["body"])
    script = "".join(page.scripts)

    # Offline: no external script, stylesheet, image or frame.
    for tag, attrs in page.elements:
        assert "src" not in attrs, (tag, attrs)
        assert tag != "link", attrs
    assert "http://" not in script and "https://" not in script
    # Messages become <li> elements through textContent, never innerHTML.
    assert "createElement('li')" in script
    assert "item.textContent = text" in script
    assert "innerHTML" not in script
    # The WebSocket URL comes from config.json, else from the page's own location.
    assert "fetch('config.json'" in script
    assert "new WebSocket(url)" in script
    assert "${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/ws" in script
    assert "url.searchParams.set('name', name)" in script


# /config.json and /health


def test_config_falls_back_to_the_same_hosts_ws_path(handler: Adapter, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CHAT_WEBSOCKET_URL", raising=False)

    response = handler(http_get("/config.json"), None)
    assert response["statusCode"] == 200
    assert json.loads(response["body"]) == {"websocket_url": "wss://a1b2c3d4e5.execute-api.us-east-1.amazonaws.com/ws"}

    # Plain HTTP, as the local gateway serves it: ws://.
    local = handler(http_get("/config.json", host="127.0.0.1:8000", **{"x-forwarded-proto": "http", "x-forwarded-port": "8000"}), None)
    assert json.loads(local["body"]) == {"websocket_url": "ws://127.0.0.1:8000/ws"}


def test_config_honours_chat_websocket_url(handler: Adapter, monkeypatch: pytest.MonkeyPatch) -> None:
    url = "wss://f6g7h8i9j0.execute-api.eu-west-1.amazonaws.com/prod"
    monkeypatch.setenv("CHAT_WEBSOCKET_URL", url)

    response = handler(http_get("/config.json"), None)

    assert response["statusCode"] == 200
    assert json.loads(response["body"]) == {"websocket_url": url}


def test_health(handler: Adapter) -> None:
    response = handler(http_get("/health"), None)

    assert response["statusCode"] == 200
    assert json.loads(response["body"]) == {"status": "ok"}


# The chat room


def test_two_users_join_talk_and_leave(handler: Adapter, ws: ConnectionHub, stub: ManagementAPIStub) -> None:
    def posts_since(start: int) -> list[tuple[str, str]]:
        return [(connection_id, body.decode()) for connection_id, body in stub.posts()[start:]]

    # Ada joins an empty lobby: her own connection is not open while she joins, nobody hears it.
    assert handler(connect("ada=", "Ada"), None)["statusCode"] == 200
    assert posts_since(0) == []

    # Bob joins: Ada hears it.
    assert handler(connect("bob=", "Bob"), None)["statusCode"] == 200
    assert posts_since(0) == [("ada=", "Bob joined lobby")]

    # Each message reaches both, and replaying the endpoint's join sends no second "joined".
    assert handler(ws_event("message", "ada=", body="hi all"), None) == {"statusCode": 200}
    assert sorted(posts_since(1)) == [("ada=", "Ada: hi all"), ("bob=", "Ada: hi all")]
    assert handler(ws_event("message", "bob=", body="hello <Ada> & all"), None) == {"statusCode": 200}
    assert sorted(posts_since(3)) == [("ada=", "Bob: hello <Ada> & all"), ("bob=", "Bob: hello <Ada> & all")]

    # Bob leaves: Ada hears it. Then Ada leaves an empty room.
    assert handler(ws_event("disconnect", "bob="), None) == {"statusCode": 200}
    assert posts_since(5) == [("ada=", "Bob left lobby")]
    assert handler(ws_event("disconnect", "ada="), None) == {"statusCode": 200}
    assert posts_since(6) == []

    assert [body for _, body in posts_since(0) if " joined " in body] == ["Bob joined lobby"]
    assert stub.deletes() == []
    assert loop.run(ws.store.scan()) == []


def test_rooms_keep_talk_apart_and_the_nickname_lives_in_the_session(handler: Adapter, ws: ConnectionHub, stub: ManagementAPIStub) -> None:
    def say(connection_id: str, text: str) -> list[tuple[str, str]]:
        start = len(stub.posts())
        assert handler(ws_event("message", connection_id, body=text), None) == {"statusCode": 200}
        return sorted((who, body.decode()) for who, body in stub.posts()[start:])

    handler(connect("ada=", "Ada"), None)
    handler(connect("bob=", "Bob"), None)

    assert say("bob=", "/join room-2") == [("ada=", "Bob left lobby"), ("bob=", "Bob joined room-2")]
    assert say("ada=", "only the lobby hears this") == [("ada=", "Ada: only the lobby hears this")]
    assert say("ada=", "/nick Ada L") == [("ada=", "Ada is now Ada L")]
    assert say("ada=", "/join room-2") == [("ada=", "Ada L joined room-2"), ("bob=", "Ada L joined room-2")]
    assert say("bob=", "hi Ada") == [("ada=", "Bob: hi Ada"), ("bob=", "Bob: hi Ada")]
    assert say("ada=", "/join no rooms with spaces") == [
        ("ada=", "'no rooms with spaces' is not a room name: use 1 to 128 letters, digits and . _ : @ / -")
    ]
    assert say("ada=", "still here") == [("ada=", "Ada L: still here"), ("bob=", "Ada L: still here")]

    record = loop.run(ws.store.load("ada="))
    assert record is not None and record.session == {"nick": "Ada L", "room": "room-2"}
    assert loop.run(ws.store.rooms("ada=")) == {"room-2"}


def test_a_name_from_the_query_string_is_decoded_and_defaults_to_anonymous(
    handler: Adapter, ws: ConnectionHub, stub: ManagementAPIStub
) -> None:
    assert handler(connect("ada=", "Ada"), None)["statusCode"] == 200
    # tests/events/ws_connect.json as API Gateway sends it: ?room=lobby&name=Ada%20L
    assert handler(ws_event("connect", "ada-l="), None)["statusCode"] == 200
    nameless = ws_event("connect", "who=")
    del nameless["queryStringParameters"], nameless["multiValueQueryStringParameters"]
    assert handler(nameless, None)["statusCode"] == 200

    posts = [(connection_id, body.decode()) for connection_id, body in stub.posts()]
    assert posts[0] == ("ada=", "Ada L joined lobby")
    assert sorted(posts[1:]) == [("ada-l=", "anonymous joined lobby"), ("ada=", "anonymous joined lobby")]
