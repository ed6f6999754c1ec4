"""What the Redis store does beyond the contract: its keys, their expiry, its commands, its client, its errors.

Against the server on 127.0.0.1:6379 (tests/support/services.py). Commands are counted by wrapping
redis-py's Redis.execute_command, which every command method goes through.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest
import redis.asyncio

from asgi_lambda.protocols import loop
from asgi_lambda.stores import StoreUnavailable
from asgi_lambda.stores.redis_store import RedisStore
from tests.support.net import closed_port
from tests.support.services import REDIS_HINT, REDIS_PORT, REDIS_URL, delete_keys, require_server, unique_prefix
from tests.support.websocket import connection


@pytest.fixture
def commands(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The name of every command any redis.asyncio client sends from now on."""
    sent: list[str] = []
    original = redis.asyncio.Redis.execute_command

    async def record(self: Any, *args: Any, **options: Any) -> Any:
        sent.append(str(args[0]).upper())
        return await original(self, *args, **options)  # type: ignore[no-untyped-call]

    monkeypatch.setattr(redis.asyncio.Redis, "execute_command", record)
    return sent


def admin(command: str, *args: object) -> Any:
    """One command on a client of the test's own, not the store's."""

    async def run() -> Any:
        client = redis.asyncio.Redis.from_url(REDIS_URL)
        try:
            return await client.execute_command(command, *args)  # type: ignore[no-untyped-call]
        finally:
            await client.aclose()

    return loop.run(run())


def client_id(store: RedisStore) -> int:
    """The server's id for the connection the store's client is using."""
    client = store._client
    assert client is not None

    async def ask() -> int:
        return await client.client_id()

    return loop.run(ask())


@pytest.fixture
def glob_store() -> Iterator[RedisStore]:
    """A store whose prefix holds glob characters, beside a key that prefix would match as a pattern."""
    require_server("Redis", REDIS_PORT, REDIS_HINT)
    base = unique_prefix()
    store = RedisStore(REDIS_URL, prefix=base + "[x]*?:")
    other = base + "xab:"  # matched by the pattern base[x]*?:* unless the prefix is escaped
    admin("SET", other + "other=", connection("other=").to_json(), "EX", 60)
    yield store
    loop.run(store.close())
    delete_keys(store.prefix)
    delete_keys(other)


def test_pop_is_one_command_that_takes_the_connections_rooms_with_it(store_redis: RedisStore, commands: list[str]) -> None:
    record = connection()
    record.rooms = ["room-1", "room-2"]
    loop.run(store_redis.save(record))
    loop.run(store_redis.pop("L0SM9cOFvHcCIhw="))  # the script is loaded into the server once
    loop.run(store_redis.save(record))
    commands.clear()

    assert loop.run(store_redis.pop("L0SM9cOFvHcCIhw=")) is not None
    assert commands == ["EVALSHA"]


def test_save_and_load_are_one_command_each(store_redis: RedisStore, commands: list[str]) -> None:
    loop.run(store_redis.save(connection()))
    loop.run(store_redis.load("L0SM9cOFvHcCIhw="))

    assert commands == ["SET", "GET"]


def test_scan_reads_a_page_of_keys_per_mget_not_a_get_per_key(store_redis: RedisStore, commands: list[str]) -> None:
    for index in range(300):
        loop.run(store_redis.save(connection(f"conn-{index:03d}=")))
    commands.clear()

    assert len(loop.run(store_redis.scan())) == 300
    assert set(commands) == {"SCAN", "MGET"} and commands.count("MGET") <= commands.count("SCAN")


def test_a_record_expires_in_redis_when_it_expires(store_redis: RedisStore) -> None:
    saved = connection(expires_in=7260)
    loop.run(store_redis.save(saved))

    ttl = admin("TTL", store_redis.prefix + saved.connection_id)
    assert abs(ttl - (saved.expires_at - time.time())) <= 2


def test_saving_an_expired_record_replaces_a_live_one(store_redis: RedisStore) -> None:
    loop.run(store_redis.save(connection()))
    loop.run(store_redis.save(connection(expires_in=-5)))

    assert admin("TTL", store_redis.prefix + "L0SM9cOFvHcCIhw=") in (0, 1, -2)  # gone within a second, or already
    assert loop.run(store_redis.load("L0SM9cOFvHcCIhw=")) is None


def test_the_client_and_its_connection_are_reused_across_operations(store_redis: RedisStore) -> None:
    loop.run(store_redis.save(connection()))
    client = store_redis._client
    server_side_id = client_id(store_redis)

    for _ in range(5):
        loop.run(store_redis.load("L0SM9cOFvHcCIhw="))
        loop.run(store_redis.scan())

    assert store_redis._client is client
    assert client_id(store_redis) == server_side_id  # the same TCP connection throughout


def test_a_connection_the_server_dropped_while_idle_is_replaced(store_redis: RedisStore) -> None:
    saved = connection()
    loop.run(store_redis.save(saved))
    admin("CLIENT", "KILL", "ID", client_id(store_redis))  # as a server restart would

    assert loop.run(store_redis.load(saved.connection_id)) == saved


def test_scan_takes_the_prefix_literally_even_with_glob_characters(glob_store: RedisStore) -> None:
    loop.run(glob_store.save(connection("mine=")))

    assert [record.connection_id for record in loop.run(glob_store.scan())] == ["mine="]


def test_an_unreachable_server_fails_fast_naming_the_url_and_the_cause() -> None:
    port = closed_port()
    store = RedisStore(f"redis://127.0.0.1:{port}/0")
    started = time.monotonic()

    with pytest.raises(StoreUnavailable) as error:
        loop.run(store.load("L0SM9cOFvHcCIhw="))

    assert time.monotonic() - started < 1  # its one retry is immediate: no backoff
    assert str(error.value).startswith(f"redis store at redis://127.0.0.1:{port}/0: connection refused (")
    loop.run(store.close())


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("redis://:s3cret@127.0.0.1:{port}/0", "redis://:***@127.0.0.1:{port}/0"),
        ("redis://default:s3cret@127.0.0.1:{port}/0", "redis://default:***@127.0.0.1:{port}/0"),
        ("redis://127.0.0.1:{port}/0?password=s3cret", "redis://127.0.0.1:{port}/0?password=***"),
    ],
)
def test_the_url_password_is_masked_in_errors(url: str, shown: str) -> None:
    port = closed_port()
    store = RedisStore(url.format(port=port))

    with pytest.raises(StoreUnavailable) as error:
        loop.run(store.save(connection()))

    assert "s3cret" not in str(error.value)
    assert str(error.value).startswith(f"redis store at {shown.format(port=port)}: ")
    loop.run(store.close())
