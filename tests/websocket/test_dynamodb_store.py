"""What the DynamoDB store does beyond the contract: its item, its requests, its client, its errors.

Against moto in server mode on 127.0.0.1 (fixtures_aws.py); requests are counted with botocore's
event hooks on the store's own client.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from typing import Any

import boto3
import pytest

from asgi_lambda import loop
from asgi_lambda.stores import StoreUnavailable
from asgi_lambda.stores.dynamodb import DynamoDBStore

from .fixtures_aws import REGION, aws_client, closed_port, fake_aws_environment, moto_url
from .test_stores import connection


def requests(store: DynamoDBStore) -> list[tuple[str, dict[str, Any]]]:
    """Every request the store's client makes from now on: (operation, parameters)."""
    made: list[tuple[str, dict[str, Any]]] = []

    def record(params: dict[str, Any], model: Any, **kwargs: Any) -> None:
        made.append((model.name, dict(params)))

    store.client.meta.events.register("provide-client-params.dynamodb", record)
    return made


@pytest.fixture
def missing_table(
    request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[DynamoDBStore]:
    fake_aws_environment(monkeypatch, tmp_path_factory)
    store = DynamoDBStore("no-such-table", region=REGION, endpoint_url=moto_url(request))
    yield store
    loop.run(store.close())


def test_the_item_is_connection_id_data_and_expires_at_as_a_number(store_dynamodb: DynamoDBStore) -> None:
    saved = connection()
    loop.run(store_dynamodb.save(saved))

    raw = aws_client("dynamodb", store_dynamodb.endpoint_url or "")
    item = raw.get_item(TableName=store_dynamodb.table, Key={"connection_id": {"S": saved.connection_id}})["Item"]

    assert item == {
        "connection_id": {"S": saved.connection_id},
        "data": {"S": saved.to_json()},
        "expires_at": {"N": str(saved.expires_at)},
    }


def test_save_is_one_put_item(store_dynamodb: DynamoDBStore) -> None:
    made = requests(store_dynamodb)

    loop.run(store_dynamodb.save(connection()))

    assert [operation for operation, _ in made] == ["PutItem"]


def test_load_is_one_consistent_get_item_and_no_write(store_dynamodb: DynamoDBStore) -> None:
    loop.run(store_dynamodb.save(connection()))
    made = requests(store_dynamodb)

    assert loop.run(store_dynamodb.load("L0SM9cOFvHcCIhw=")) is not None

    assert [operation for operation, _ in made] == ["GetItem"]
    assert made[0][1]["ConsistentRead"] is True


def test_pop_is_one_delete_item_returning_the_old_item(store_dynamodb: DynamoDBStore) -> None:
    saved = connection()
    loop.run(store_dynamodb.save(saved))
    made = requests(store_dynamodb)

    assert loop.run(store_dynamodb.pop(saved.connection_id)) == saved

    assert [operation for operation, _ in made] == ["DeleteItem"]
    assert made[0][1]["ReturnValues"] == "ALL_OLD"


def test_load_drops_an_expired_item_ttl_has_not_deleted_yet(store_dynamodb: DynamoDBStore) -> None:
    # DynamoDB's TTL deletes expired items days late, if ever in moto: the item is still there.
    loop.run(store_dynamodb.save(connection("expired=", expires_in=-60)))
    raw = aws_client("dynamodb", store_dynamodb.endpoint_url or "")
    assert "Item" in raw.get_item(TableName=store_dynamodb.table, Key={"connection_id": {"S": "expired="}})

    assert loop.run(store_dynamodb.load("expired=")) is None


def test_scan_filters_expired_items_in_dynamodb(store_dynamodb: DynamoDBStore) -> None:
    loop.run(store_dynamodb.save(connection("live=")))
    loop.run(store_dynamodb.save(connection("expired=", expires_in=-60)))
    returned: list[int] = []
    store_dynamodb.client.meta.events.register("after-call.dynamodb.Scan", lambda parsed, **kwargs: returned.append(len(parsed["Items"])))

    assert [record.connection_id for record in loop.run(store_dynamodb.scan())] == ["live="]
    assert returned == [1]  # the expired item never left the table


def test_scan_follows_every_page(store_dynamodb: DynamoDBStore) -> None:
    live = {f"conn-{index:02d}=" for index in range(23)}
    for connection_id in live:
        loop.run(store_dynamodb.save(connection(connection_id)))
    for index in range(5):
        loop.run(store_dynamodb.save(connection(f"expired-{index}=", expires_in=-60)))
    made = requests(store_dynamodb)
    # Pages of 4 items read: 28 items take at least 7 pages. Limit counts items read, before
    # the filter, so some pages come back empty yet not last.
    store_dynamodb.client.meta.events.register("provide-client-params.dynamodb.Scan", lambda params, **kwargs: params.update(Limit=4))

    scanned = loop.run(store_dynamodb.scan())

    assert {record.connection_id for record in scanned} == live
    assert len(scanned) == len(live)
    assert len(made) >= 7 and {operation for operation, _ in made} == {"Scan"}
    assert "ExclusiveStartKey" not in made[0][1] and all("ExclusiveStartKey" in parameters for _, parameters in made[1:])


def test_the_client_is_made_once_and_reused(store_dynamodb: DynamoDBStore, monkeypatch: pytest.MonkeyPatch) -> None:
    made: list[str] = []
    make_client = boto3.session.Session.client

    def counting_client(self: Any, service_name: str, *args: Any, **kwargs: Any) -> Any:
        made.append(service_name)
        return make_client(self, service_name, *args, **kwargs)

    monkeypatch.setattr(boto3.session.Session, "client", counting_client)

    async def traffic() -> None:
        # The first calls arrive together, each in its own worker thread.
        await asyncio.gather(*(store_dynamodb.load(f"conn-{index}=") for index in range(8)))
        await store_dynamodb.save(connection())
        await store_dynamodb.scan()
        await store_dynamodb.pop("L0SM9cOFvHcCIhw=")

    loop.run(traffic())
    loop.run(traffic())

    assert made == ["dynamodb"]


def test_a_missing_table_is_named_with_how_to_create_it(missing_table: DynamoDBStore) -> None:
    with pytest.raises(StoreUnavailable) as error:
        loop.run(missing_table.load("L0SM9cOFvHcCIhw="))

    assert str(error.value) == (
        f"dynamodb store: table 'no-such-table' does not exist in region us-east-1 at {missing_table.endpoint_url}; "
        "create it (template.yaml does) with partition key connection_id (S) and TTL on expires_at"
    )


def test_an_unreachable_endpoint_fails_within_seconds_naming_table_and_cause(
    monkeypatch: pytest.MonkeyPatch, tmp_path_factory: pytest.TempPathFactory
) -> None:
    fake_aws_environment(monkeypatch, tmp_path_factory)
    with closed_port() as endpoint_url:
        store = DynamoDBStore("connections", region=REGION, endpoint_url=endpoint_url)
        started = time.monotonic()
        with pytest.raises(StoreUnavailable) as error:
            loop.run(store.scan())
        elapsed = time.monotonic() - started
        loop.run(store.close())

    assert elapsed < 5
    assert str(error.value).startswith(f"dynamodb store (table 'connections' in region us-east-1 at {endpoint_url}): ")
    assert "EndpointConnectionError" in str(error.value)


def test_missing_credentials_become_store_unavailable(
    request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch, tmp_path_factory: pytest.TempPathFactory
) -> None:
    fake_aws_environment(monkeypatch, tmp_path_factory)
    monkeypatch.delenv("AWS_ACCESS_KEY_ID")
    monkeypatch.delenv("AWS_SECRET_ACCESS_KEY")
    store = DynamoDBStore("connections", region=REGION, endpoint_url=moto_url(request))

    with pytest.raises(StoreUnavailable, match=r"^dynamodb store \(table 'connections' .*NoCredentialsError"):
        loop.run(store.save(connection()))
    loop.run(store.close())
