"""Issue #23, finding 8: one corrupt record no longer breaks every broadcast.

A record that is not JSON, or lacks a field, made `scan` raise (JSONDecodeError on Redis, and
likewise elsewhere), so every broadcast failed while it sat in the store. Each store here gets a
good record and corrupt ones written straight into its backend, as another program (or a cut-short
write) would leave them: `scan` and `load` skip them, each is logged once with its key, and `pop`
removes it. Servers: PostgreSQL and Redis on 127.0.0.1, DynamoDB and S3 from moto on 127.0.0.1.
"""

from __future__ import annotations

import logging
import os
import socket
import sqlite3
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from asgi_lambda.protocols import loop
from asgi_lambda.stores import Store
from asgi_lambda.stores.record import ConnectionRecord

# Each test's keys are new: a key is logged once per process.
CAUSES = {
    "not-json": ("{not json", "Expecting property name enclosed in double quotes: line 1 column 2 (char 1)"),
    "no-endpoint": ('{"connection_id":"x=","scope":{},"expires_at":9999999999}', "endpoint is missing"),
    "a-list": ("[1, 2]", "a JSON list, not an object"),
}


def good_record() -> ConnectionRecord:
    return ConnectionRecord("good=", endpoint="http://127.0.0.1:1/prod", scope={}, expires_at=int(time.time()) + 600)


def require(port: int, service: str) -> None:
    """Fail under CI, skip elsewhere, unless something listens on 127.0.0.1:<port>."""
    try:
        socket.create_connection(("127.0.0.1", port), timeout=1).close()
    except OSError as exc:
        reason = f"{service} is not reachable at 127.0.0.1:{port} ({exc})"
        if os.environ.get("CI"):
            pytest.fail(reason)
        pytest.skip(reason)


# --- each store, and how to write a raw value into its backend ------------------------------------


def memory_store(tmp_path: Path) -> Iterator[tuple[Store, Callable[[str, str], None]]]:
    from asgi_lambda.stores.memory import MemoryStore

    store = MemoryStore()
    yield store, store.records.__setitem__


def sqlite_store(tmp_path: Path) -> Iterator[tuple[Store, Callable[[str, str], None]]]:
    from asgi_lambda.stores.sqlite import SqliteStore

    path = tmp_path / "connections.sqlite3"
    store = SqliteStore(str(path))
    loop.run(store.scan())  # the table

    def write(key: str, data: str) -> None:
        with sqlite3.connect(path) as db:
            db.execute("INSERT INTO asgi_lambda_connections VALUES (?, ?, ?)", (key, data, int(time.time()) + 600))

    yield store, write
    loop.run(store.close())


def redis_store(tmp_path: Path) -> Iterator[tuple[Store, Callable[[str, str], None]]]:
    require(6379, "Redis")
    import redis

    from asgi_lambda.stores.redis_store import RedisStore

    prefix = f"asgi-lambda-test:{uuid.uuid4().hex[:8]}:"
    raw = redis.Redis.from_url("redis://127.0.0.1:6379/0")
    store = RedisStore("redis://127.0.0.1:6379/0", prefix=prefix)
    yield store, lambda key, data: raw.set(prefix + key, data, ex=600)
    loop.run(store.close())
    for key in raw.scan_iter(match=prefix + "*"):
        raw.delete(key)
    raw.close()


def postgresql_store(tmp_path: Path) -> Iterator[tuple[Store, Callable[[str, str], None]]]:
    require(5432, "PostgreSQL")
    import asyncpg  # type: ignore[import-untyped]

    from asgi_lambda.stores.postgresql import PostgresStore

    dsn = "postgresql://postgres@127.0.0.1:5432/test"
    table = f"asgi_lambda_test_{uuid.uuid4().hex[:8]}"
    store = PostgresStore(dsn, table=table)
    loop.run(store.scan())  # the table

    async def execute(sql: str, *arguments: object) -> None:
        connection = await asyncpg.connect(dsn, timeout=5)
        try:
            await connection.execute(sql, *arguments)
        finally:
            await connection.close()

    yield store, lambda key, data: loop.run(execute(f'INSERT INTO "{table}" VALUES ($1, $2, $3)', key, data, int(time.time()) + 600))
    loop.run(store.close())
    loop.run(execute(f'DROP TABLE IF EXISTS "{table}_rooms", "{table}"'))  # its rooms' table, made with it


MOTO: dict[str, Any] = {}


def moto(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> str:
    """A moto server on 127.0.0.1 for this module, and an environment that can reach nothing else."""
    for name in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_DYNAMODB", "AWS_ENDPOINT_URL_S3", "AWS_REGION"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    if "url" not in MOTO:
        from moto.server import ThreadedMotoServer

        logging.getLogger("werkzeug").setLevel(logging.WARNING)
        server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
        server.start()
        host, port = server.get_host_and_port()
        MOTO.update(server=server, url=f"http://{host}:{port}")
    url: str = MOTO["url"]
    return url


@pytest.fixture(scope="module", autouse=True)
def stop_moto() -> Iterator[None]:
    yield
    if "server" in MOTO:
        MOTO.pop("server").stop()
        MOTO.clear()


def aws(service: str, url: str) -> Any:
    import boto3

    return boto3.session.Session().client(
        service, region_name="us-east-1", endpoint_url=url, aws_access_key_id="testing", aws_secret_access_key="testing"
    )


def dynamodb_store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Store, Callable[[str, str], None]]]:
    from asgi_lambda.stores.dynamodb import DynamoDBStore

    url = moto(monkeypatch, tmp_path)
    client = aws("dynamodb", url)
    table = f"connections-{uuid.uuid4().hex[:8]}"
    client.create_table(
        TableName=table,
        AttributeDefinitions=[{"AttributeName": "connection_id", "AttributeType": "S"}],
        KeySchema=[{"AttributeName": "connection_id", "KeyType": "HASH"}],
        BillingMode="PAY_PER_REQUEST",
    )
    store = DynamoDBStore(table, region="us-east-1", endpoint_url=url)

    def write(key: str, data: str) -> None:
        item = {"connection_id": {"S": key}, "data": {"S": data}, "expires_at": {"N": str(int(time.time()) + 600)}}
        client.put_item(TableName=table, Item=item)

    yield store, write
    loop.run(store.close())
    client.delete_table(TableName=table)


def s3_store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Store, Callable[[str, str], None]]]:
    from asgi_lambda.stores.s3 import S3Store

    url = moto(monkeypatch, tmp_path)
    client = aws("s3", url)
    bucket = f"asgi-lambda-test-{uuid.uuid4().hex[:8]}"
    client.create_bucket(Bucket=bucket)
    store = S3Store(bucket, region="us-east-1", endpoint_url=url)
    yield store, lambda key, data: client.put_object(Bucket=bucket, Key=store.prefix + key, Body=data.encode())
    loop.run(store.close())
    for item in client.list_objects_v2(Bucket=bucket).get("Contents", ()):
        client.delete_object(Bucket=bucket, Key=item["Key"])
    client.delete_bucket(Bucket=bucket)


STORES: dict[str, Callable[..., Iterator[tuple[Store, Callable[[str, str], None]]]]] = {
    "memory": memory_store,
    "sqlite": sqlite_store,
    "redis": redis_store,
    "postgresql": postgresql_store,
    "dynamodb": dynamodb_store,
    "s3": s3_store,
}


@pytest.fixture(params=list(STORES))
def backend(
    request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[tuple[str, Store, Callable[[str, str], None]]]:
    make = STORES[request.param]
    made = make(tmp_path, monkeypatch) if request.param in ("dynamodb", "s3") else make(tmp_path)
    store, write = next(made)
    yield request.param, store, write
    next(made, None)


def stored_key(name: str, store: Store, connection_id: str) -> str:
    """How the store names a record in its log line: its key in the backend."""
    if name == "redis" or name == "s3":
        return f"{store.prefix}{connection_id}"  # type: ignore[attr-defined]
    return connection_id


def test_a_corrupt_record_is_skipped_logged_once_with_its_key_and_popped(
    backend: tuple[str, Store, Callable[[str, str], None]], caplog: pytest.LogCaptureFixture
) -> None:
    name, store, write = backend
    corrupt = {f"{kind}-{uuid.uuid4().hex[:6]}=": kind for kind in CAUSES}
    loop.run(store.save(good_record()))
    for key, kind in corrupt.items():
        write(key, CAUSES[kind][0])

    with caplog.at_level(logging.ERROR, logger="asgi_lambda.websocket"):
        first = loop.run(store.scan())
        second = loop.run(store.scan())
        loaded = [loop.run(store.load(key)) for key in corrupt]

    assert [record.connection_id for record in first] == ["good="]
    assert [record.connection_id for record in second] == ["good="]
    assert loaded == [None, None, None]
    assert sorted(caplog.messages) == sorted(
        f"Connection record {stored_key(name, store, key)!r} skipped: not a record ({CAUSES[kind][1]}); its $disconnect will remove it"
        for key, kind in corrupt.items()
    )
    assert [loop.run(store.pop(key)) for key in corrupt] == [None, None, None]
    assert [record.connection_id for record in loop.run(store.scan())] == ["good="]
