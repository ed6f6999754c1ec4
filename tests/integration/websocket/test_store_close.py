"""Closing a store, as SnapStart does before the snapshot, leaves it usable: each of the six backends
opens what it needs again on its next call."""

from __future__ import annotations

from asgi_lambda.protocols import loop
from asgi_lambda.stores import Store
from tests.support.websocket import connection


def test_a_closed_store_serves_every_call_after_it(store: Store) -> None:
    first, second = connection("first="), connection("second=")
    loop.run(store.save(first))
    loop.run(store.close())

    loaded = loop.run(store.load("first="))
    loop.run(store.close())
    loop.run(store.save(second))
    loop.run(store.close())
    scanned = sorted(record.connection_id for record in loop.run(store.scan()))
    loop.run(store.close())
    popped = loop.run(store.pop("first="))

    assert (loaded, scanned, popped) == (first, ["first=", "second="], first)
