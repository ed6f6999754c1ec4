"""WebSocket APIs end to end through the adapter: every behaviour, on every store.

Events are tests/events/ws_*.json; replies go to a loopback Management API that records them.
"""

from __future__ import annotations

import asyncio
import base64
import logging
import time
from collections.abc import Iterator
from typing import Any

import pytest

from asgi_lambda.docs import fix
from asgi_lambda.exceptions import ConfigError
from asgi_lambda.protocols import loop
from asgi_lambda.settings.websocket import WebSocketSettings
from asgi_lambda.stores import Store
from asgi_lambda.stores.record import ConnectionRecord
from asgi_lambda.websocket import broadcast, send
from asgi_lambda.websocket.hub import ConnectionHub, install_default
from tests.support import adapter
from tests.support.apps import CONNECTION_ID, ChatApp
from tests.support.events import load_event
from tests.support.management_api import ManagementAPIStub


@pytest.fixture
def app() -> ChatApp:
    return ChatApp()


def handle(app: Any, name: str, **changes: Any) -> dict[str, Any]:
    event = load_event(name)
    event.update(changes)
    response: dict[str, Any] = adapter(app)(event, None)
    return response


def connected(app: ChatApp) -> None:
    assert handle(app, "ws_connect")["statusCode"] == 200


# --- $connect ------------------------------------------------------------------------


def test_connect_gives_the_app_the_clients_path_query_headers_and_subprotocols(app: ChatApp, ws: ConnectionHub) -> None:
    handle(app, "ws_connect")

    scope = app.scopes[0]
    assert {
        key: scope[key] for key in ("type", "scheme", "path", "raw_path", "root_path", "query_string", "client", "server", "subprotocols")
    } == {
        "type": "websocket",
        "scheme": "wss",
        "path": "/ws",
        "raw_path": b"/ws",
        "root_path": "",
        "query_string": b"room=lobby&name=Ada+L",
        "client": ("203.0.113.9", 0),
        "server": ("a1b2c3d4e5.execute-api.us-east-1.amazonaws.com", 443),
        "subprotocols": ["chat.v2", "chat.v1"],
    }
    assert (b"origin", b"https://chat.example.com") in scope["headers"]
    assert scope["aws.connection_id"] == CONNECTION_ID


def test_accept_answers_200_with_the_chosen_subprotocol_and_stores_the_connection(app: ChatApp, ws: ConnectionHub) -> None:
    response = handle(app, "ws_connect")

    assert response == {"statusCode": 200, "headers": {"Sec-WebSocket-Protocol": "chat.v2"}}
    record = loop.run(ws.store.load(CONNECTION_ID))
    assert record is not None and record.scope["subprotocol"] == "chat.v2" and record.scope["query_string"] == "room=lobby&name=Ada+L"


@pytest.mark.parametrize("on_connect", ["close", "return"])
def test_close_or_no_accept_answers_403_and_stores_nothing(app: ChatApp, ws: ConnectionHub, on_connect: str) -> None:
    app.on_connect = on_connect

    assert handle(app, "ws_connect") == {"statusCode": 403}
    assert loop.run(ws.store.load(CONNECTION_ID)) is None


def test_an_exception_during_connect_answers_500_and_stores_nothing(app: ChatApp, ws: ConnectionHub) -> None:
    app.on_connect = "raise"

    assert handle(app, "ws_connect") == {"statusCode": 500}
    assert loop.run(ws.store.load(CONNECTION_ID)) is None


def test_the_record_expires_after_ws_ttl_seconds(app: ChatApp, ws: ConnectionHub) -> None:
    before = int(time.time())
    handle(app, "ws_connect")

    record = loop.run(ws.store.load(CONNECTION_ID))
    assert record is not None and before + 7260 <= record.expires_at <= int(time.time()) + 7260


def test_replies_go_to_the_api_id_and_stage_endpoint_not_the_custom_domain(app: ChatApp, store: Store) -> None:
    install_default(ConnectionHub(WebSocketSettings(backend=store.name, store_options={}, region="eu-west-1"), store=store))
    try:
        handle(app, "ws_connect_custom_domain")
    finally:
        install_default(None)

    record = loop.run(store.load(CONNECTION_ID))
    assert record is not None and record.endpoint == "https://a1b2c3d4e5.execute-api.eu-west-1.amazonaws.com/prod"


# --- messages ------------------------------------------------------------------------


def test_a_message_is_one_receive_and_each_send_is_one_post(app: ChatApp, ws: ConnectionHub, stub: ManagementAPIStub) -> None:
    connected(app)

    assert handle(app, "ws_message") == {"statusCode": 200}

    assert [message["text"] for message in app.received] == ["hello, world"]
    assert stub.posts() == [(CONNECTION_ID, b"echo: hello, world")]


def test_a_binary_message_arrives_as_bytes_and_bytes_go_back_as_they_are(app: ChatApp, ws: ConnectionHub, stub: ManagementAPIStub) -> None:
    connected(app)

    handle(app, "ws_message_binary")

    assert app.received[-1]["bytes"] == b"\x00\x01\x02\xff"
    assert stub.posts() == [(CONNECTION_ID, b"\xff\x02\x01\x00")]


class ReadAheadApp:
    """A framework's shape (Quart, Falcon): a reader task asks for the next message as soon as it
    has queued this one; the handler, in another task, answers from the queue, after `awaits`
    passes of the loop."""

    def __init__(self, awaits: int = 1) -> None:
        self.awaits = awaits

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        assert (await receive())["type"] == "websocket.connect"
        await send({"type": "websocket.accept"})
        queue: asyncio.Queue[dict[str, Any]] = asyncio.Queue()

        async def read() -> None:
            while True:
                await queue.put(await receive())

        async def handle() -> None:
            while True:
                message = await queue.get()
                for _ in range(self.awaits):
                    await asyncio.sleep(0)
                await send({"type": "websocket.send", "text": f"echo: {message.get('text')}"})
                await send({"type": "websocket.send", "text": "and again"})

        reader = asyncio.ensure_future(read())
        try:
            await handle()
        finally:
            reader.cancel()


def test_an_app_that_reads_the_next_message_ahead_in_another_task_still_answers(ws: ConnectionHub, stub: ManagementAPIStub) -> None:
    app = ReadAheadApp(awaits=2)
    connected(app)  # type: ignore[arg-type]

    assert handle(app, "ws_message") == {"statusCode": 200}

    assert stub.posts() == [(CONNECTION_ID, b"echo: hello, world"), (CONNECTION_ID, b"and again")]


def test_an_app_that_reads_ahead_and_sends_nothing_ends_the_invocation_at_once(
    app: ChatApp, ws: ConnectionHub, stub: ManagementAPIStub
) -> None:
    connected(app)
    started = time.monotonic()

    assert handle(ReadAheadApp(awaits=10_000_000), "ws_message") == {"statusCode": 200}

    assert time.monotonic() - started < 2
    assert stub.posts() == []


class ClosesWhenStoppedApp:
    """Answers each message, then treats the end of its wait as the client leaving: it sends a close."""

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        assert (await receive())["type"] == "websocket.connect"
        await send({"type": "websocket.accept"})
        try:
            while True:
                message = await receive()
                await send({"type": "websocket.send", "text": f"echo: {message.get('text')}"})
        except asyncio.CancelledError:
            await send({"type": "websocket.close", "code": 1001})
            raise


def test_when_the_invocation_ends_the_apps_wait_for_a_message_ends_and_what_it_sends_then_is_ignored(
    ws: ConnectionHub, stub: ManagementAPIStub
) -> None:
    app = ClosesWhenStoppedApp()
    connected(app)  # type: ignore[arg-type]

    assert handle(app, "ws_message") == {"statusCode": 200}

    # The client has not left: the close the app sent while being stopped does not close it.
    assert (stub.posts(), stub.deletes()) == ([(CONNECTION_ID, b"echo: hello, world")], [])
    assert loop.run(ws.store.load(CONNECTION_ID)) is not None


def test_an_app_that_does_not_answer_does_not_hang_the_invocation(app: ChatApp, ws: ConnectionHub, stub: ManagementAPIStub) -> None:
    connected(app)
    started = time.monotonic()

    assert handle(app, "ws_message", body="silence") == {"statusCode": 200}

    assert time.monotonic() - started < 2
    assert stub.posts() == []


def test_the_app_is_not_told_the_client_left_on_ordinary_messages(app: ChatApp, ws: ConnectionHub) -> None:
    connected(app)

    for _ in range(3):
        handle(app, "ws_message")

    assert app.disconnects == []


def test_messages_sent_during_connect_are_delivered_once_the_connection_is_open(
    app: ChatApp, ws: ConnectionHub, stub: ManagementAPIStub
) -> None:
    app.on_connect = "welcome"
    connected(app)
    assert stub.posts() == []  # the connection is not open while $connect runs

    handle(app, "ws_message")
    handle(app, "ws_message", body="again")

    assert stub.posts() == [
        (CONNECTION_ID, b"welcome"),
        (CONNECTION_ID, b"\x00\x01"),
        (CONNECTION_ID, b"echo: hello, world"),
        (CONNECTION_ID, b"echo: again"),
    ]


def test_close_from_the_app_deletes_the_connection_on_api_gateway(app: ChatApp, ws: ConnectionHub, stub: ManagementAPIStub) -> None:
    connected(app)

    handle(app, "ws_message", body="close")

    assert stub.deletes() == [CONNECTION_ID]


def test_a_gone_connection_is_removed_from_the_store(app: ChatApp, ws: ConnectionHub, stub: ManagementAPIStub) -> None:
    connected(app)
    stub.gone.add(CONNECTION_ID)

    assert handle(app, "ws_message") == {"statusCode": 200}

    assert loop.run(ws.store.load(CONNECTION_ID)) is None


def test_a_message_for_an_unknown_connection_is_logged_and_dropped(
    app: ChatApp, ws: ConnectionHub, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, logger="asgi_lambda"):
        assert handle(app, "ws_message") == {"statusCode": 200}

    assert app.scopes == []
    assert [record.getMessage() for record in caplog.records] == [
        f"WebSocket message on {CONNECTION_ID} dropped: no such connection in the store (expired, or never accepted)"
    ]


def test_a_message_over_128_kb_is_refused_with_a_clear_logged_error(
    ws: ConnectionHub, stub: ManagementAPIStub, caplog: pytest.LogCaptureFixture
) -> None:
    async def app(scope: Any, receive: Any, send: Any) -> None:
        await receive()
        await send({"type": "websocket.accept"})
        await receive()
        await send({"type": "websocket.send", "bytes": b"x" * (128 * 1024 + 1)})

    handle(app, "ws_connect")
    with caplog.at_level(logging.ERROR, logger="asgi_lambda"):
        handle(app, "ws_message")

    assert stub.posts() == []
    [record] = caplog.records
    assert record.exc_info is not None
    assert str(record.exc_info[1]) == f"message of 131073 bytes to {CONNECTION_ID} not sent: API Gateway's limit is 131072 bytes"


# --- $disconnect ---------------------------------------------------------------------


def test_disconnect_reaches_the_app_with_the_close_code_and_removes_the_connection(app: ChatApp, ws: ConnectionHub) -> None:
    connected(app)

    assert handle(app, "ws_disconnect") == {"statusCode": 200}

    assert app.disconnects == [{"type": "websocket.disconnect", "code": 1001, "reason": "Going away"}]
    assert loop.run(ws.store.load(CONNECTION_ID)) is None


def test_a_disconnect_for_an_unknown_connection_is_logged_and_answered_200(
    app: ChatApp, ws: ConnectionHub, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.INFO, logger="asgi_lambda"):
        assert handle(app, "ws_disconnect") == {"statusCode": 200}

    assert app.scopes == []
    assert [record.getMessage() for record in caplog.records] == [
        f"WebSocket disconnect of {CONNECTION_ID}, which the store does not know (expired, or never accepted)"
    ]


# --- the send API --------------------------------------------------------------------


def test_broadcast_reaches_every_connection_and_removes_the_gone_ones(ws: ConnectionHub, stub: ManagementAPIStub) -> None:
    ids = [f"conn-{index:03d}=" for index in range(300)]
    for connection_id in ids:
        loop.run(ws.store.save(ConnectionRecord(connection_id, endpoint=stub.endpoint, scope={}, expires_at=int(time.time()) + 60)))
    stub.gone.update(ids[:10])

    delivered = loop.run(broadcast("news", exclude={ids[-1]}))

    assert delivered == 289
    assert sorted(connection_id for connection_id, body in stub.posts()) == sorted(ids[:-1])
    assert sorted(record.connection_id for record in loop.run(ws.store.scan())) == ids[10:]


def test_send_reaches_one_connection_from_an_http_handler(app: ChatApp, ws: ConnectionHub, stub: ManagementAPIStub) -> None:
    connected(app)

    async def http_app(scope: Any, receive: Any, respond: Any) -> None:
        delivered = await send(CONNECTION_ID, "pushed from HTTP")
        await respond({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"text/plain")]})
        await respond({"type": "http.response.body", "body": str(delivered).encode()})

    response = adapter(http_app)(load_event("http_api_v2_get"), None)

    assert response["body"] == "True"
    assert stub.posts() == [(CONNECTION_ID, b"pushed from HTTP")]


def test_send_to_an_unknown_connection_returns_false(ws: ConnectionHub, stub: ManagementAPIStub) -> None:
    assert loop.run(send("nobody=", "hello")) is False
    assert stub.posts() == []


# --- configuration -------------------------------------------------------------------


def test_a_websocket_event_without_ws_backend_is_a_clear_error(app: ChatApp, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("WS_BACKEND", raising=False)
    install_default(None)

    with pytest.raises(ConfigError) as error:
        handle(app, "ws_connect")

    assert str(error.value) == (
        "A WebSocket event arrived but WS_BACKEND is not set: set it to one of dynamodb, s3, postgresql, redis, "
        "sqlite, memory (or postgres, sqlite3) to keep connections between invocations (or give the adapter ws_config= or dsn=)."
    ) + fix("ws-backend-not-set")


def test_the_management_client_is_made_once_per_environment(app: ChatApp, ws: ConnectionHub) -> None:
    connected(app)
    handle(app, "ws_message")
    first = dict(ws.clients)
    handle(app, "ws_message")

    assert list(ws.clients.values()) == list(first.values()) and len(first) == 1


def test_the_binary_pending_frame_is_base64_in_the_record(ws: ConnectionHub, app: ChatApp) -> None:
    app.on_connect = "welcome"
    connected(app)

    record = loop.run(ws.store.load(CONNECTION_ID))
    assert record is not None and record.pending == [{"text": "welcome"}, {"bytes": base64.b64encode(b"\x00\x01").decode()}]


# --- a store that cannot be reached --------------------------------------------------


@pytest.fixture
def unreachable(unreachable_store: Store, stub: ManagementAPIStub) -> Iterator[Store]:
    install_default(
        ConnectionHub(
            WebSocketSettings(backend=unreachable_store.name, store_options={}, endpoint_url=stub.endpoint), store=unreachable_store
        )
    )
    yield unreachable_store
    install_default(None)


def test_an_unreachable_store_fails_the_connect_with_500_and_a_log_line_naming_it(
    app: ChatApp, unreachable: Store, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.ERROR, logger="asgi_lambda"):
        assert handle(app, "ws_connect") == {"statusCode": 500}

    [record] = caplog.records
    assert record.getMessage().startswith(f"WebSocket connection {CONNECTION_ID} refused: {unreachable.name} store")


def test_a_message_the_store_cannot_load_is_logged_and_dropped(app: ChatApp, unreachable: Store, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.ERROR, logger="asgi_lambda"):
        assert handle(app, "ws_message") == {"statusCode": 500}
        # The environment carries on: the next event is handled the same way.
        assert handle(app, "ws_message") == {"statusCode": 500}

    assert app.scopes == []
    assert all(
        record.getMessage().startswith(f"WebSocket message on {CONNECTION_ID} dropped: {unreachable.name} store")
        for record in caplog.records
    )
