"""Fan-out over SQS: a broadcast larger than one invocation can post, spread over many.

https://docs.aws.amazon.com/AWSSimpleQueueService/latest/APIReference/API_SendMessageBatch.html
https://docs.aws.amazon.com/lambda/latest/dg/services-sqs-errorhandling.html

`queue` (the producer, from `broadcast`): the audience, read page by page from the store, is cut
into pages of WS_FANOUT_PAGE connection ids of one endpoint (every page full but each endpoint's
last), each page one SQS message holding the message, the endpoint and the ids, sent ten to a
SendMessageBatch (fewer when their bodies would pass SQS's 256 KiB a batch), a few batches at a
time. Every message carries the attribute `asgi-lambda` = `fanout`. What SQS refuses of a batch is
sent once more; what it refuses again, or a queue that cannot be reached, is a QueueUnavailable,
naming the queue and how many connections were queued before.

`drain` (the consumer): the same function, invoked by the queue's event source mapping, finds
those records before any other routing (sources/fanout.py) and posts each page's ids, all pages
at once, bounded by the endpoint's client. A connection API Gateway calls gone is forgotten. A page
whose posts did not all go (the Management API unreachable, or refusing after its retries) is
reported in `batchItemFailures`, so SQS delivers that page again, and only it: a retry may post
again to that page's connections, never to another's. The event source mapping needs
ReportBatchItemFailures (template.yaml sets it).

SQS is reached with boto3 (in Lambda's runtime; imported here only), its client made once per
hub; AWS_ENDPOINT_URL_SQS sends it elsewhere (moto, in the tests), as botocore reads it.
"""

from __future__ import annotations

import asyncio
import base64
import json
import logging
import re
from collections.abc import AsyncIterator
from typing import Any

from ..exceptions import QueueUnavailable
from ..stores.record import Member
from .delivery import post_all
from .hub import ConnectionHub

logger = logging.getLogger("asgi_lambda.websocket")

ATTRIBUTE = "asgi-lambda"
ATTRIBUTE_VALUE = "fanout"
MESSAGE_ATTRIBUTES = {ATTRIBUTE: {"DataType": "String", "StringValue": ATTRIBUTE_VALUE}}
BATCH_ENTRIES = 10  # SendMessageBatch's limit
BATCH_BYTES = 250 * 1024  # below SQS's 256 KiB for a batch (and for one message), attributes included
SENDS_IN_FLIGHT = 4  # SendMessageBatch calls at once


class Pages:
    """Pages of one broadcast, as they are cut: batched, sent, counted."""

    def __init__(self, hub: ConnectionHub, data: bytes, *, text: bool, room: str | None) -> None:
        self.hub = hub
        self.queue_url = hub.settings.fanout_queue_url or ""
        self.envelope = {"data": base64.b64encode(data).decode(), "text": text, "room": room}
        self.batch: list[dict[str, Any]] = []
        self.batch_bytes = 0
        self.entries = 0
        self.queued = 0
        self.sending: set[asyncio.Task[None]] = set()
        self.slots = asyncio.Semaphore(SENDS_IN_FLIGHT)

    async def add(self, endpoint: str, ids: list[str]) -> None:
        body = json.dumps({**self.envelope, "endpoint": endpoint, "ids": ids}, separators=(",", ":"))
        if len(body) > BATCH_BYTES and len(ids) > 1:  # ids longer than API Gateway's: two pages
            half = len(ids) // 2
            await self.add(endpoint, ids[:half])
            await self.add(endpoint, ids[half:])
            return
        if len(self.batch) == BATCH_ENTRIES or self.batch_bytes + len(body) > BATCH_BYTES:
            await self.send()
        self.batch.append({"Id": str(self.entries), "MessageBody": body, "MessageAttributes": MESSAGE_ATTRIBUTES, "ids": len(ids)})
        self.batch_bytes += len(body)
        self.entries += 1

    async def send(self) -> None:
        """The batch so far, sent in the background (a few at once); a failure shows at `finish`."""
        if not self.batch:
            return
        batch, self.batch, self.batch_bytes = self.batch, [], 0
        await self.slots.acquire()
        task = asyncio.ensure_future(self.send_batch(batch))
        self.sending.add(task)
        task.add_done_callback(self.sending.discard)
        if any(done.done() and done.exception() for done in self.sending):  # stop reading at the first failure
            await self.finish()

    async def finish(self) -> None:
        await self.send()
        while self.sending:
            for task in asyncio.as_completed(list(self.sending)):
                await task

    async def send_batch(self, batch: list[dict[str, Any]]) -> None:
        try:
            entries = {entry["Id"]: entry for entry in batch}
            for attempt in (1, 2):
                failed = await asyncio.to_thread(self.send_entries, list(entries.values()))
                for entry_id in set(entries) - set(failed):
                    self.queued += entries[entry_id]["ids"]
                if not failed:
                    return
                entries = {entry_id: entries[entry_id] for entry_id in failed}
                if attempt == 2:
                    reasons = "; ".join(sorted({failure for failure in failed.values()}))
                    raise QueueUnavailable(
                        f"fan-out queue {self.queue_url}: SQS refused {len(failed)} page(s) twice ({reasons}); "
                        f"{self.queued} connections were queued"
                    )
        finally:
            self.slots.release()

    def send_entries(self, entries: list[dict[str, Any]]) -> dict[str, str]:
        """One SendMessageBatch (blocking); the entries SQS refused, with why."""
        client = sqs_client(self.hub)
        request = [{key: value for key, value in entry.items() if key != "ids"} for entry in entries]
        try:
            response = client.send_message_batch(QueueUrl=self.queue_url, Entries=request)
        except Exception as exc:
            raise QueueUnavailable(
                f"fan-out queue {self.queue_url}: {type(exc).__name__}: {exc}; {self.queued} connections were queued"
            ) from exc
        return {failure["Id"]: f"{failure.get('Code', '')}: {failure.get('Message', '')}" for failure in response.get("Failed", ())}


async def queue(
    hub: ConnectionHub, data: bytes, *, text: bool, room: str | None, read: list[Member], rest: AsyncIterator[list[Member]]
) -> int:
    """Queue the audience (`read` so far, then the rest) in pages; how many connections were queued."""
    pages = Pages(hub, data, text=text, room=room)
    await asyncio.to_thread(sqs_client, hub)  # made once, before the batches that share it
    size = hub.settings.fanout_page
    cut: dict[str, list[str]] = {}  # endpoint -> the ids of its page being filled

    async def take(members: list[Member]) -> None:
        for member in members:
            ids = cut.setdefault(member.endpoint, [])
            ids.append(member.connection_id)
            if len(ids) == size:
                cut[member.endpoint] = []
                await pages.add(member.endpoint, ids)

    try:
        await take(read)
        async for page in rest:
            await take(page)
        for endpoint, ids in cut.items():
            if ids:
                await pages.add(endpoint, ids)
        await pages.finish()
    except BaseException:
        for task in pages.sending:
            task.cancel()
        raise
    logger.info("Broadcast queued for %d connections in %d pages on %s", pages.queued, pages.entries, pages.queue_url)
    return pages.queued


# --- the consumer -----------------------------------------------------------------------------


async def drain(hub: ConnectionHub, pages: list[tuple[str, str]]) -> list[str]:
    """Post every page (message id, body) at once; the ids of the pages that did not all go."""
    delivered = await asyncio.gather(*(deliver(hub, message_id, body) for message_id, body in pages))
    return [message_id for (message_id, _), ok in zip(pages, delivered, strict=True) if not ok]


async def deliver(hub: ConnectionHub, message_id: str, body: str) -> bool:
    try:
        page = json.loads(body)
        data = base64.b64decode(page["data"], validate=True)
        endpoint, ids = page["endpoint"], page["ids"]
        if not isinstance(endpoint, str) or not isinstance(ids, list) or not all(isinstance(item, str) for item in ids):
            raise ValueError("endpoint and ids are not text")
    except (ValueError, KeyError, TypeError) as exc:
        logger.error("Fan-out page %s is not one asgi-lambda queued (%s); reported as failed", message_id, exc)
        return False
    outcomes = await post_all(hub, (Member(connection_id, endpoint, 0) for connection_id in ids), data)
    failed = outcomes.count("failed")
    if failed:
        logger.error("Fan-out page %s: %d of %d posts failed; the page is reported for SQS to deliver again", message_id, failed, len(ids))
        return False
    return True


# --- the client ----------------------------------------------------------------------------------


def sqs_client(hub: ConnectionHub) -> Any:
    """The hub's SQS client, made on first use (boto3, imported now) and reused."""
    if hub.fanout_client is None:
        try:
            import boto3  # type: ignore[import-untyped]
            from botocore.config import Config  # type: ignore[import-untyped]
        except ImportError as exc:
            raise QueueUnavailable(
                f"fan-out queue {hub.settings.fanout_queue_url}: WS_FANOUT_QUEUE_URL needs the 'boto3' package "
                "(in Lambda's runtime; elsewhere pip install boto3)"
            ) from exc

        url = hub.settings.fanout_queue_url or ""
        found = re.match(r"https://(?:sqs\.)?([a-z]{2}(?:-[a-z]+)+-\d)\.", url)
        config = Config(connect_timeout=2, read_timeout=5, retries={"max_attempts": 3, "mode": "standard"}, max_pool_connections=8)
        session = boto3.session.Session()  # its own: boto3's default session is not safe to build clients on from threads
        hub.fanout_client = session.client("sqs", region_name=found.group(1) if found else hub.settings.region, config=config)
    return hub.fanout_client
