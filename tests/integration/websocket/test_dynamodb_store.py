"""What the DynamoDB store does beyond the contract: its item, its requests, its client, its errors.

Against moto in server mode on 127.0.0.1 (tests/support/aws.py); requests are counted with botocore's
event hooks on the store's own client.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from typing import Any

import boto3
import pytest

from asgi_lambda.exceptions import ConfigError
from asgi_lambda.protocols import loop
from asgi_lambda.stores import StoreUnavailable
from asgi_lambda.stores.dynamodb import DynamoDBStore
from asgi_lambda.stores.record import ConnectionRecord
from tests.support.aws import REGION, aws_client, create_rooms_table, fake_aws_environment, moto_url, requests, unique
from tests.support.net import closed_endpoint
from tests.support.websocket import connection


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
    with closed_endpoint() as endpoint_url:
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


# --- a table keyed on another attribute (connectionId, as Mangum 0.9's tables were) -------------


def create_keyed_table(endpoint_url: str, *key_schema: tuple[str, str]) -> str:
    """A connections table with this key schema ((attribute, HASH|RANGE), ...), all strings."""
    table = unique("connections")
    aws_client("dynamodb", endpoint_url).create_table(
        TableName=table,
        AttributeDefinitions=[{"AttributeName": name, "AttributeType": "S"} for name, _ in key_schema],
        KeySchema=[{"AttributeName": name, "KeyType": kind} for name, kind in key_schema],
        BillingMode="PAY_PER_REQUEST",
    )
    return table


@pytest.fixture
def dynamodb_endpoint(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch, tmp_path_factory: pytest.TempPathFactory) -> str:
    fake_aws_environment(monkeypatch, tmp_path_factory)
    return moto_url(request)


@pytest.fixture
def mangum_table(dynamodb_endpoint: str) -> Iterator[str]:
    table = create_keyed_table(dynamodb_endpoint, ("connectionId", "HASH"))
    yield table
    aws_client("dynamodb", dynamodb_endpoint).delete_table(TableName=table)


def store_on(table: str, endpoint_url: str, **options: Any) -> DynamoDBStore:
    return DynamoDBStore(table, region=REGION, endpoint_url=endpoint_url, **options)


def lifecycle(
    store: DynamoDBStore, saved: ConnectionRecord
) -> tuple[ConnectionRecord | None, list[str], ConnectionRecord | None, ConnectionRecord | None]:
    """Store, list, forget and look again: what a connection's life asks of the store."""
    loop.run(store.save(saved))
    loaded = loop.run(store.load(saved.connection_id))
    listed = [record.connection_id for record in loop.run(store.scan())]
    popped = loop.run(store.pop(saved.connection_id))
    return loaded, listed, popped, loop.run(store.load(saved.connection_id))


def test_a_table_keyed_on_connectionId_stores_lists_and_forgets_connections(mangum_table: str, dynamodb_endpoint: str) -> None:
    store = store_on(mangum_table, dynamodb_endpoint)
    made = requests(store)
    saved = connection()

    loaded, listed, popped, after = lifecycle(store, saved)

    assert (loaded, listed, popped, after) == (saved, [saved.connection_id], saved, None)
    # The first PutItem is refused for its key; the table's key is read once, and the put sent again.
    assert [operation for operation, _ in made] == ["PutItem", "DescribeTable", "PutItem", "GetItem", "Scan", "DeleteItem", "GetItem"]
    assert store.key == "connectionId"
    loop.run(store.close())


def test_the_item_in_a_connectionId_table_is_keyed_on_connectionId(mangum_table: str, dynamodb_endpoint: str) -> None:
    store = store_on(mangum_table, dynamodb_endpoint)
    saved = connection()
    loop.run(store.save(saved))
    loop.run(store.close())

    item = aws_client("dynamodb", dynamodb_endpoint).get_item(TableName=mangum_table, Key={"connectionId": {"S": saved.connection_id}})
    assert item["Item"] == {
        "connectionId": {"S": saved.connection_id},
        "data": {"S": saved.to_json()},
        "expires_at": {"N": str(saved.expires_at)},
    }


def test_a_configured_key_is_used_without_reading_the_table(mangum_table: str, dynamodb_endpoint: str) -> None:
    store = store_on(mangum_table, dynamodb_endpoint, key="connectionId")
    made = requests(store)
    saved = connection()

    loaded, listed, popped, after = lifecycle(store, saved)

    assert (loaded, listed, popped, after) == (saved, [saved.connection_id], saved, None)
    assert [operation for operation, _ in made] == ["PutItem", "GetItem", "Scan", "DeleteItem", "GetItem"]
    loop.run(store.close())


def test_a_connection_id_table_is_never_described(store_dynamodb: DynamoDBStore) -> None:
    made = requests(store_dynamodb)
    saved = connection()

    loaded, listed, popped, after = lifecycle(store_dynamodb, saved)

    assert (loaded, listed, popped, after) == (saved, [saved.connection_id], saved, None)
    assert "DescribeTable" not in [operation for operation, _ in made]  # no cost at a cold start, no extra IAM permission


def test_the_first_request_of_an_environment_may_be_a_message_or_a_disconnect(mangum_table: str, dynamodb_endpoint: str) -> None:
    # Another environment took the $connect: this one's first request is a GetItem or a DeleteItem.
    writer = store_on(mangum_table, dynamodb_endpoint, key="connectionId")
    saved = connection()
    loop.run(writer.save(saved))
    reader, remover = store_on(mangum_table, dynamodb_endpoint), store_on(mangum_table, dynamodb_endpoint)

    assert loop.run(reader.load(saved.connection_id)) == saved
    assert loop.run(remover.pop(saved.connection_id)) == saved
    for store in (writer, reader, remover):
        loop.run(store.close())


def test_a_table_made_after_the_first_request_is_still_learned(dynamodb_endpoint: str) -> None:
    # At a cold start the table may not exist yet: the failure is the missing table's, and nothing is remembered.
    table = unique("connections")
    store = store_on(table, dynamodb_endpoint)
    with pytest.raises(StoreUnavailable, match="does not exist"):
        loop.run(store.load("L0SM9cOFvHcCIhw="))
    aws_client("dynamodb", dynamodb_endpoint).create_table(
        TableName=table,
        AttributeDefinitions=[{"AttributeName": "connectionId", "AttributeType": "S"}],
        KeySchema=[{"AttributeName": "connectionId", "KeyType": "HASH"}],
        BillingMode="PAY_PER_REQUEST",
    )

    saved = connection()
    loop.run(store.save(saved))

    assert loop.run(store.load(saved.connection_id)) == saved
    loop.run(store.close())
    aws_client("dynamodb", dynamodb_endpoint).delete_table(TableName=table)


def test_a_table_whose_key_cannot_be_read_says_what_to_set(
    mangum_table: str, dynamodb_endpoint: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = store_on(mangum_table, dynamodb_endpoint)
    request = store._aws.request

    def no_describe(method: str, /, **parameters: Any) -> dict[str, Any]:
        if method == "describe_table":
            raise StoreUnavailable("AccessDeniedException: not authorized to perform dynamodb:DescribeTable")
        return request(method, **parameters)

    monkeypatch.setattr(store._aws, "request", no_describe)

    with pytest.raises(StoreUnavailable) as error:
        loop.run(store.save(connection()))

    assert str(error.value) == (
        f"dynamodb store: table {mangum_table!r} refused an item keyed on 'connection_id' (ValidationException: One or more "
        "parameter values were invalid: Missing the key connectionId in the item), and its key could not be read "
        "(AccessDeniedException: not authorized to perform dynamodb:DescribeTable); set WS_DYNAMODB_KEY to the table's "
        "partition key, such as connectionId, or allow the function dynamodb:DescribeTable on the table"
    )
    loop.run(store.close())


def test_a_table_with_a_sort_key_is_refused_naming_it(dynamodb_endpoint: str) -> None:
    table = create_keyed_table(dynamodb_endpoint, ("connectionId", "HASH"), ("room", "RANGE"))
    store = store_on(table, dynamodb_endpoint)

    with pytest.raises(StoreUnavailable) as error:
        loop.run(store.load("L0SM9cOFvHcCIhw="))

    assert str(error.value) == (
        f"dynamodb store: table {table!r} has a sort key ('room'); the store needs a table with a partition key only, "
        "such as template.yaml's (connection_id, S)"
    )
    loop.run(store.close())
    aws_client("dynamodb", dynamodb_endpoint).delete_table(TableName=table)


def test_scan_skips_items_another_program_wrote(mangum_table: str, dynamodb_endpoint: str) -> None:
    # A reused Mangum 0.9 table may still hold that era's items, which have no `data`.
    aws_client("dynamodb", dynamodb_endpoint).put_item(
        TableName=mangum_table, Item={"connectionId": {"S": "old="}, "initial_scope": {"S": "{}"}, "expires_at": {"N": "9999999999"}}
    )
    store = store_on(mangum_table, dynamodb_endpoint, key="connectionId")
    loop.run(store.save(connection()))

    assert [record.connection_id for record in loop.run(store.scan())] == ["L0SM9cOFvHcCIhw="]
    assert loop.run(store.load("old=")) is None
    loop.run(store.close())


@pytest.mark.parametrize(
    "configure",
    [
        {"environ": {"WS_BACKEND": "dynamodb", "WS_DYNAMODB_TABLE": "connections", "WS_DYNAMODB_KEY": "connectionId"}},
        {"ws_config": {"backend": "dynamodb", "params": {"table_name": "connections", "key": "connectionId"}}},
        {"dsn": "dynamodb://connections?key=connectionId"},
    ],
    ids=["WS_DYNAMODB_KEY", "ws_config", "dsn"],
)
def test_the_key_is_configured_in_every_spelling(configure: dict[str, Any]) -> None:
    from asgi_lambda.settings.websocket import websocket_from_dsn, websocket_from_environ, websocket_from_ws_config
    from asgi_lambda.stores import registry

    if "environ" in configure:
        settings = websocket_from_environ(configure["environ"])
    elif "ws_config" in configure:
        settings = websocket_from_ws_config(configure["ws_config"], {})
    else:
        settings = websocket_from_dsn(configure["dsn"], {})
    entry = registry.entry_for(settings.backend)
    assert entry is not None
    store = registry.load(entry)(**settings.store_options)

    assert isinstance(store, DynamoDBStore) and (store.table, store.key, store.key_known) == ("connections", "connectionId", True)


# --- rooms ------------------------------------------------------------------------------------


def in_rooms(*rooms: str) -> ConnectionRecord:
    record = connection()
    record.rooms = list(rooms)
    return record


def test_a_connect_with_rooms_is_one_transaction_of_the_item_and_its_memberships(store_dynamodb: DynamoDBStore) -> None:
    made = requests(store_dynamodb)

    loop.run(store_dynamodb.save(in_rooms("room-1", "room-2")))

    assert [operation for operation, _ in made] == ["TransactWriteItems"]
    assert [next(iter(item)) for item in made[0][1]["TransactItems"]] == ["Put", "Put", "Put"]
    item = raw_item(store_dynamodb, "L0SM9cOFvHcCIhw=")
    assert item["rooms"] == {"SS": ["room-1", "room-2"]}


def test_join_is_one_transaction_conditioned_on_the_connections_item(store_dynamodb: DynamoDBStore) -> None:
    saved = connection()
    loop.run(store_dynamodb.save(saved))
    made = requests(store_dynamodb)

    assert loop.run(store_dynamodb.join(saved.member(), "room-1")) is True

    assert [operation for operation, _ in made] == ["TransactWriteItems"]
    update = made[0][1]["TransactItems"][0]["Update"]
    assert update["ConditionExpression"] == "attribute_exists(#key) AND expires_at > :now"


def test_a_rooms_members_are_one_consistent_query_a_page_never_a_scan(store_dynamodb: DynamoDBStore) -> None:
    loop.run(store_dynamodb.save(in_rooms("room-1")))
    made = requests(store_dynamodb)

    async def read() -> list[str]:
        return [member.connection_id async for page in store_dynamodb.members("room-1") for member in page]

    assert loop.run(read()) == ["L0SM9cOFvHcCIhw="]
    assert [operation for operation, _ in made] == ["Query"]
    assert made[0][1]["ConsistentRead"] is True and made[0][1]["TableName"] == store_dynamodb.rooms_table


def test_pop_of_a_connection_in_rooms_is_a_refused_delete_that_returns_it_then_one_transaction(store_dynamodb: DynamoDBStore) -> None:
    saved = in_rooms("room-1", "room-2")
    loop.run(store_dynamodb.save(saved))
    made = requests(store_dynamodb)

    assert loop.run(store_dynamodb.pop(saved.connection_id)) == saved

    assert [operation for operation, _ in made] == ["DeleteItem", "TransactWriteItems"]
    assert [next(iter(item)) for item in made[1][1]["TransactItems"]] == ["Delete", "Delete", "Delete"]
    assert aws_client("dynamodb", store_dynamodb.endpoint_url or "").scan(TableName=store_dynamodb.rooms_table)["Items"] == []


def test_rooms_without_a_rooms_table_are_a_config_error_naming_ws_dynamodb_rooms_table(store_dynamodb: DynamoDBStore) -> None:
    store = store_on(store_dynamodb.table, store_dynamodb.endpoint_url or "")
    loop.run(store.save(connection()))

    with pytest.raises(ConfigError) as error:
        loop.run(store.join(connection().member(), "room-1"))

    assert str(error.value).startswith(
        f"dynamodb store (table {store.table!r}): rooms need a table of their own: set WS_DYNAMODB_ROOMS_TABLE"
    )
    loop.run(store.close())


def test_rooms_work_on_a_table_keyed_on_connectionId(mangum_table: str, dynamodb_endpoint: str) -> None:
    rooms_table = create_rooms_table(dynamodb_endpoint)
    store = store_on(mangum_table, dynamodb_endpoint, rooms_table=rooms_table)
    saved = in_rooms("room-1")

    loop.run(store.save(saved))
    joined = loop.run(store.join(saved.member(), "room-2"))
    rooms = loop.run(store.rooms(saved.connection_id))
    popped = loop.run(store.pop(saved.connection_id))

    assert (joined, rooms, popped, store.key) == (True, {"room-1", "room-2"}, saved, "connectionId")
    assert aws_client("dynamodb", dynamodb_endpoint).scan(TableName=rooms_table)["Items"] == []
    loop.run(store.close())
    aws_client("dynamodb", dynamodb_endpoint).delete_table(TableName=rooms_table)


def raw_item(store: DynamoDBStore, connection_id: str) -> dict[str, Any]:
    item: dict[str, Any] = aws_client("dynamodb", store.endpoint_url or "").get_item(
        TableName=store.table, Key={"connection_id": {"S": connection_id}}
    )["Item"]
    return item
