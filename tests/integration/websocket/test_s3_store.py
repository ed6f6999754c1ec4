"""What the S3 store does beyond the contract: its objects, its requests, its client, its errors.

Against moto in server mode on 127.0.0.1 (tests/support/aws.py); requests are counted with botocore's
event hooks on the store's own client.
"""

from __future__ import annotations

import asyncio
import json
import threading
import time
from collections.abc import Iterator
from typing import Any

import boto3
import pytest

from asgi_lambda.docs import fix
from asgi_lambda.exceptions import ConfigError
from asgi_lambda.protocols import loop
from asgi_lambda.stores import StoreUnavailable
from asgi_lambda.stores.s3 import CONCURRENCY, S3Store
from tests.support.aws import REGION, aws_client, fake_aws_environment, moto_url, requests, unique
from tests.support.net import closed_endpoint
from tests.support.websocket import connection


def raw(store: S3Store) -> Any:
    return aws_client("s3", store.endpoint_url or "")


@pytest.fixture
def missing_bucket(
    request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[S3Store]:
    fake_aws_environment(monkeypatch, tmp_path_factory)
    store = S3Store(unique("no-such-bucket"), region=REGION, endpoint_url=moto_url(request))
    yield store
    loop.run(store.close())


def test_the_object_is_the_record_json_with_its_expiry_in_metadata(store_s3: S3Store) -> None:
    saved = connection()
    loop.run(store_s3.save(saved))

    stored = raw(store_s3).get_object(Bucket=store_s3.bucket, Key="asgi-lambda/connections/L0SM9cOFvHcCIhw=")

    assert stored["ContentType"] == "application/json"
    assert stored["Metadata"] == {"expires-at": str(saved.expires_at)}
    assert json.loads(stored["Body"].read()) == json.loads(saved.to_json())


def test_save_is_one_put_object(store_s3: S3Store) -> None:
    made = requests(store_s3)

    loop.run(store_s3.save(connection()))

    assert [operation for operation, _ in made] == ["PutObject"]


def test_load_is_one_get_object_and_no_write(store_s3: S3Store) -> None:
    loop.run(store_s3.save(connection()))
    made = requests(store_s3)

    assert loop.run(store_s3.load("L0SM9cOFvHcCIhw=")) is not None
    assert loop.run(store_s3.load("never-saved=")) is None

    assert [operation for operation, _ in made] == ["GetObject", "GetObject"]


def test_pop_is_a_get_a_listing_of_its_rooms_then_a_delete_and_only_a_get_when_there_is_nothing(store_s3: S3Store) -> None:
    saved = connection()
    loop.run(store_s3.save(saved))
    made = requests(store_s3)

    assert loop.run(store_s3.pop(saved.connection_id)) == saved
    assert loop.run(store_s3.pop(saved.connection_id)) is None

    assert [operation for operation, _ in made] == ["GetObject", "ListObjectsV2", "DeleteObject", "GetObject"]


def test_pop_of_a_connection_in_rooms_deletes_its_memberships_in_one_request_before_its_record(store_s3: S3Store) -> None:
    saved = connection()
    saved.rooms = ["room-1", "room-2"]
    loop.run(store_s3.save(saved))
    made = requests(store_s3)

    loop.run(store_s3.pop(saved.connection_id))

    assert [operation for operation, _ in made] == ["GetObject", "ListObjectsV2", "DeleteObjects", "DeleteObject"]
    assert "Contents" not in raw(store_s3).list_objects_v2(Bucket=store_s3.bucket)


def test_rooms_beside_connections_under_an_overlapping_prefix_are_a_config_error_naming_ws_s3_rooms_prefix(store_s3: S3Store) -> None:
    overlapping = S3Store(store_s3.bucket, prefix="conn-", region=REGION, endpoint_url=store_s3.endpoint_url)
    loop.run(overlapping.save(connection()))

    with pytest.raises(ConfigError) as error:
        loop.run(overlapping.join(connection().member(), "room-1"))

    assert str(error.value) == (
        "s3 store: the rooms' prefix 'conn--rooms/' and the connections' 'conn-' overlap, so listing one would list "
        "the other: set WS_S3_ROOMS_PREFIX (ws_config params rooms_prefix) to another, such as asgi-lambda/rooms/."
    ) + fix("rooms-storage")
    loop.run(overlapping.close())


def test_pop_deletes_an_expired_object_and_returns_none(store_s3: S3Store) -> None:
    loop.run(store_s3.save(connection("expired=", expires_in=-60)))

    assert loop.run(store_s3.pop("expired=")) is None

    assert "Contents" not in raw(store_s3).list_objects_v2(Bucket=store_s3.bucket)


def test_the_prefix_is_the_stores_and_scan_reads_nothing_outside_it(store_s3: S3Store) -> None:
    other = S3Store(store_s3.bucket, prefix="elsewhere/", region=REGION, endpoint_url=store_s3.endpoint_url)
    loop.run(other.save(connection("other=")))
    loop.run(store_s3.save(connection("mine=")))
    raw(store_s3).put_object(Bucket=store_s3.bucket, Key=store_s3.prefix, Body=b"")  # a console "folder"

    assert [record.connection_id for record in loop.run(store_s3.scan())] == ["mine="]
    assert [record.connection_id for record in loop.run(other.scan())] == ["other="]
    assert raw(store_s3).head_object(Bucket=store_s3.bucket, Key="elsewhere/other=")["ContentLength"] > 0
    loop.run(other.close())


def test_scan_follows_every_page_of_the_listing(store_s3: S3Store) -> None:
    live = {f"conn-{index:02d}=" for index in range(23)}
    for connection_id in live:
        loop.run(store_s3.save(connection(connection_id)))
    made = requests(store_s3)
    store_s3.client.meta.events.register("provide-client-params.s3.ListObjectsV2", lambda params, **kwargs: params.update(MaxKeys=10))

    scanned = loop.run(store_s3.scan())

    assert {record.connection_id for record in scanned} == live and len(scanned) == len(live)
    listings = [parameters for operation, parameters in made if operation == "ListObjectsV2"]
    assert len(listings) == 3
    assert "ContinuationToken" not in listings[0] and all("ContinuationToken" in listing for listing in listings[1:])


def test_scan_fetches_objects_concurrently_within_the_bound(store_s3: S3Store) -> None:
    for index in range(2 * CONCURRENCY):
        loop.run(store_s3.save(connection(f"conn-{index:02d}=")))
    lock = threading.Lock()
    in_flight = [0]
    most = [0]

    def started(**kwargs: Any) -> None:
        with lock:
            in_flight[0] += 1
            most[0] = max(most[0], in_flight[0])
        time.sleep(0.05)  # long enough for the others to start too

    def finished(**kwargs: Any) -> None:
        with lock:
            in_flight[0] -= 1

    store_s3.client.meta.events.register("before-call.s3.GetObject", started)
    store_s3.client.meta.events.register("after-call.s3.GetObject", finished)

    assert len(loop.run(store_s3.scan())) == 2 * CONCURRENCY
    assert 1 < most[0] <= CONCURRENCY


def test_scan_skips_an_object_deleted_after_the_listing(store_s3: S3Store) -> None:
    for connection_id in ("stays=", "leaves="):
        loop.run(store_s3.save(connection(connection_id)))
    # A $disconnect between the listing and the fetch.
    store_s3.client.meta.events.register(
        "after-call.s3.ListObjectsV2",
        lambda **kwargs: raw(store_s3).delete_object(Bucket=store_s3.bucket, Key="asgi-lambda/connections/leaves="),
    )

    assert [record.connection_id for record in loop.run(store_s3.scan())] == ["stays="]


def test_the_client_is_made_once_and_reused(store_s3: S3Store, monkeypatch: pytest.MonkeyPatch) -> None:
    made: list[str] = []
    make_client = boto3.session.Session.client

    def counting_client(self: Any, service_name: str, *args: Any, **kwargs: Any) -> Any:
        made.append(service_name)
        return make_client(self, service_name, *args, **kwargs)

    monkeypatch.setattr(boto3.session.Session, "client", counting_client)

    async def traffic() -> None:
        # The first calls arrive together, each in its own worker thread.
        await asyncio.gather(*(store_s3.load(f"conn-{index}=") for index in range(8)))
        await store_s3.save(connection())
        await store_s3.scan()
        await store_s3.pop("L0SM9cOFvHcCIhw=")

    loop.run(traffic())
    loop.run(traffic())

    assert made == ["s3"]


def test_a_missing_bucket_is_named_with_what_to_create(missing_bucket: S3Store) -> None:
    with pytest.raises(StoreUnavailable) as error:
        loop.run(missing_bucket.save(connection()))

    assert str(error.value) == (
        f"s3 store: bucket {missing_bucket.bucket!r} does not exist in region us-east-1 at {missing_bucket.endpoint_url}; "
        "create it, with a lifecycle rule expiring objects under 'asgi-lambda/connections/' after 1 day"
    )


@pytest.mark.parametrize("operation", ["load", "pop", "scan"])
def test_a_missing_bucket_is_named_by_every_read(missing_bucket: S3Store, operation: str) -> None:
    call = missing_bucket.scan() if operation == "scan" else getattr(missing_bucket, operation)("L0SM9cOFvHcCIhw=")

    with pytest.raises(StoreUnavailable, match=r"^s3 store: bucket '.*' does not exist"):
        loop.run(call)


def test_an_unreachable_endpoint_fails_within_seconds_naming_bucket_and_cause(
    monkeypatch: pytest.MonkeyPatch, tmp_path_factory: pytest.TempPathFactory
) -> None:
    fake_aws_environment(monkeypatch, tmp_path_factory)
    with closed_endpoint() as endpoint_url:
        store = S3Store("connections", region=REGION, endpoint_url=endpoint_url)
        started = time.monotonic()
        with pytest.raises(StoreUnavailable) as error:
            loop.run(store.scan())
        elapsed = time.monotonic() - started
        loop.run(store.close())

    assert elapsed < 5
    assert str(error.value).startswith(
        f"s3 store (bucket 'connections', prefix 'asgi-lambda/connections/' in region us-east-1 at {endpoint_url}): "
    )
    assert "EndpointConnectionError" in str(error.value)
