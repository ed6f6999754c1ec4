"""Issue #23, finding 1: the WebSocket store keeps no live credentials.

`$connect`'s request is stored for the connection's lifetime and beyond (DynamoDB's TTL deletion
lags by days), so its Authorization, Cookie and token query parameters (browsers cannot set headers
on a WebSocket, so tokens travel in the query string) are stored as a placeholder. The app still
sees every value at `$connect`; later events replay the connect phase with the placeholders.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from asgi_lambda import Adapter, ConfigError
from asgi_lambda.docs import fix
from asgi_lambda.settings import Settings
from asgi_lambda.stores.memory import MemoryStore

API_ID = "a1b2c3d4e5"
CONNECTION_ID = "L0SM9cOFvHcCIhw="


def connect_event(headers: dict[str, str], query: dict[str, list[str]]) -> dict[str, Any]:
    """A $connect event as API Gateway sends it, with these headers and query parameters."""
    return {
        "headers": {name: value for name, value in headers.items()},
        "multiValueHeaders": {name: [value] for name, value in headers.items()},
        "queryStringParameters": {name: values[-1] for name, values in query.items()},
        "multiValueQueryStringParameters": query,
        "requestContext": {
            "routeKey": "$connect",
            "eventType": "CONNECT",
            "stage": "prod",
            "identity": {"sourceIp": "203.0.113.9"},
            "domainName": f"{API_ID}.execute-api.eu-west-1.amazonaws.com",
            "connectionId": CONNECTION_ID,
            "apiId": API_ID,
        },
        "isBase64Encoded": False,
    }


def message_event(body: str) -> dict[str, Any]:
    return {
        "requestContext": {
            "routeKey": "$default",
            "eventType": "MESSAGE",
            "stage": "prod",
            "connectionId": CONNECTION_ID,
            "apiId": API_ID,
        },
        "body": body,
        "isBase64Encoded": False,
    }


class ScopeRecorder:
    """A WebSocket app that accepts, then keeps each scope's headers and query string."""

    def __init__(self) -> None:
        self.seen: list[tuple[list[tuple[bytes, bytes]], bytes]] = []

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "websocket":
            return
        self.seen.append((list(scope["headers"]), scope["query_string"]))
        await receive()  # websocket.connect
        await send({"type": "websocket.accept"})
        while (await receive())["type"] == "websocket.receive":
            pass


HEADERS = {
    "Host": f"{API_ID}.execute-api.eu-west-1.amazonaws.com",
    "Authorization": "Bearer eyJhbGciOiJIUzI1NiJ9.live-session",
    "Cookie": "session=s3ss10n-value; theme=dark",
    "X-Api-Key": "k3y-value",
    "Origin": "https://chat.example.com",
}
QUERY = {"room": ["lobby"], "Token": ["t0ken-value"], "access_token": ["acc3ss-value"]}

FULL_HEADERS = [
    (b"host", f"{API_ID}.execute-api.eu-west-1.amazonaws.com".encode()),
    (b"authorization", b"Bearer eyJhbGciOiJIUzI1NiJ9.live-session"),
    (b"cookie", b"session=s3ss10n-value; theme=dark"),
    (b"x-api-key", b"k3y-value"),
    (b"origin", b"https://chat.example.com"),
]
REDACTED_HEADERS = [
    (b"host", f"{API_ID}.execute-api.eu-west-1.amazonaws.com".encode()),
    (b"authorization", b"[redacted]"),
    (b"cookie", b"[redacted]"),
    (b"x-api-key", b"[redacted]"),
    (b"origin", b"https://chat.example.com"),
]


def stored(adapter: Adapter) -> dict[str, Any]:
    store = adapter.hub.store  # type: ignore[union-attr]
    assert isinstance(store, MemoryStore)
    record: dict[str, Any] = json.loads(store.records[CONNECTION_ID])
    return record


@pytest.fixture
def region(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_REGION", "eu-west-1")
    monkeypatch.delenv("WS_REDACT", raising=False)


def test_the_app_sees_every_credential_at_connect_and_the_store_keeps_placeholders(region: None) -> None:
    app = ScopeRecorder()
    adapter = Adapter(app, ws_config={"backend": "memory"})

    assert adapter(connect_event(HEADERS, QUERY), None) == {"statusCode": 200}

    assert app.seen == [(FULL_HEADERS, b"room=lobby&Token=t0ken-value&access_token=acc3ss-value")]
    scope = stored(adapter)["scope"]
    assert scope["headers"] == [[name.decode(), value.decode()] for name, value in REDACTED_HEADERS]
    assert scope["query_string"] == "room=lobby&Token=%5Bredacted%5D&access_token=%5Bredacted%5D"
    text = json.dumps(stored(adapter))
    for secret in ("live-session", "s3ss10n-value", "k3y-value", "t0ken-value", "acc3ss-value"):
        assert secret not in text


def test_a_later_event_replays_the_connect_phase_with_the_placeholders(region: None) -> None:
    app = ScopeRecorder()
    adapter = Adapter(app, ws_config={"backend": "memory"})
    adapter(connect_event(HEADERS, QUERY), None)

    assert adapter(message_event("hello"), None) == {"statusCode": 200}

    assert app.seen[1] == (REDACTED_HEADERS, b"room=lobby&Token=%5Bredacted%5D&access_token=%5Bredacted%5D")


def test_ws_redact_names_other_headers_and_parameters_in_any_case(region: None) -> None:
    settings = Settings.from_environ({"ASGI_APP": "x:y", "WS_BACKEND": "memory", "WS_REDACT": "Origin, ROOM", "AWS_REGION": "eu-west-1"})
    app = ScopeRecorder()
    adapter = Adapter(app, settings=settings)

    adapter(connect_event(HEADERS, QUERY), None)

    scope = stored(adapter)["scope"]
    assert dict(scope["headers"])["origin"] == "[redacted]"
    assert dict(scope["headers"])["authorization"] == "Bearer eyJhbGciOiJIUzI1NiJ9.live-session"
    assert scope["query_string"] == "room=%5Bredacted%5D&Token=t0ken-value&access_token=acc3ss-value"


def test_an_empty_ws_redact_stores_every_value() -> None:
    from asgi_lambda.settings.websocket import websocket_from_environ

    assert websocket_from_environ({"WS_BACKEND": "memory", "WS_REDACT": ""}).redact == frozenset()
    assert websocket_from_environ({"WS_BACKEND": "memory"}).redact == frozenset(
        {"authorization", "cookie", "proxy-authorization", "x-api-key", "token", "access_token", "id_token"}
    )


@pytest.mark.parametrize(
    ("config", "redact"),
    [
        ({"ws_config": {"backend": "memory", "params": {"redact": ["Authorization", "session"]}}}, {"authorization", "session"}),
        ({"ws_config": {"backend": "memory", "params": {"redact": []}}}, set()),
        ({"dsn": "memory://?redact=Authorization,session"}, {"authorization", "session"}),
        ({"dsn": "memory://?redact="}, set()),
    ],
    ids=["ws_config", "ws_config-off", "dsn", "dsn-off"],
)
def test_code_configuration_takes_the_same_option(config: dict[str, Any], redact: set[str]) -> None:
    settings = Settings.from_arguments(environ={}, **config)

    assert settings.websocket is not None and settings.websocket.redact == frozenset(redact)


@pytest.mark.parametrize(
    ("build", "message"),
    [
        (
            lambda: Settings.from_environ({"ASGI_APP": "x:y", "WS_BACKEND": "memory", "WS_REDACT": "authorization,bad name"}),
            "WS_REDACT='authorization,bad name': 'bad name' is not a header or query parameter name; expected names such as "
            "authorization,token, separated by commas (empty: store every value).",
        ),
        (
            lambda: Settings.from_arguments(environ={}, ws_config={"backend": "memory", "params": {"redact": "authorization"}}),
            "ws_config['params']['redact']='authorization': expected a list of strings, such as ['authorization'].",
        ),
        (
            lambda: Settings.from_arguments(environ={}, dsn="memory://?redact=a:b"),
            "dsn['redact']='a:b': 'a:b' is not a header or query parameter name; expected names such as "
            "authorization,token, separated by commas (empty: store every value).",
        ),
    ],
    ids=["variable", "ws_config-text", "dsn"],
)
def test_a_bad_redact_list_is_refused_naming_where_it_came_from(build: Any, message: str) -> None:
    with pytest.raises(ConfigError) as refused:
        build()

    assert str(refused.value) == message + fix("invalid-value")
