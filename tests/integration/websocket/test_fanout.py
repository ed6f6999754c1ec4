"""Fan-out over SQS end to end, against the moto server's SQS and a loopback Management API: the
broadcast queues pages, the pages come back to the handler as SQS events, every connection gets
the message once, and a page that fails is the only one SQS delivers again."""

from __future__ import annotations

import base64
import importlib
import json
import logging
import time
from collections import Counter
from collections.abc import Iterator
from typing import Any

import pytest

from asgi_lambda import MessageTooLarge, QueueUnavailable
from asgi_lambda.protocols import loop
from asgi_lambda.stores import Store
from asgi_lambda.stores.memory import MemoryStore
from asgi_lambda.stores.record import ConnectionRecord
from asgi_lambda.websocket import broadcast
from asgi_lambda.websocket.hub import ConnectionHub
from tests.support import adapter
from tests.support.apps import RecordingApp
from tests.support.events import load_event
from tests.support.management_api import ManagementAPIStub
from tests.support.net import closed_port
from tests.support.sqs import Queue, fanout_queue  # noqa: F401
from tests.support.websocket import websocket_runtime

MESSAGE = "news for everyone ✓"


def save_connections(store: Store, endpoint: str, count: int, *, rooms: tuple[str, ...] = ()) -> list[str]:
    ids = [f"conn-{index:05d}=" for index in range(count)]
    expires_at = int(time.time()) + 3600

    async def save() -> None:
        for connection_id in ids:
            await store.save(ConnectionRecord(connection_id, endpoint=endpoint, scope={}, expires_at=expires_at, rooms=list(rooms)))

    loop.run(save())
    return ids


@pytest.fixture
def hub(fanout_queue: Queue, stub: ManagementAPIStub) -> Iterator[ConnectionHub]:  # noqa: F811
    """A memory store, replies to the stub, fan-out through the queue past 2,000 connections, pages of 500."""
    with websocket_runtime(MemoryStore(), endpoint=stub.endpoint, fanout_queue_url=fanout_queue.url, fanout_page=500) as runtime:
        yield runtime
        loop.run(runtime.close())


def pages(messages: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [json.loads(message["Body"]) for message in messages]


def drain(queue: Queue, messages: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The messages fed back to the handler as SQS events, 10 a batch as an event source mapping's
    default; each batch's answer."""
    handler = adapter(RecordingApp())
    return [handler(queue.event(messages[start : start + 10]), None) for start in range(0, len(messages), 10)]


def test_a_broadcast_to_5000_connections_with_pages_of_500_queues_10_full_pages(
    hub: ConnectionHub,
    fanout_queue: Queue,  # noqa: F811
    stub: ManagementAPIStub,
) -> None:
    ids = save_connections(hub.store, stub.endpoint, 5000)

    assert loop.run(broadcast(MESSAGE)) == 5000

    messages = fanout_queue.receive_all()
    assert len(messages) == 10
    assert all(message["MessageAttributes"] == {"asgi-lambda": {"StringValue": "fanout", "DataType": "String"}} for message in messages)
    queued = pages(messages)
    assert [len(page["ids"]) for page in queued] == [500] * 10
    assert sorted(connection_id for page in queued for connection_id in page["ids"]) == ids
    assert {(page["endpoint"], base64.b64decode(page["data"]).decode(), page["text"]) for page in queued} == {
        (stub.endpoint, MESSAGE, True)
    }
    assert stub.posts() == []  # nothing posted from the invocation that broadcast


def test_the_queued_pages_fed_back_as_sqs_events_post_the_message_to_each_of_5000_connections_once(
    hub: ConnectionHub,
    fanout_queue: Queue,  # noqa: F811
    stub: ManagementAPIStub,
) -> None:
    ids = save_connections(hub.store, stub.endpoint, 5000)
    loop.run(broadcast(MESSAGE))

    answers = drain(fanout_queue, fanout_queue.receive_all())

    assert answers == [{"batchItemFailures": []}]
    posts = stub.posts()
    assert len(posts) == 5000
    assert sorted(connection_id for connection_id, _ in posts) == ids
    assert {body for _, body in posts} == {MESSAGE.encode()}


def test_a_page_that_fails_is_the_only_one_reported_and_its_retry_loses_nothing(
    hub: ConnectionHub,
    fanout_queue: Queue,  # noqa: F811
    stub: ManagementAPIStub,
    caplog: pytest.LogCaptureFixture,
) -> None:
    ids = save_connections(hub.store, stub.endpoint, 5000)
    loop.run(broadcast(MESSAGE))
    messages = fanout_queue.receive_all()
    failing = messages[3]
    stub.failing.add(pages([failing])[0]["ids"][0])  # one post of that page fails, after its retries

    with caplog.at_level(logging.ERROR, logger="asgi_lambda.websocket"):
        answers = drain(fanout_queue, messages)

    assert answers == [{"batchItemFailures": [{"itemIdentifier": failing["MessageId"]}]}]
    assert f"Fan-out page {failing['MessageId']}: 1 of 500 posts failed; the page is reported for SQS to deliver again" in caplog.messages
    # SQS delivers that page again; the Management API is back.
    stub.failing.clear()
    assert drain(fanout_queue, [failing]) == [{"batchItemFailures": []}]
    delivered = Counter(connection_id for connection_id, _ in stub.posts())
    assert set(delivered) == set(ids)  # 0 lost
    again = {connection_id for connection_id, count in delivered.items() if count > 1}
    assert again <= set(pages([failing])[0]["ids"])  # duplicates only within the retried page


def test_gone_connections_in_a_page_are_forgotten(
    hub: ConnectionHub,
    fanout_queue: Queue,  # noqa: F811
    stub: ManagementAPIStub,
) -> None:
    ids = save_connections(hub.store, stub.endpoint, 2500, rooms=("lobby",))
    stub.gone.update(ids[:3])
    loop.run(broadcast(MESSAGE, room="lobby"))

    assert drain(fanout_queue, fanout_queue.receive_all()) == [{"batchItemFailures": []}]

    assert [loop.run(hub.store.load(connection_id)) for connection_id in ids[:3]] == [None, None, None]
    assert loop.run(hub.store.rooms(ids[0])) == set()
    assert len(loop.run(hub.store.scan())) == 2497


def test_a_broadcast_at_the_threshold_posts_from_the_invocation_and_queues_nothing(
    hub: ConnectionHub,
    fanout_queue: Queue,  # noqa: F811
    stub: ManagementAPIStub,
) -> None:
    save_connections(hub.store, stub.endpoint, 2000)

    assert loop.run(broadcast(MESSAGE)) == 2000

    assert len(stub.posts()) == 2000
    assert fanout_queue.receive_all() == []


def test_a_message_over_128_kb_is_refused_before_anything_is_read_or_queued(
    hub: ConnectionHub,
    fanout_queue: Queue,  # noqa: F811
    stub: ManagementAPIStub,
) -> None:
    save_connections(hub.store, stub.endpoint, 2500)

    with pytest.raises(MessageTooLarge) as error:
        loop.run(broadcast(b"x" * (128 * 1024 + 1)))

    assert str(error.value) == "broadcast of 131073 bytes not sent: API Gateway's limit is 131072 bytes"
    assert fanout_queue.receive_all() == []


def test_a_message_of_128_kb_fans_out_one_page_to_a_batch(
    hub: ConnectionHub,
    fanout_queue: Queue,  # noqa: F811
    stub: ManagementAPIStub,
) -> None:
    ids = save_connections(hub.store, stub.endpoint, 2500)
    data = bytes(range(256)) * 512  # 128 KiB exactly, binary

    assert loop.run(broadcast(data)) == 2500

    queued = pages(fanout_queue.receive_all())
    assert sorted(connection_id for page in queued for connection_id in page["ids"]) == ids
    assert {base64.b64decode(page["data"]) for page in queued} == {data} and {page["text"] for page in queued} == {False}


def test_a_room_fans_out_from_its_members_read_page_by_page_every_page_full_but_the_last(
    store: Store,
    fanout_queue: Queue,  # noqa: F811
    stub: ManagementAPIStub,
) -> None:
    store.page = 7  # type: ignore[attr-defined]
    ids = save_connections(store, stub.endpoint, 23, rooms=("lobby",))
    with websocket_runtime(store, endpoint=stub.endpoint, fanout_queue_url=fanout_queue.url, fanout_threshold=10, fanout_page=5) as runtime:
        assert loop.run(broadcast(MESSAGE, room="lobby", exclude={ids[0]})) == 22
        messages = fanout_queue.receive_all()
        assert sorted(len(page["ids"]) for page in pages(messages)) == [2, 5, 5, 5, 5]
        assert drain(fanout_queue, messages) == [{"batchItemFailures": []}]
        loop.run(runtime.close())

    assert sorted(connection_id for connection_id, _ in stub.posts()) == ids[1:]


def test_an_unreachable_queue_is_a_queue_unavailable_naming_it(
    fanout_queue: Queue,  # noqa: F811
    stub: ManagementAPIStub,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    nowhere = f"http://127.0.0.1:{closed_port()}"
    monkeypatch.setenv("AWS_ENDPOINT_URL_SQS", nowhere)
    queue_url = f"{nowhere}/123456789012/fanout"
    store = MemoryStore()
    save_connections(store, stub.endpoint, 30)
    with websocket_runtime(store, endpoint=stub.endpoint, fanout_queue_url=queue_url, fanout_threshold=10, fanout_page=5) as runtime:
        with pytest.raises(QueueUnavailable) as error:
            loop.run(broadcast(MESSAGE))
        loop.run(runtime.close())

    assert str(error.value).startswith(f"fan-out queue {queue_url}: EndpointConnectionError")
    assert str(error.value).endswith("; 0 connections were queued")


# --- recognising the pages ---------------------------------------------------------------------


def test_fan_out_pages_are_recognised_before_other_sources_with_or_without_events_path(
    hub: ConnectionHub,
    fanout_queue: Queue,  # noqa: F811
    stub: ManagementAPIStub,
) -> None:
    save_connections(hub.store, stub.endpoint, 2001)
    loop.run(broadcast(MESSAGE))
    event = fanout_queue.event(fanout_queue.receive_all()[:1])
    app = RecordingApp()

    assert adapter(app, events_path="/events")(event, None) == {"batchItemFailures": []}

    assert app.scopes == []  # the app never sees them
    assert len(stub.posts()) == 500


def test_an_ordinary_sqs_event_still_goes_to_the_app(hub: ConnectionHub) -> None:
    app = RecordingApp(headers=[(b"content-type", b"application/json")], body=b'{"batchItemFailures": []}')

    assert adapter(app, events_path="/events")(load_event("sqs_batch"), None) == {"batchItemFailures": []}

    assert app.scope["path"] == "/events/sqs"


def test_a_page_that_is_not_the_layers_and_a_foreign_record_in_the_batch_are_reported(
    hub: ConnectionHub,
    fanout_queue: Queue,  # noqa: F811
) -> None:
    foreign = load_event("sqs_batch")["Records"][0]
    broken = {**foreign, "messageId": "broken", "body": "{not json", "messageAttributes": {"asgi-lambda": {"stringValue": "fanout"}}}

    answer = adapter(RecordingApp())({"Records": [broken, foreign]}, None)

    assert answer == {"batchItemFailures": [{"itemIdentifier": "broken"}, {"itemIdentifier": foreign["messageId"]}]}


def test_without_a_queue_a_broadcast_over_10_s_posts_from_the_invocation_and_says_so_once(
    stub: ManagementAPIStub, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    send_module = importlib.import_module("asgi_lambda.websocket.send")  # the module: the package's `send` is the function
    monkeypatch.setattr(send_module, "SLOW_SECONDS", 0.0)  # every broadcast is "slow": the log says so once
    monkeypatch.setattr(send_module, "_slow_logged", False)
    store = MemoryStore()
    save_connections(store, stub.endpoint, 2500)
    with websocket_runtime(store, endpoint=stub.endpoint) as runtime:
        with caplog.at_level(logging.WARNING, logger="asgi_lambda.websocket"):
            assert loop.run(broadcast(MESSAGE)) == 2500
            assert loop.run(broadcast(MESSAGE)) == 2500
        loop.run(runtime.close())

    slow = [message for message in caplog.messages if "set WS_FANOUT_QUEUE_URL" in message]
    assert len(slow) == 1 and slow[0].startswith("A broadcast to 2500 connections took ")
    assert len(stub.posts()) == 5000
