"""Rooms and sessions in the store contract, the same for all six backends (against the real
PostgreSQL and Redis servers and the moto server)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from asgi_lambda.protocols import loop
from asgi_lambda.stores import Store, StoreUnavailable
from asgi_lambda.stores.record import ConnectionRecord, Member
from tests.support.websocket import ENDPOINT, connection


def members(store: Store, room: str) -> list[list[Member]]:
    """Every page the store reads of the room."""

    async def read() -> list[list[Member]]:
        return [page async for page in store.members(room)]

    return loop.run(read())


def ids(pages: list[list[Member]]) -> list[str]:
    return sorted(member.connection_id for page in pages for member in page)


def saved(store: Store, connection_id: str, *, rooms: tuple[str, ...] = (), expires_in: int = 7260, **session: Any) -> ConnectionRecord:
    record = connection(connection_id, expires_in=expires_in)
    record.rooms = list(rooms)
    record.session = dict(session)
    loop.run(store.save(record))
    return record


# --- rooms ----------------------------------------------------------------------------------


def test_a_connection_saved_with_rooms_is_a_member_of_each_with_where_to_post(store: Store) -> None:
    record = saved(store, "ada=", rooms=("lobby", "room-1"))

    assert loop.run(store.rooms("ada=")) == {"lobby", "room-1"}
    assert members(store, "lobby") == [[Member("ada=", ENDPOINT, record.expires_at)]]
    assert ids(members(store, "room-1")) == ["ada="]


def test_join_makes_a_stored_connection_a_member_and_joining_again_changes_nothing(store: Store) -> None:
    ada = saved(store, "ada=")

    assert loop.run(store.join(ada.member(), "room-1")) is True
    assert loop.run(store.join(ada.member(), "room-1")) is True

    assert members(store, "room-1") == [[Member("ada=", ENDPOINT, ada.expires_at)]]
    assert loop.run(store.rooms("ada=")) == {"room-1"}


def test_join_of_a_connection_the_store_does_not_know_returns_false_and_stores_nothing(store: Store) -> None:
    stranger = connection("stranger=")

    assert loop.run(store.join(stranger.member(), "room-1")) is False

    assert members(store, "room-1") == []
    assert loop.run(store.rooms("stranger=")) == set()
    assert loop.run(store.load("stranger=")) is None


def test_join_of_an_expired_connection_returns_false(store: Store) -> None:
    expired = saved(store, "expired=", expires_in=-1)

    assert loop.run(store.join(expired.member(), "room-1")) is False
    assert members(store, "room-1") == []


def test_leave_ends_the_membership_and_leaving_again_or_an_unknown_room_is_no_error(store: Store) -> None:
    ada = saved(store, "ada=", rooms=("room-1", "room-2"))

    loop.run(store.leave(ada.member(), "room-1"))
    loop.run(store.leave(ada.member(), "room-1"))
    loop.run(store.leave(ada.member(), "never-joined"))
    loop.run(store.leave(connection("stranger=").member(), "room-2"))

    assert members(store, "room-1") == []
    assert ids(members(store, "room-2")) == ["ada="]
    assert loop.run(store.rooms("ada=")) == {"room-2"}


def test_pop_takes_the_connection_out_of_every_room(store: Store) -> None:
    saved(store, "ada=", rooms=("room-1",))
    bob = saved(store, "bob=", rooms=("room-1",))
    loop.run(store.join(bob.member(), "room-2"))

    popped = loop.run(store.pop("bob="))

    assert popped is not None and popped.connection_id == "bob="
    assert ids(members(store, "room-1")) == ["ada="]
    assert members(store, "room-2") == []
    assert loop.run(store.rooms("bob=")) == set()


def test_a_room_never_yields_an_expired_connection(store: Store) -> None:
    saved(store, "live=", rooms=("room-1",))
    saved(store, "expired=", rooms=("room-1",), expires_in=-1)

    assert ids(members(store, "room-1")) == ["live="]


def test_the_rooms_of_an_unknown_or_expired_connection_are_none(store: Store) -> None:
    saved(store, "expired=", rooms=("room-1",), expires_in=-1)

    assert loop.run(store.rooms("expired=")) == set()
    assert loop.run(store.rooms("never-saved=")) == set()


def test_rooms_whose_names_share_a_beginning_are_rooms_of_their_own(store: Store) -> None:
    saved(store, "ada=", rooms=("team/a",))
    saved(store, "bob=", rooms=("team/a/b",))
    saved(store, "eve=", rooms=("team",))

    assert ids(members(store, "team/a")) == ["ada="]
    assert ids(members(store, "team/a/b")) == ["bob="]
    assert ids(members(store, "team")) == ["eve="]


def test_a_room_larger_than_a_page_is_read_page_by_page_each_member_once(store: Store) -> None:
    store.page = 100  # type: ignore[attr-defined]  # every store has one: what one read of the room takes at most
    expected = [f"conn-{index:03d}=" for index in range(300)]
    for connection_id in expected:
        saved(store, connection_id, rooms=("big",))
    saved(store, "elsewhere=", rooms=("small",))

    pages = members(store, "big")

    assert len(pages) >= 3
    assert ids(pages) == expected


# --- sessions ---------------------------------------------------------------------------------


def test_a_session_saved_with_the_connection_loads_with_it(store: Store) -> None:
    saved(store, "ada=", nick="Ada", cursor=[3, 14], user={"id": 7})

    loaded = loop.run(store.load("ada="))

    assert loaded is not None and loaded.session == {"nick": "Ada", "cursor": [3, 14], "user": {"id": 7}}


def test_update_writes_the_record_over_the_stored_one_and_leaves_its_rooms(store: Store) -> None:
    ada = saved(store, "ada=", rooms=("room-1",), nick="Ada")
    ada.session = {"nick": "Ada L"}
    ada.pending = []

    assert loop.run(store.update(ada)) is True

    loaded = loop.run(store.load("ada="))
    assert loaded is not None and loaded.session == {"nick": "Ada L"}
    assert loop.run(store.rooms("ada=")) == {"room-1"}
    assert ids(members(store, "room-1")) == ["ada="]


@pytest.mark.parametrize("how", ["popped", "never saved", "expired"])
def test_update_of_a_connection_that_is_not_there_returns_false_and_brings_nothing_back(store: Store, how: str) -> None:
    record = connection("gone=", expires_in=-1 if how == "expired" else 7260)
    if how != "never saved":
        loop.run(store.save(record))
    if how == "popped":
        loop.run(store.pop("gone="))
    record.session = {"late": True}

    assert loop.run(store.update(record)) is False
    assert loop.run(store.load("gone=")) is None


# --- outages -----------------------------------------------------------------------------------

OPERATIONS: dict[str, Callable[[Store], Any]] = {
    "join": lambda store: store.join(connection().member(), "room-1"),
    "leave": lambda store: store.leave(connection().member(), "room-1"),
    "rooms": lambda store: store.rooms("L0SM9cOFvHcCIhw="),
    "members": lambda store: members_of(store, "room-1"),
    "update": lambda store: store.update(connection()),
}


async def members_of(store: Store, room: str) -> list[list[Member]]:
    return [page async for page in store.members(room)]


@pytest.mark.parametrize("operation", OPERATIONS)
def test_an_unreachable_store_raises_store_unavailable_naming_the_store_for_rooms_and_sessions(
    unreachable_store: Store, operation: str
) -> None:
    with pytest.raises(StoreUnavailable) as error:
        loop.run(OPERATIONS[operation](unreachable_store))

    assert str(error.value).startswith(f"{unreachable_store.name} store")
