"""The WebSocket store configured in code: Mangum's ws_config and dsn forms, and their faults."""

from __future__ import annotations

import importlib.util
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from asgi_lambda import ConfigError
from asgi_lambda.docs import fix
from asgi_lambda.stores.dynamodb import DynamoDBStore
from asgi_lambda.stores.memory import MemoryStore
from asgi_lambda.stores.postgresql import PostgresStore
from asgi_lambda.stores.redis_store import RedisStore
from asgi_lambda.stores.s3 import S3Store
from asgi_lambda.stores.sqlite import SqliteStore
from asgi_lambda.websocket.hub import install_default
from tests.support import adapter
from tests.support.aws import aws_client, fake_aws_environment, moto_url
from tests.support.events import load_event
from tests.support.management_api import ManagementAPIStub
from tests.support.paths import ROOT


async def app(scope: Any, receive: Any, send: Any) -> None:
    pass


@pytest.fixture(autouse=True)
def fresh_runtime(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    for name in ("WS_BACKEND", "WS_PATH", "WS_TTL_SECONDS", "WS_ENDPOINT_URL"):
        monkeypatch.delenv(name, raising=False)
    install_default(None)
    yield
    install_default(None)


def hub_of(**kwargs: Any) -> Any:
    hub = adapter(app, **kwargs).hub
    assert hub is not None
    return hub


def store_of(**kwargs: Any) -> Any:
    return hub_of(**kwargs).store


def test_mangums_dynamodb_params() -> None:
    store = store_of(
        ws_config={
            "backend": "dynamodb",
            "params": {"table_name": "connections", "region_name": "eu-west-1", "endpoint_url": "http://127.0.0.1:8000"},
        }
    )

    assert isinstance(store, DynamoDBStore)
    assert (store.table, store.region, store.endpoint_url) == ("connections", "eu-west-1", "http://127.0.0.1:8000")


def test_mangums_s3_params() -> None:
    store = store_of(ws_config={"backend": "s3", "params": {"bucket": "connections"}})

    assert isinstance(store, S3Store) and store.bucket == "connections"


def test_mangums_postgresql_uri() -> None:
    store = store_of(ws_config={"backend": "postgresql", "params": {"uri": "postgresql://app@db:5432/chat"}})

    assert isinstance(store, PostgresStore) and store.dsn == "postgresql://app@db:5432/chat"


def test_mangums_postgresql_parts_build_the_dsn() -> None:
    params = {"database": "chat", "user": "app", "password": "p@ss word", "host": "db", "port": 6432}
    store = store_of(ws_config={"backend": "postgresql", "params": params})

    assert store.dsn == "postgresql://app:p%40ss%20word@db:6432/chat"


def test_mangums_redis_parts_build_the_url() -> None:
    store = store_of(ws_config={"backend": "redis", "params": {"host": "cache", "port": 6380, "password": "secret"}})

    assert isinstance(store, RedisStore) and store.url == "redis://:secret@cache:6380/0"


def test_sqlite3_is_the_sqlite_store(tmp_path: Path) -> None:
    store = store_of(ws_config={"backend": "sqlite3", "params": {"file_path": str(tmp_path / "c.db")}})

    assert isinstance(store, SqliteStore) and store.path == str(tmp_path / "c.db")


def test_our_params_ttl_and_management_endpoint() -> None:
    hub = hub_of(ws_config={"backend": "memory", "params": {"ttl_seconds": 60, "management_endpoint_url": "http://127.0.0.1:9/prod"}})

    assert (hub.settings.ttl_seconds, hub.settings.endpoint_url) == (60, "http://127.0.0.1:9/prod")


@pytest.mark.parametrize(
    ("dsn", "store_type", "attributes"),
    [
        (
            "dynamodb://connections?region=eu-west-1&endpoint_url=http://127.0.0.1:8000",
            DynamoDBStore,
            {"table": "connections", "region": "eu-west-1", "endpoint_url": "http://127.0.0.1:8000"},
        ),
        ("s3://bucket/chat/connections/", S3Store, {"bucket": "bucket", "prefix": "chat/connections/"}),
        ("postgresql://app@db/chat", PostgresStore, {"dsn": "postgresql://app@db/chat"}),
        ("postgres://app@db/chat", PostgresStore, {"dsn": "postgres://app@db/chat"}),
        ("redis://cache:6379/0", RedisStore, {"url": "redis://cache:6379/0"}),
        ("sqlite:///tmp/connections.db", SqliteStore, {"path": "/tmp/connections.db"}),
        ("memory://", MemoryStore, {}),
    ],
)
def test_the_dsn_form_names_the_store(dsn: str, store_type: type, attributes: dict[str, str]) -> None:
    store = store_of(dsn=dsn)

    assert isinstance(store, store_type)
    assert {name: getattr(store, name) for name in attributes} == attributes


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        (
            {"ws_config": {"backend": "mongodb"}},
            "ws_config['backend']='mongodb': expected one of dynamodb, s3, postgresql, redis, sqlite, memory (or postgres, sqlite3)."
            + fix("invalid-value"),
        ),
        (
            {"ws_config": {"backend": "dynamodb", "params": {"table": "x"}}},
            "ws_config params for dynamodb: unknown key 'table'; accepted: table_name, region_name, endpoint_url, key, rooms_table_name, "
            "ttl_seconds, management_endpoint_url, redact, session_max_bytes, fanout_queue_url, fanout_threshold, fanout_page."
            + fix("ws-config"),
        ),
        (
            {"ws_config": {"backend": "s3", "params": {}}},
            "ws_config params for s3: 'bucket' is required; accepted: bucket, prefix, rooms_prefix, region_name, endpoint_url, "
            "ttl_seconds, management_endpoint_url, redact, session_max_bytes, fanout_queue_url, fanout_threshold, fanout_page."
            + fix("ws-config"),
        ),
        (
            {"ws_config": {"backend": "postgresql", "params": {"host": "db"}}},
            "ws_config params for postgresql: give uri or the parts (database, user, password, host, port); accepted: uri, dsn, "
            "database, user, password, host, port, ttl_seconds, management_endpoint_url, redact, session_max_bytes, fanout_queue_url, "
            "fanout_threshold, fanout_page." + fix("ws-config"),
        ),
        (
            {"ws_config": {"store": "redis"}},
            "ws_config={'store': 'redis'}: expected {'backend': NAME, 'params': {...}}." + fix("ws-config"),
        ),
        (
            {"dsn": "mongodb://x/y"},
            "dsn='mongodb://x/y': expected a URI such as dynamodb://table?region=eu-west-1, s3://bucket/prefix/, "
            "postgresql://user@host/db, redis://host:6379/0, sqlite://connections.db or memory://." + fix("ws-config"),
        ),
        (
            {"dsn": "dynamodb://t?regoin=x"},
            "dsn for dynamodb: unknown query parameter 'regoin'; accepted: region, endpoint_url, key, rooms_table, "
            "ttl_seconds, management_endpoint_url, redact, session_max_bytes, fanout_queue_url, fanout_threshold, fanout_page."
            + fix("ws-config"),
        ),
        (
            {"ws_config": {"backend": "memory"}, "dsn": "memory://"},
            "ws_config and dsn both configure the WebSocket store: give one of them." + fix("conflicting-settings"),
        ),
    ],
    ids=["unknown-backend", "unknown-key", "missing-key", "missing-parts", "wrong-shape", "unknown-scheme", "unknown-query", "both"],
)
def test_a_fault_in_the_code_configuration_is_named_at_construction(kwargs: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigError) as error:
        adapter(app, **kwargs)

    assert str(error.value) == message


def test_code_wins_over_ws_variables_which_fill_in_the_rest(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WS_BACKEND", "redis")
    monkeypatch.setenv("WS_REDIS_URL", "redis://elsewhere:6379/0")
    monkeypatch.setenv("WS_PATH", "/chat")

    hub = hub_of(ws_config={"backend": "memory"})

    assert isinstance(hub.store, MemoryStore)
    assert hub.settings.path == "/chat"


# --- Mangum's examples, unchanged but for the import line -----------------------------


def load_example(name: str) -> Any:
    spec = importlib.util.spec_from_file_location(f"mangum_example_{name}", ROOT / "examples" / "mangum" / f"{name}.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def test_mangums_http_hello_world_runs_unchanged() -> None:
    response = load_example("hello_http").handler(load_event("apigw_rest_get"), None)

    assert response == {
        "statusCode": 200,
        "headers": {"content-type": "text/plain; charset=utf-8"},
        "multiValueHeaders": {},
        "body": "Hello, world!",
        "isBase64Encoded": False,
    }


def test_mangums_websocket_example_delivers_what_it_sent_during_connect_once_open(
    request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch, tmp_path_factory: pytest.TempPathFactory
) -> None:
    # The example names bucket "connections" on S3; moto serves it, as AWS_ENDPOINT_URL_S3 tells boto3.
    fake_aws_environment(monkeypatch, tmp_path_factory)
    endpoint = moto_url(request)
    monkeypatch.setenv("AWS_ENDPOINT_URL_S3", endpoint)
    aws_client("s3", endpoint).create_bucket(Bucket="connections")
    stub = ManagementAPIStub()
    monkeypatch.setenv("WS_ENDPOINT_URL", stub.endpoint)
    try:
        handler = load_example("hello_websocket").handler
        connect = handler(load_event("ws_connect"), None)
        posts_while_connecting = stub.posts()
        message = handler(load_event("ws_message"), None)
    finally:
        stub.close()
        client = aws_client("s3", endpoint)
        for item in client.list_objects_v2(Bucket="connections").get("Contents", []):
            client.delete_object(Bucket="connections", Key=item["Key"])
        client.delete_bucket(Bucket="connections")

    assert (connect, posts_while_connecting, message) == ({"statusCode": 200}, [], {"statusCode": 200})
    # On the connection's next event: the text, the bytes, then the close.
    assert stub.posts() == [("L0SM9cOFvHcCIhw=", b"Hello world!"), ("L0SM9cOFvHcCIhw=", b"Hello world!")]
    assert stub.deletes() == ["L0SM9cOFvHcCIhw="]
