"""A broadcast to 100,000 connections through fan-out over SQS, timed.

The connections are in the memory store; the queue is the moto server's SQS, in this process;
the Management API is benchmarks/fast_stub.py in a process of its own, answering each POST after
5 ms. Measured:

- queueing: `broadcast()` in the invocation, from the store's read to the last SendMessageBatch;
- one invocation: the same broadcast without a queue, in a process of its own, posting all of
  them (32 at a time: the client's bound per endpoint);
- the drain: the queued pages received from SQS and handed, as Lambda SQS events of 10, to
  CONSUMERS processes at once, each as one Lambda environment posting its share;
- each consumer alone: the same shares one at a time. On Lambda every consumer has a CPU of its
  own; here ten share two cores, so the drain at once is also bound by this machine's CPU, and the
  slowest consumer alone is what ten environments would take (SQS's own delivery aside).

Every connection must get the message exactly once (the stub counts posts and distinct ids).
"""

from __future__ import annotations

import json
import multiprocessing
import os
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass, field
from typing import Any

from asgi_lambda.protocols import loop
from asgi_lambda.settings.websocket import WebSocketSettings
from asgi_lambda.stores.memory import MemoryStore
from asgi_lambda.stores.record import ConnectionRecord
from asgi_lambda.websocket import broadcast
from asgi_lambda.websocket.hub import ConnectionHub, install_default

from .ws_stores import Moto, Unavailable, aws_environment

DELAY_MS = 5
MESSAGE = "news for 100,000"
QUEUE_TARGET_S = 5.0  # queueing 100,000 in the invocation
DRAIN_RATIO_TARGET = 1 / 8  # the drain with 10 consumers against one invocation


@dataclass(frozen=True)
class FanoutScale:
    connections: int
    consumers: int
    page: int = 500


@dataclass
class FanoutResult:
    scale: FanoutScale
    queue_s: float = 0.0
    pages: int = 0
    one_invocation_s: float = 0.0
    together_s: float = 0.0
    alone_s: list[float] = field(default_factory=list)
    lost: int = 0
    duplicated: int = 0
    unavailable: str | None = None
    error: str | None = None

    @property
    def slowest_alone_s(self) -> float:
        return max(self.alone_s) if self.alone_s else 0.0

    @property
    def passed(self) -> bool | None:
        if self.unavailable:
            return None
        if self.error:
            return False
        return (
            self.queue_s <= QUEUE_TARGET_S * self.scale.connections / 100_000
            and self.slowest_alone_s <= DRAIN_RATIO_TARGET * self.one_invocation_s
            and self.lost == 0
            and self.duplicated == 0
        )


class FastStub:
    """benchmarks/fast_stub.py in a child process."""

    def __init__(self, delay_ms: int) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "benchmarks.fast_stub", str(delay_ms)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
        )
        assert self.process.stdout is not None
        self.port = int(self.process.stdout.readline())
        self.endpoint = f"http://127.0.0.1:{self.port}/prod"

    def counts(self) -> tuple[int, int]:
        with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/count") as response:  # noqa: S310 (loopback)
            counts = json.loads(response.read())
        return counts["posts"], counts["ids"]

    def reset(self) -> None:
        urllib.request.urlopen(f"http://127.0.0.1:{self.port}/reset").close()  # noqa: S310

    def close(self) -> None:
        assert self.process.stdin is not None
        self.process.stdin.close()
        self.process.wait(timeout=10)


def records(count: int, endpoint: str) -> list[ConnectionRecord]:
    expires_at = int(time.time()) + 3600
    return [ConnectionRecord(f"conn-{index:06d}=", endpoint=endpoint, scope={}, expires_at=expires_at) for index in range(count)]


def store_of(count: int, endpoint: str) -> MemoryStore:
    store = MemoryStore()
    store.records = {record.connection_id: record.to_json() for record in records(count, endpoint)}
    return store


# --- what runs in the child processes (spawned: each a fresh interpreter, as a Lambda environment) ---


def consume(events: list[dict[str, Any]], endpoint: str, ready: Any, start: Any, done: Any) -> None:
    """One consumer: an adapter, the events one invocation after another; its time on `done`."""
    from asgi_lambda import Adapter

    async def app(scope: Any, receive: Any, send: Any) -> None:  # never called: the pages are the layer's
        raise AssertionError("a fan-out page reached the app")

    install_default(ConnectionHub(WebSocketSettings(backend="memory", store_options={}, endpoint_url=endpoint), store=MemoryStore()))
    handler = Adapter(app, lifespan="off")
    ready.put(os.getpid())
    start.wait()
    started = time.perf_counter()
    failures = [failure for event in events for failure in handler(event, None)["batchItemFailures"]]
    done.put((time.perf_counter() - started, len(failures)))


def post_everything(count: int, endpoint: str, ready: Any, start: Any, done: Any) -> None:
    """One invocation broadcasting to every connection itself, without a queue."""
    store = store_of(count, endpoint)
    install_default(ConnectionHub(WebSocketSettings(backend="memory", store_options={}, endpoint_url=endpoint), store=store))
    ready.put(os.getpid())
    start.wait()
    started = time.perf_counter()
    delivered = loop.run(broadcast(MESSAGE))
    done.put((time.perf_counter() - started, count - delivered))


def in_processes(target: Any, jobs: list[tuple[Any, ...]]) -> tuple[float, list[tuple[float, int]]]:
    """Run each job in a spawned process, all started at once once they are ready: the wall time
    from the start to the last one done, and what each reported."""
    context = multiprocessing.get_context("spawn")
    ready, start, done = context.Queue(), context.Event(), context.Queue()
    processes = [context.Process(target=target, args=(*job, ready, start, done)) for job in jobs]
    for process in processes:
        process.start()
    for _ in processes:  # their imports and setup, before the start
        ready.get(timeout=120)
    time.sleep(0.5)  # and the machine quiet again
    started = time.perf_counter()
    start.set()
    reports = [done.get(timeout=600) for _ in processes]
    wall = time.perf_counter() - started
    for process in processes:
        process.join(timeout=30)
    return wall, reports


# --- the measurement ------------------------------------------------------------------------------


def lambda_events(messages: list[dict[str, Any]], queue_name: str) -> list[dict[str, Any]]:
    """The messages as Lambda SQS events of 10, as an event source mapping delivers them."""
    from tests.support.sqs import Queue

    shaper = Queue.__new__(Queue)  # only its record shaping: no queue is made
    shaper.arn = f"arn:aws:sqs:us-east-1:123456789012:{queue_name}"
    return [shaper.event(messages[start : start + 10]) for start in range(0, len(messages), 10)]


def check(stub: FastStub, expected: int, result: FanoutResult, what: str) -> None:
    posts, ids = stub.counts()
    result.lost += expected - ids
    result.duplicated += posts - ids
    if (posts, ids) != (expected, expected):
        raise RuntimeError(f"{what}: {posts} posts to {ids} connections, expected {expected}")
    stub.reset()


def measure_fanout(scale: FanoutScale) -> FanoutResult:
    result = FanoutResult(scale)
    moto = Moto()
    stub: FastStub | None = None
    try:
        with aws_environment():
            try:
                url = moto.start()
            except Unavailable as exc:
                result.unavailable = str(exc)
                return result
            os.environ["AWS_ENDPOINT_URL_SQS"] = url
            from tests.support.aws import aws_client, unique

            sqs = aws_client("sqs", url)
            name = unique("fanout")
            queue_url = sqs.create_queue(QueueName=name)["QueueUrl"]
            stub = FastStub(DELAY_MS)
            settings = WebSocketSettings(
                backend="memory", store_options={}, endpoint_url=stub.endpoint, fanout_queue_url=queue_url, fanout_page=scale.page
            )
            hub = ConnectionHub(settings, store=store_of(scale.connections, stub.endpoint))
            install_default(hub)
            try:
                started = time.perf_counter()
                queued = loop.run(broadcast(MESSAGE))
                result.queue_s = time.perf_counter() - started
            finally:
                loop.run(hub.close())
                install_default(None)
            if queued != scale.connections:
                raise RuntimeError(f"queued {queued} of {scale.connections}")
            messages: list[dict[str, Any]] = []
            while batch := sqs.receive_message(
                QueueUrl=queue_url, MaxNumberOfMessages=10, MessageAttributeNames=["All"], VisibilityTimeout=900
            ).get("Messages", []):
                messages.extend(batch)
            result.pages = len(messages)
            events = lambda_events(messages, name)
            shares = [events[index :: scale.consumers] for index in range(scale.consumers)]

            result.together_s, reports = in_processes(consume, [(share, stub.endpoint) for share in shares])
            if any(failed for _, failed in reports):
                raise RuntimeError(f"consumers reported failed pages: {reports}")
            check(stub, scale.connections, result, "the drain")
            for share in filter(None, shares):
                _, [(took, failed)] = in_processes(consume, [(share, stub.endpoint)])
                result.alone_s.append(took)
                stub.reset()
            _, [(took, missed)] = in_processes(post_everything, [(scale.connections, stub.endpoint)])
            result.one_invocation_s = took
            check(stub, scale.connections, result, "one invocation")
            sqs.delete_queue(QueueUrl=queue_url)
    except Exception as exc:
        result.error = f"{type(exc).__name__}: {exc}"
    finally:
        if stub is not None:
            stub.close()
        moto.stop()
    return result
