"""What the PostgreSQL store does beyond the contract: its table, its statements, its pool, its errors.

Against the server on 127.0.0.1:5432 (tests/support/services.py). Statements are counted by wrapping
asyncpg's query methods on its Connection class, which the pool's connections call through to.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import asyncpg  # type: ignore[import-untyped]
import pytest

from asgi_lambda.protocols import loop
from asgi_lambda.stores import StoreUnavailable
from asgi_lambda.stores.postgresql import MAX_CONNECTIONS, PostgresStore
from tests.support.net import closed_port
from tests.support.services import POSTGRES_DSN
from tests.support.websocket import connection


@pytest.fixture
def statements(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every statement sent from now on, by any asyncpg connection, reset queries included."""
    sent: list[str] = []
    for method in ("execute", "executemany", "fetch", "fetchrow", "fetchval"):
        original = getattr(asyncpg.Connection, method)

        def record(self: Any, query: str, *args: Any, _original: Any = original, **kwargs: Any) -> Any:
            sent.append(" ".join(query.split()))
            return _original(self, query, *args, **kwargs)

        monkeypatch.setattr(asyncpg.Connection, method, record)
    return sent


def first_words(statements: list[str]) -> list[str]:
    return [" ".join(statement.split()[:2]).upper() for statement in statements]


@pytest.fixture
def second_store(store_postgresql: PostgresStore) -> Iterator[PostgresStore]:
    """Another store on the same table, as another execution environment would have."""
    store = PostgresStore(POSTGRES_DSN, table=store_postgresql.table)
    yield store
    loop.run(store.close())


def test_the_table_is_created_on_first_use_only(store_postgresql: PostgresStore, statements: list[str]) -> None:
    loop.run(store_postgresql.save(connection()))
    loop.run(store_postgresql.load("L0SM9cOFvHcCIhw="))
    loop.run(store_postgresql.scan())
    loop.run(store_postgresql.pop("L0SM9cOFvHcCIhw="))
    loop.run(store_postgresql.save(connection()))

    creates = [statement for statement in statements if statement.upper().startswith("CREATE")]
    assert len(creates) == 1 and "CREATE TABLE IF NOT EXISTS" in creates[0] and "CREATE INDEX IF NOT EXISTS" in creates[0]
    assert statements[0] == creates[0]


def test_each_operation_is_one_statement(store_postgresql: PostgresStore, statements: list[str]) -> None:
    loop.run(store_postgresql.load("warm-up="))  # first use: pool and table
    statements.clear()

    loop.run(store_postgresql.save(connection()))
    loop.run(store_postgresql.load("L0SM9cOFvHcCIhw="))
    loop.run(store_postgresql.pop("L0SM9cOFvHcCIhw="))
    loop.run(store_postgresql.scan())

    # No reset query on release and no SELECT before the DELETE: one round trip each.
    # scan selects the key with each record, to name one that is not a record (issue #23).
    assert first_words(statements) == ["INSERT INTO", "SELECT DATA", "DELETE FROM", "SELECT CONNECTION_ID,"]
    assert "ON CONFLICT" in statements[0] and "RETURNING data" in statements[2]


def test_overlapping_first_calls_make_one_pool_and_create_the_table_once(store_postgresql: PostgresStore, statements: list[str]) -> None:
    async def overlapping() -> None:
        await asyncio.gather(*(store_postgresql.load(f"conn-{index}=") for index in range(8)))

    loop.run(overlapping())

    assert sum(statement.upper().startswith("CREATE") for statement in statements) == 1


def test_the_pool_and_its_connection_are_reused_across_operations(store_postgresql: PostgresStore) -> None:
    loop.run(store_postgresql.save(connection()))
    pool = store_postgresql._pool

    for _ in range(5):
        loop.run(store_postgresql.load("L0SM9cOFvHcCIhw="))
        loop.run(store_postgresql.scan())

    assert store_postgresql._pool is pool
    assert pool.get_size() == 1  # one event at a time: one connection opened, kept, reused


def test_overlapping_operations_hold_at_most_the_pool_maximum(store_postgresql: PostgresStore) -> None:
    async def overlapping() -> None:
        await asyncio.gather(*(store_postgresql.load(f"conn-{index}=") for index in range(20)))

    loop.run(overlapping())

    assert store_postgresql._pool.get_max_size() == MAX_CONNECTIONS == 4
    assert 1 <= store_postgresql._pool.get_size() <= MAX_CONNECTIONS


def test_a_statement_whose_connection_the_server_closes_is_sent_once_more(store_postgresql: PostgresStore) -> None:
    saved = connection()
    loop.run(store_postgresql.save(saved))
    pid = loop.run(store_postgresql._pool.fetchval("SELECT pg_backend_pid()"))  # the pool's one connection

    async def terminate_then_load() -> object:
        admin = await asyncpg.connect(POSTGRES_DSN)
        try:
            # As a restart, failover or idle timeout would: the server ends the session just as
            # the next statement goes out on it.
            assert await admin.fetchval("SELECT pg_terminate_backend($1)", pid)
            return await store_postgresql.load(saved.connection_id)
        finally:
            await admin.close()

    assert loop.run(terminate_then_load()) == saved


def test_a_second_store_on_the_same_table_shares_its_records(store_postgresql: PostgresStore, second_store: PostgresStore) -> None:
    saved = connection()
    loop.run(store_postgresql.save(saved))

    assert loop.run(second_store.load(saved.connection_id)) == saved  # its CREATE ... IF NOT EXISTS is a no-op


def test_stores_creating_the_same_new_table_at_once_all_work(store_postgresql: PostgresStore) -> None:
    # As environments scaling out together do: CREATE TABLE IF NOT EXISTS is not atomic, and the
    # losers of the race get a duplicate-key error the store must absorb.
    others = [PostgresStore(POSTGRES_DSN, table=store_postgresql.table) for _ in range(5)]

    async def at_once() -> list[object]:
        return await asyncio.gather(*(store.load("L0SM9cOFvHcCIhw=") for store in [store_postgresql, *others]))

    try:
        assert loop.run(at_once()) == [None] * 6
    finally:
        for store in others:
            loop.run(store.close())


@pytest.mark.parametrize(
    "table",
    ["", "1connections", "my-table", "public.connections", 'conn"; DROP TABLE users; --', "with space", "x" * 53],
)
def test_an_invalid_table_name_is_rejected_with_the_rule(table: str) -> None:
    with pytest.raises(ValueError, match=r"postgresql store: invalid table name .*letters, digits and underscores"):
        PostgresStore(POSTGRES_DSN, table=table)


def test_an_unreachable_server_fails_fast_naming_the_dsn_and_the_cause() -> None:
    port = closed_port()
    store = PostgresStore(f"postgresql://postgres@127.0.0.1:{port}/test")

    with pytest.raises(StoreUnavailable) as error:
        loop.run(store.load("L0SM9cOFvHcCIhw="))

    assert str(error.value).startswith(f"postgresql store at postgresql://postgres@127.0.0.1:{port}/test: connection refused (")
    loop.run(store.close())


@pytest.mark.parametrize(
    ("dsn", "shown"),
    [
        ("postgresql://postgres:s3cret@127.0.0.1:{port}/test", "postgresql://postgres:***@127.0.0.1:{port}/test"),
        ("postgresql://postgres@127.0.0.1:{port}/test?password=s3cret", "postgresql://postgres@127.0.0.1:{port}/test?password=***"),
    ],
)
def test_the_dsn_password_is_masked_in_errors(dsn: str, shown: str) -> None:
    port = closed_port()
    store = PostgresStore(dsn.format(port=port))

    with pytest.raises(StoreUnavailable) as error:
        loop.run(store.save(connection()))

    assert "s3cret" not in str(error.value)
    assert str(error.value).startswith(f"postgresql store at {shown.format(port=port)}: ")
    loop.run(store.close())
