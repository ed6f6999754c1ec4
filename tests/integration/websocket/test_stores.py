"""The store contract, the same for all six backends."""

from __future__ import annotations

import pytest

from asgi_lambda.protocols import loop
from asgi_lambda.stores import Store, StoreUnavailable
from tests.support.websocket import connection


def test_a_saved_connection_loads_as_it_was_saved(store: Store) -> None:
    saved = connection(client=["203.0.113.9", 0])
    saved.pending = [{"text": "héllo ✓"}, {"bytes": "AAEC/w=="}]

    loop.run(store.save(saved))

    assert loop.run(store.load(saved.connection_id)) == saved


def test_loading_an_unknown_connection_gives_none(store: Store) -> None:
    assert loop.run(store.load("never-saved=")) is None


def test_saving_again_replaces_the_record(store: Store) -> None:
    loop.run(store.save(connection(subprotocol="chat.v1")))
    loop.run(store.save(connection(subprotocol="chat.v2")))

    loaded = loop.run(store.load("L0SM9cOFvHcCIhw="))
    assert loaded is not None and loaded.scope["subprotocol"] == "chat.v2"


def test_pop_returns_the_record_and_removes_it(store: Store) -> None:
    saved = connection()
    loop.run(store.save(saved))

    assert loop.run(store.pop(saved.connection_id)) == saved
    assert loop.run(store.load(saved.connection_id)) is None
    assert loop.run(store.pop(saved.connection_id)) is None


def test_an_expired_record_is_never_returned(store: Store) -> None:
    expired = connection("expired=", expires_in=-1)
    loop.run(store.save(expired))

    assert loop.run(store.load("expired=")) is None
    assert loop.run(store.scan()) == []
    assert loop.run(store.pop("expired=")) is None


def test_scan_returns_every_live_connection_and_no_expired_one(store: Store) -> None:
    live = [connection(f"conn-{index:03d}=") for index in range(300)]
    for record in live:
        loop.run(store.save(record))
    loop.run(store.save(connection("expired=", expires_in=-1)))

    scanned = loop.run(store.scan())

    assert sorted(record.connection_id for record in scanned) == [record.connection_id for record in live]


def test_an_unreachable_store_raises_store_unavailable_naming_the_store(unreachable_store: Store) -> None:
    with pytest.raises(StoreUnavailable) as error:
        loop.run(unreachable_store.save(connection()))

    assert str(error.value).startswith(f"{unreachable_store.name} store")
