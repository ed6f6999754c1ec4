"""Rooms and sessions end to end, through the adapter, on every store: what the app writes, what
the store keeps, and how many store calls each event costs."""

from __future__ import annotations

import logging
import time
from typing import Any

import pytest

from asgi_lambda import StoreUnavailable
from asgi_lambda.protocols import loop
from asgi_lambda.stores import Store
from asgi_lambda.stores.record import ConnectionRecord, Member
from asgi_lambda.websocket import broadcast, join, leave, rooms, send
from asgi_lambda.websocket.hub import ConnectionHub
from tests.support import adapter
from tests.support.apps import CONNECTION_ID
from tests.support.events import load_event
from tests.support.management_api import ManagementAPIStub
from tests.support.websocket import count_calls, websocket_runtime


class RoomsApp:
    """A raw ASGI chat: at connect it joins the room its query names and keeps the name in the
    session; each message is a command."""

    def __init__(self) -> None:
        self.sessions: list[dict[str, Any]] = []  # the session each run of the app started with
        self.joined: list[bool] = []

    async def __call__(self, scope: Any, receive: Any, send_message: Any) -> None:
        me = scope["aws.connection_id"]
        session = scope["aws.session"]
        self.sessions.append(dict(session))
        assert (await receive())["type"] == "websocket.connect"
        query = dict(part.split("=") for part in scope["query_string"].decode().split("&"))
        await send_message({"type": "websocket.accept"})
        self.joined.append(await join(me, query["room"]))
        session.setdefault("name", query["name"].replace("+", " "))
        while True:
            message = await receive()
            if message["type"] == "websocket.disconnect":
                session["gone"] = True  # not kept: the connection has gone
                return
            command, _, argument = message["text"].partition(" ")
            if command == "/join":
                await join(me, argument)
            elif command == "/leave":
                await leave(me, argument)
            elif command == "/rooms":
                await send_message({"type": "websocket.send", "text": ",".join(sorted(await rooms(me)))})
            elif command == "/nick":
                session["name"] = argument
            elif command == "/big":
                session["blob"] = "x" * int(argument)
            elif command == "/object":
                session["when"] = object()
            elif command == "/say":
                await broadcast(f"{session['name']}: {argument}", room=query["room"], exclude={me})
            else:
                await send_message({"type": "websocket.send", "text": f"{session['name']} said {message['text']}"})


@pytest.fixture
def app() -> RoomsApp:
    return RoomsApp()


def handle(app: Any, name: str, **changes: Any) -> dict[str, Any]:
    event = load_event(name)
    event.update(changes)
    response: dict[str, Any] = adapter(app)(event, None)
    return response


def say(app: Any, text: str) -> dict[str, Any]:
    return handle(app, "ws_message", body=text)


def members(store: Store, room: str) -> list[str]:
    async def read() -> list[str]:
        return sorted([member.connection_id async for page in store.members(room) for member in page])

    return loop.run(read())


def other(connection_id: str, endpoint: str, *rooms: str) -> ConnectionRecord:
    record = ConnectionRecord(connection_id, endpoint=endpoint, scope={}, expires_at=int(time.time()) + 600, rooms=list(rooms))
    return record


# --- rooms -------------------------------------------------------------------------------------


def test_a_room_joined_during_connect_is_written_with_the_connection_in_one_save(app: RoomsApp, ws: ConnectionHub) -> None:
    calls = count_calls(ws.store)

    assert handle(app, "ws_connect")["statusCode"] == 200

    assert calls == ["save"]
    assert app.joined == [True]
    assert loop.run(ws.store.rooms(CONNECTION_ID)) == {"lobby"}
    assert members(ws.store, "lobby") == [CONNECTION_ID]


def test_a_message_that_changes_no_room_and_no_session_is_one_read(app: RoomsApp, ws: ConnectionHub, stub: ManagementAPIStub) -> None:
    handle(app, "ws_connect")
    calls = count_calls(ws.store)

    say(app, "hello")

    assert calls == ["load"]  # the replayed join wrote nothing
    assert app.joined == [True, True]
    assert stub.posts() == [(CONNECTION_ID, b"Ada L said hello")]


def test_join_and_leave_from_a_message_are_one_write_each(app: RoomsApp, ws: ConnectionHub, stub: ManagementAPIStub) -> None:
    handle(app, "ws_connect")
    calls = count_calls(ws.store)

    say(app, "/join room-1")
    say(app, "/leave lobby")
    say(app, "/rooms")

    assert calls == ["load", "join", "load", "leave", "load", "rooms"]
    assert stub.posts() == [(CONNECTION_ID, b"room-1")]
    assert members(ws.store, "room-1") == [CONNECTION_ID] and members(ws.store, "lobby") == []


def test_broadcast_to_a_room_reaches_its_members_but_the_excluded(app: RoomsApp, ws: ConnectionHub, stub: ManagementAPIStub) -> None:
    handle(app, "ws_connect")
    for connection_id, room in (("bob=", "lobby"), ("eve=", "lobby"), ("zed=", "elsewhere")):
        loop.run(ws.store.save(other(connection_id, stub.endpoint, room)))

    say(app, "/say hi all")

    assert sorted(stub.posts()) == [("bob=", b"Ada L: hi all"), ("eve=", b"Ada L: hi all")]


def test_broadcast_without_a_room_still_reaches_everyone(ws: ConnectionHub, stub: ManagementAPIStub) -> None:
    for connection_id, room in (("bob=", "lobby"), ("zed=", "elsewhere"), ("amy=", "")):
        loop.run(ws.store.save(other(connection_id, stub.endpoint, *filter(None, [room]))))

    assert loop.run(broadcast("news")) == 3
    assert sorted(connection_id for connection_id, _ in stub.posts()) == ["amy=", "bob=", "zed="]


def test_a_connection_leaves_every_room_when_it_disconnects(app: RoomsApp, ws: ConnectionHub) -> None:
    handle(app, "ws_connect")
    say(app, "/join room-1")

    assert handle(app, "ws_disconnect") == {"statusCode": 200}

    assert members(ws.store, "lobby") == [] and members(ws.store, "room-1") == []
    assert loop.run(ws.store.rooms(CONNECTION_ID)) == set()


def test_a_connection_api_gateway_calls_gone_leaves_every_room_and_is_not_counted(ws: ConnectionHub, stub: ManagementAPIStub) -> None:
    for connection_id in ("bob=", "eve=", "gone="):
        loop.run(ws.store.save(other(connection_id, stub.endpoint, "lobby", "room-1")))
    stub.gone.add("gone=")

    assert loop.run(broadcast("hi", room="lobby")) == 2

    assert members(ws.store, "lobby") == ["bob=", "eve="] and members(ws.store, "room-1") == ["bob=", "eve="]
    assert loop.run(ws.store.load("gone=")) is None


def test_join_from_an_http_handler_reads_the_connection_then_writes_once(ws: ConnectionHub, stub: ManagementAPIStub) -> None:
    loop.run(ws.store.save(other("bob=", stub.endpoint)))
    calls = count_calls(ws.store)

    assert loop.run(join("bob=", "room-1")) is True
    assert loop.run(join("bob=", "room-1")) is True

    assert calls == ["load", "join", "load", "join"]
    assert members(ws.store, "room-1") == ["bob="]


def test_join_of_a_connection_the_store_does_not_know_returns_false_and_stores_nothing(ws: ConnectionHub) -> None:
    assert loop.run(join("nobody=", "room-1")) is False
    loop.run(leave("nobody=", "room-1"))

    assert members(ws.store, "room-1") == []
    assert loop.run(rooms("nobody=")) == set()


@pytest.mark.parametrize("room", ["", "a b", "x" * 129, "café", "room#1", "50%"])
def test_a_room_name_outside_the_rule_is_a_value_error_naming_it(ws: ConnectionHub, room: str) -> None:
    expected = f"room name {room!r}: expected 1 to 128 characters, each a letter, a digit or one of . _ : @ / -"
    for call in (join("bob=", room), leave("bob=", room), broadcast("hi", room=room)):
        with pytest.raises(ValueError) as error:
            loop.run(call)
        assert str(error.value) == expected


def test_a_store_outage_during_join_leave_or_a_room_broadcast_raises_store_unavailable(
    unreachable_store: Store, stub: ManagementAPIStub
) -> None:
    with websocket_runtime(unreachable_store, endpoint=stub.endpoint):
        for call in (join("bob=", "room-1"), leave("bob=", "room-1"), broadcast("hi", room="room-1"), rooms("bob=")):
            with pytest.raises(StoreUnavailable) as error:
                loop.run(call)
            assert str(error.value).startswith(f"{unreachable_store.name} store")


# --- sessions ----------------------------------------------------------------------------------


def test_the_session_starts_empty_and_what_connect_puts_in_it_is_saved_with_the_connection(app: RoomsApp, ws: ConnectionHub) -> None:
    handle(app, "ws_connect")

    record = loop.run(ws.store.load(CONNECTION_ID))
    assert app.sessions == [{}]
    assert record is not None and record.session == {"name": "Ada L"}


def test_the_session_is_restored_at_each_message_and_at_disconnect(app: RoomsApp, ws: ConnectionHub, stub: ManagementAPIStub) -> None:
    handle(app, "ws_connect")
    say(app, "/nick Ada")
    say(app, "hello")
    handle(app, "ws_disconnect")

    assert app.sessions == [{}, {"name": "Ada L"}, {"name": "Ada"}, {"name": "Ada"}]
    assert stub.posts() == [(CONNECTION_ID, b"Ada said hello")]


def test_a_changed_session_is_one_write_at_the_end_of_the_event(app: RoomsApp, ws: ConnectionHub) -> None:
    handle(app, "ws_connect")
    calls = count_calls(ws.store)

    say(app, "/nick Ada")

    assert calls == ["load", "update"]
    record = loop.run(ws.store.load(CONNECTION_ID))
    assert record is not None and record.session == {"name": "Ada"}


@pytest.mark.parametrize(
    ("command", "why"),
    [
        ("/big 40000", "WebSocket session of L0SM9cOFvHcCIhw= not saved: 40026 bytes as JSON, over WS_SESSION_MAX_BYTES=32768"),
        ("/object", "WebSocket session of L0SM9cOFvHcCIhw= not saved: it is not JSON (Object of type object is not JSON serializable)"),
    ],
)
def test_a_session_too_large_or_not_json_is_logged_with_the_connection_id_and_the_previous_one_kept(
    app: RoomsApp, ws: ConnectionHub, stub: ManagementAPIStub, caplog: pytest.LogCaptureFixture, command: str, why: str
) -> None:
    handle(app, "ws_connect")
    calls = count_calls(ws.store)

    with caplog.at_level(logging.ERROR, logger="asgi_lambda.websocket"):
        assert say(app, command) == {"statusCode": 200}

    assert calls == ["load"]
    assert [record.getMessage() for record in caplog.records] == [f"{why}; the previous one is kept"]
    record = loop.run(ws.store.load(CONNECTION_ID))
    assert record is not None and record.session == {"name": "Ada L"}


def test_ws_session_max_bytes_sets_the_limit(app: RoomsApp, store: Store, stub: ManagementAPIStub) -> None:
    with websocket_runtime(store, endpoint=stub.endpoint, session_max_bytes=100_000):
        handle(app, "ws_connect")
        say(app, "/big 40000")

    record = loop.run(store.load(CONNECTION_ID))
    assert record is not None and len(record.session["blob"]) == 40000


def test_send_from_an_http_handler_leaves_the_session_alone(app: RoomsApp, ws: ConnectionHub, stub: ManagementAPIStub) -> None:
    handle(app, "ws_connect")
    calls = count_calls(ws.store)

    assert loop.run(send(CONNECTION_ID, "pushed")) is True

    assert calls == ["load"]
    record = loop.run(ws.store.load(CONNECTION_ID))
    assert record is not None and record.session == {"name": "Ada L"}


def test_a_session_saved_after_the_connection_went_does_not_bring_it_back(app: RoomsApp, ws: ConnectionHub) -> None:
    handle(app, "ws_connect")
    record = loop.run(ws.store.load(CONNECTION_ID))
    assert record is not None
    loop.run(ws.store.pop(CONNECTION_ID))
    record.session = {"name": "late"}

    assert loop.run(ws.store.update(record)) is False
    assert loop.run(ws.store.load(CONNECTION_ID)) is None


def test_the_room_index_holds_where_to_post(ws: ConnectionHub, stub: ManagementAPIStub) -> None:
    saved = other("bob=", stub.endpoint, "lobby")
    loop.run(ws.store.save(saved))

    async def read() -> list[Member]:
        return [member async for page in ws.store.members("lobby") for member in page]

    assert loop.run(read()) == [Member("bob=", stub.endpoint, saved.expires_at)]
