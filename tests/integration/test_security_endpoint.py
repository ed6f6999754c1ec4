"""Issue #23, finding 3: replies go only to API Gateway.

The Management API endpoint was built from the event's `apiId` and `stage` unchecked, and the
stored record's `endpoint` was trusted for every reply: an event with `apiId='127.0.0.1:9999/#'`,
or a record planted in the store, made the function open a connection to any host and port and
send it calls signed with its access key id and session token. Each test listens on 127.0.0.1
where the attacker would, and asserts that nothing connects.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Iterator
from typing import Any

import pytest

from asgi_lambda import Adapter
from asgi_lambda.stores.memory import MemoryStore
from asgi_lambda.stores.record import ConnectionRecord
from asgi_lambda.websocket import broadcast
from tests.support.events import http_api_event
from tests.support.net import AcceptingServer

CONNECTION_ID = "L0SM9cOFvHcCIhw="


class Listener(AcceptingServer):
    """The attacker's server: a TCP socket on 127.0.0.1 that counts who connects."""


@pytest.fixture
def listener() -> Iterator[Listener]:
    server = Listener()
    yield server
    server.close()


@pytest.fixture
def environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_REGION", "eu-west-1")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIAVICTIMKEY0000000")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "victim-secret")
    monkeypatch.setenv("AWS_SESSION_TOKEN", "victim-session-token")
    monkeypatch.delenv("WS_ENDPOINT_URL", raising=False)


def event(event_type: str, *, api_id: str, stage: str = "prod", body: str | None = None) -> dict[str, Any]:
    built: dict[str, Any] = {
        "requestContext": {
            "routeKey": {"CONNECT": "$connect", "MESSAGE": "$default"}[event_type],
            "eventType": event_type,
            "stage": stage,
            "connectionId": CONNECTION_ID,
            "apiId": api_id,
        },
        "isBase64Encoded": False,
    }
    if body is not None:
        built["body"] = body
    return built


class Greeter:
    """Accepts, says hello while the connection opens, and answers each message, so that every
    event has something to send; HTTP requests broadcast "news" and answer how many got it."""

    def __init__(self) -> None:
        self.runs = 0

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "http":
            await receive()
            reached = await broadcast("news")
            await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"application/json")]})
            await send({"type": "http.response.body", "body": json.dumps({"reached": reached}).encode()})
            return
        self.runs += 1
        await receive()
        await send({"type": "websocket.accept"})
        await send({"type": "websocket.send", "text": "hello"})
        while (message := await receive())["type"] == "websocket.receive":
            await send({"type": "websocket.send", "text": f"echo {message['text']}"})


@pytest.mark.parametrize(
    ("api_id", "stage", "fault"),
    [
        (
            "127.0.0.1:{port}/#",
            "prod",
            "requestContext.apiId '127.0.0.1:{port}/#' is not of API Gateway's form (10 lowercase letters and digits)",
        ),
        (
            "a1b2c3d4e5",
            "x@127.0.0.1:{port}/#",
            "requestContext.stage 'x@127.0.0.1:{port}/#' is not of API Gateway's form (letters, digits, - and _)",
        ),
    ],
    ids=["api-id", "stage"],
)
def test_an_event_naming_another_host_is_refused_and_nothing_is_sent(
    environment: None, listener: Listener, caplog: pytest.LogCaptureFixture, api_id: str, stage: str, fault: str
) -> None:
    app = Greeter()
    adapter = Adapter(app, lifespan="off", ws_config={"backend": "memory"})
    hostile = dict(api_id=api_id.format(port=listener.port), stage=stage.format(port=listener.port))

    with caplog.at_level(logging.ERROR, logger="asgi_lambda.websocket"):
        answers = [adapter(event("CONNECT", **hostile), None), adapter(event("MESSAGE", **hostile, body="hi"), None)]

    time.sleep(0.2)  # a connection, had one been opened, would have been accepted by now
    assert answers == [{"statusCode": 500}, {"statusCode": 200}]
    assert (listener.accepted, app.runs) == (0, 0)
    assert (
        caplog.messages[0] == f"WebSocket connection {CONNECTION_ID} refused: {fault.format(port=listener.port)}: no reply is sent for it"
    )
    store = adapter.hub.store  # type: ignore[union-attr]
    assert isinstance(store, MemoryStore) and store.records == {}


def test_the_endpoint_is_built_from_api_gateways_names_and_the_functions_region(environment: None) -> None:
    adapter = Adapter(Greeter(), lifespan="off", ws_config={"backend": "memory"})

    assert adapter(event("CONNECT", api_id="a1b2c3d4e5", stage="prod_v-2"), None) == {"statusCode": 200}

    store = adapter.hub.store  # type: ignore[union-attr]
    assert isinstance(store, MemoryStore)
    assert json.loads(store.records[CONNECTION_ID])["endpoint"] == "https://a1b2c3d4e5.execute-api.eu-west-1.amazonaws.com/prod_v-2"


def plant(adapter: Adapter, listener: Listener, connection_id: str = CONNECTION_ID) -> None:
    """Writes into the adapter's memory store the record another party would, sending replies to
    their own server."""
    store = adapter.hub.store  # type: ignore[union-attr]
    assert isinstance(store, MemoryStore)
    store.records[connection_id] = ConnectionRecord(
        connection_id,
        endpoint=f"http://127.0.0.1:{listener.port}/prod",
        scope={"path": "/", "query_string": "", "headers": [], "subprotocols": []},
        expires_at=int(time.time()) + 3600,
        pending=[{"text": "queued"}],
    ).to_json()


def test_a_planted_record_gets_no_message_reply(environment: None, listener: Listener, caplog: pytest.LogCaptureFixture) -> None:
    app = Greeter()
    adapter = Adapter(app, lifespan="off", ws_config={"backend": "memory"})
    plant(adapter, listener)

    with caplog.at_level(logging.ERROR, logger="asgi_lambda.websocket"):
        answer = adapter(event("MESSAGE", api_id="a1b2c3d4e5", body="hi"), None)

    time.sleep(0.2)
    assert (answer, listener.accepted, app.runs) == ({"statusCode": 500}, 0, 0)
    assert caplog.messages == [
        f"WebSocket message on {CONNECTION_ID} dropped: the stored endpoint 'http://127.0.0.1:{listener.port}/prod' is not "
        "https://{apiId}.execute-api.eu-west-1.amazonaws.com/{stage}: nothing is sent there"
    ]


def test_a_planted_record_gets_no_broadcast(environment: None, listener: Listener, caplog: pytest.LogCaptureFixture) -> None:
    adapter = Adapter(Greeter(), lifespan="off", ws_config={"backend": "memory"})
    plant(adapter, listener, "planted=")

    with caplog.at_level(logging.WARNING, logger="asgi_lambda.websocket"):
        answer = adapter(http_api_event("/broadcast", "POST"), None)

    time.sleep(0.2)
    assert (json.loads(answer["body"]), listener.accepted) == ({"reached": 0}, 0)
    assert caplog.messages == [
        f"WebSocket message to planted= not delivered: the stored endpoint 'http://127.0.0.1:{listener.port}/prod' is not "
        "https://{apiId}.execute-api.eu-west-1.amazonaws.com/{stage}: nothing is sent there"
    ]


def test_with_ws_endpoint_url_set_replies_go_there_only(environment: None, listener: Listener, caplog: pytest.LogCaptureFixture) -> None:
    own = "http://127.0.0.1:1/@gateway/local"
    adapter = Adapter(Greeter(), lifespan="off", ws_config={"backend": "memory", "params": {"management_endpoint_url": own}})
    plant(adapter, listener, "planted=")

    with caplog.at_level(logging.WARNING, logger="asgi_lambda.websocket"):
        answer = adapter(http_api_event("/broadcast", "POST"), None)

    time.sleep(0.2)
    assert (json.loads(answer["body"]), listener.accepted) == ({"reached": 0}, 0)
    assert caplog.messages == [
        f"WebSocket message to planted= not delivered: the stored endpoint 'http://127.0.0.1:{listener.port}/prod' is not "
        f"WS_ENDPOINT_URL ({own}): nothing is sent there"
    ]
