"""DynamoDB and S3 stores against moto in server mode, over HTTP on 127.0.0.1.

Nothing here can reach AWS: every client, the stores' and the fixtures' own, is given the moto
server's endpoint_url (or a closed local port) and fake credentials, and the environment is
cleared of anything that could point boto3 elsewhere (profiles, config files, endpoint variables,
the instance metadata service).

One moto server serves the whole session. tests/integration/websocket/conftest.py imports only the four store fixtures, and
pytest looks a fixture's own fixtures up from the test, so the server is not a fixture: the first
store to need it starts it and registers its stop with the session.
"""

from __future__ import annotations

import logging
import threading
import uuid
from collections.abc import Iterator
from typing import Any

import boto3
import pytest

from asgi_lambda.protocols import loop
from asgi_lambda.stores.dynamodb import DynamoDBStore
from asgi_lambda.stores.s3 import S3Store

from .net import closed_endpoint

REGION = "us-east-1"
CREDENTIALS = {"aws_access_key_id": "testing", "aws_secret_access_key": "testing"}

# Variables that could send boto3 to AWS, or to another endpoint, or make it ask a metadata service.
CLEARED = (
    "AWS_PROFILE",
    "AWS_DEFAULT_PROFILE",
    "AWS_SESSION_TOKEN",
    "AWS_SECURITY_TOKEN",
    "AWS_ROLE_ARN",
    "AWS_WEB_IDENTITY_TOKEN_FILE",
    "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
    "AWS_CONTAINER_CREDENTIALS_FULL_URI",
    "AWS_ENDPOINT_URL",
    "AWS_ENDPOINT_URL_DYNAMODB",
    "AWS_ENDPOINT_URL_S3",
    "AWS_ENDPOINT_URL_SQS",
    "AWS_REGION",
)

_server_lock = threading.Lock()
_server_url: str | None = None


def moto_url(request: pytest.FixtureRequest) -> str:
    """The session's moto server (ThreadedMotoServer on 127.0.0.1, a free port), started on first use."""
    global _server_url
    with _server_lock:
        if _server_url is None:
            from moto.server import ThreadedMotoServer

            werkzeug = logging.getLogger("werkzeug")  # one access-log line per request otherwise
            level = werkzeug.level
            werkzeug.setLevel(logging.WARNING)
            server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
            server.start()
            host, port = server.get_host_and_port()
            _server_url = f"http://{host}:{port}"

            def stop() -> None:
                global _server_url
                server.stop()
                werkzeug.setLevel(level)
                _server_url = None
                for client in _clients.values():
                    client.close()
                _clients.clear()

            request.session.addfinalizer(stop)
        return _server_url


def fake_aws_environment(monkeypatch: pytest.MonkeyPatch, tmp_path_factory: pytest.TempPathFactory) -> None:
    """Fake credentials and a region in the environment, and nothing else boto3 could follow."""
    for name in CLEARED:
        monkeypatch.delenv(name, raising=False)
    missing = tmp_path_factory.getbasetemp() / "no-aws-config"
    monkeypatch.setenv("AWS_CONFIG_FILE", str(missing))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(missing))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", CREDENTIALS["aws_access_key_id"])
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", CREDENTIALS["aws_secret_access_key"])
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)


_clients: dict[tuple[str, str], Any] = {}
_clients_lock = threading.Lock()


def aws_client(service: str, endpoint_url: str) -> Any:
    """A raw boto3 client on the moto server, for fixtures and for reading what a store wrote (made once)."""
    with _clients_lock:
        if (service, endpoint_url) not in _clients:
            _clients[service, endpoint_url] = boto3.session.Session().client(
                service, region_name=REGION, endpoint_url=endpoint_url, **CREDENTIALS
            )
        return _clients[service, endpoint_url]


def requests(store: Any) -> list[tuple[str, dict[str, Any]]]:
    """Every request the store's own boto3 client makes from now on: (operation, parameters)."""
    made: list[tuple[str, dict[str, Any]]] = []

    def record(params: dict[str, Any], model: Any, **kwargs: Any) -> None:
        made.append((model.name, dict(params)))

    store.client.meta.events.register("provide-client-params", record)
    return made


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:12]}"


def create_table(endpoint_url: str) -> str:
    """A new connections table as template.yaml makes it: key connection_id (S), TTL on expires_at."""
    table = unique("connections")
    client = aws_client("dynamodb", endpoint_url)
    client.create_table(
        TableName=table,
        AttributeDefinitions=[{"AttributeName": "connection_id", "AttributeType": "S"}],
        KeySchema=[{"AttributeName": "connection_id", "KeyType": "HASH"}],
        BillingMode="PAY_PER_REQUEST",
    )
    client.update_time_to_live(TableName=table, TimeToLiveSpecification={"AttributeName": "expires_at", "Enabled": True})
    return table


def create_rooms_table(endpoint_url: str) -> str:
    """A new table of room memberships as template.yaml makes it: key room (S) and connection_id (S), TTL on expires_at."""
    table = unique("rooms")
    client = aws_client("dynamodb", endpoint_url)
    client.create_table(
        TableName=table,
        AttributeDefinitions=[{"AttributeName": "room", "AttributeType": "S"}, {"AttributeName": "connection_id", "AttributeType": "S"}],
        KeySchema=[{"AttributeName": "room", "KeyType": "HASH"}, {"AttributeName": "connection_id", "KeyType": "RANGE"}],
        BillingMode="PAY_PER_REQUEST",
    )
    client.update_time_to_live(TableName=table, TimeToLiveSpecification={"AttributeName": "expires_at", "Enabled": True})
    return table


def create_bucket(endpoint_url: str) -> str:
    bucket = unique("asgi-lambda-test")
    aws_client("s3", endpoint_url).create_bucket(Bucket=bucket)
    return bucket


def delete_bucket(endpoint_url: str, bucket: str) -> None:
    client = aws_client("s3", endpoint_url)
    for page in client.get_paginator("list_objects_v2").paginate(Bucket=bucket):
        keys = [{"Key": item["Key"]} for item in page.get("Contents", ())]
        if keys:
            client.delete_objects(Bucket=bucket, Delete={"Objects": keys, "Quiet": True})
    client.delete_bucket(Bucket=bucket)


@pytest.fixture
def store_dynamodb(
    request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[DynamoDBStore]:
    fake_aws_environment(monkeypatch, tmp_path_factory)
    endpoint_url = moto_url(request)
    table, rooms_table = create_table(endpoint_url), create_rooms_table(endpoint_url)
    store = DynamoDBStore(table, region=REGION, endpoint_url=endpoint_url, rooms_table=rooms_table)
    yield store
    loop.run(store.close())
    aws_client("dynamodb", endpoint_url).delete_table(TableName=table)
    aws_client("dynamodb", endpoint_url).delete_table(TableName=rooms_table)


@pytest.fixture
def unreachable_dynamodb(monkeypatch: pytest.MonkeyPatch, tmp_path_factory: pytest.TempPathFactory) -> Iterator[DynamoDBStore]:
    fake_aws_environment(monkeypatch, tmp_path_factory)
    with closed_endpoint() as endpoint_url:
        store = DynamoDBStore("connections", region=REGION, endpoint_url=endpoint_url, rooms_table="rooms")
        yield store
        loop.run(store.close())


@pytest.fixture
def store_s3(
    request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[S3Store]:
    fake_aws_environment(monkeypatch, tmp_path_factory)
    endpoint_url = moto_url(request)
    bucket = create_bucket(endpoint_url)
    store = S3Store(bucket, region=REGION, endpoint_url=endpoint_url)
    yield store
    loop.run(store.close())
    delete_bucket(endpoint_url, bucket)


@pytest.fixture
def unreachable_s3(monkeypatch: pytest.MonkeyPatch, tmp_path_factory: pytest.TempPathFactory) -> Iterator[S3Store]:
    fake_aws_environment(monkeypatch, tmp_path_factory)
    with closed_endpoint() as endpoint_url:
        store = S3Store("connections", region=REGION, endpoint_url=endpoint_url)
        yield store
        loop.run(store.close())
