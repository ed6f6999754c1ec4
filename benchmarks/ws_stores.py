"""Store round trips per WebSocket event, counted, on each of the six stores.

Real events (tests/events/ws_connect.json, ws_message.json, ws_disconnect.json) go through
`asgi_lambda.Adapter` with a raw ASGI echo app and the WebSocket runtime installed on the store
under test; replies go to the loopback Management API stub of tests/websocket/management_api.py.
Each store is set up as its tests set it up (tests/websocket/fixtures_*.py): PostgreSQL and
Redis on 127.0.0.1, DynamoDB and S3 on moto in server mode, with fake credentials.

Two counts per event, in the second connect-message-disconnect cycle (the first, with the
clients' setup, is summarised in the notes):
- operations, by the hooks the store tests use: botocore's before-send (one per HTTP request,
  retries included) for DynamoDB and S3, asyncpg's Connection query methods for PostgreSQL,
  redis-py's Redis.execute_command for Redis; for memory and SQLite, which have no network,
  the Store's own method calls;
- round trips on the wire, through a counting TCP relay (relay.py) between the store and its
  server, which also sees what no hook does (connection setup, prepared statements, retries).
"""

from __future__ import annotations

import importlib.util
import logging
import os
import socket
import tempfile
import textwrap
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from typing import Any

from asgi_lambda import Adapter
from asgi_lambda.protocols import loop
from asgi_lambda.settings.websocket import WebSocketSettings
from asgi_lambda.stores import Store
from asgi_lambda.websocket.hub import ConnectionHub, install_default

from .relay import RoundTripRelay

# tests.* (pytest, boto3 and moto come with them) are imported inside the functions, after the
# latency and memory sections have run, so those measure a process without them.

CONNECTION_ID = "L0SM9cOFvHcCIhw="  # tests/events/ws_*.json
MESSAGE = b"hello, world"
EVENTS = ("ws_connect", "ws_message", "ws_disconnect")
BACKENDS = ("memory", "sqlite", "postgresql", "redis", "dynamodb", "s3")

# Operations that only read; every other one writes (DeleteItem and the pop script return what they delete).
READS = {
    "load",
    "scan",
    "rooms",
    "members",
    "SELECT",
    "GET",
    "MGET",
    "SCAN",
    "ZSCAN",
    "EVALSHA:ROOMS",
    "GetItem",
    "Scan",
    "Query",
    "GetObject",
    "HeadObject",
    "ListObjectsV2",
}

# (reads, writes) per event in steady state. S3 has no atomic get-and-delete: pop is GetObject,
# a listing of the connection's rooms, then DeleteObject.
EXPECTED: dict[str, tuple[tuple[int, int], ...]] = {name: ((0, 1), (1, 0), (0, 1)) for name in BACKENDS}
EXPECTED["s3"] = ((0, 1), (1, 0), (2, 1))

# How each store is counted, and what its operations are.
HOW = {
    "memory": "Store method calls (no network): save | load | pop",
    "sqlite": "Store method calls (no network; each is one SQL statement on a local file): save | load | pop",
    "postgresql": "statements via asyncpg's Connection query methods: INSERT ... ON CONFLICT | SELECT | DELETE ... RETURNING",
    "redis": "commands via redis-py's Redis.execute_command: SET EX | GET | EVALSHA (the pop script: GET, DEL, its rooms)",
    "dynamodb": "requests via botocore's before-send hook (moto server): PutItem | GetItem (consistent) | DeleteItem ALL_OLD",
    "s3": "requests via botocore's before-send hook (moto server): PutObject | GetObject | GetObject + ListObjectsV2 "
    "(its rooms) + DeleteObject (S3 has no atomic get-and-delete)",
}


# Why the wire shows more round trips than operations, where it does in steady state.
WIRE = {
    "s3": "PutObject takes 2 round trips: botocore turns a bytes Body into a file object and sends any "
    "file-like body with `Expect: 100-continue`, waiting for the 100 before the body (as it would with AWS)",
}

# Why a store opens TCP connections in steady state.
NEW_CONNECTIONS = {
    name: "Each request opens a TCP connection because moto's server (Werkzeug) answers `Connection: close`; "
    "boto3 keeps connections to AWS alive. Handshakes are not counted as round trips"
    for name in ("dynamodb", "s3")
}

# What the first cycle's extra round trips are.
FIRST = {
    "postgresql": "asyncpg connects with an SSL request then the startup message, the store creates its tables "
    "and indexes, and asyncpg prepares each statement the first time it runs on a connection: one more round trip",
    "redis": "redis-py's connection handshake: HELLO 3, CLIENT MAINT_NOTIFICATIONS, CLIENT SETINFO x2 pipelined; "
    "a Lua script's first EVALSHA finds it unknown to the server, which SCRIPT LOAD teaches it once",
}


class Unavailable(Exception):
    """The store's package or server is not there; the row says which."""


async def echo_app(scope: Any, receive: Any, send: Any) -> None:
    """Raw ASGI: accepts, echoes each message back, returns on disconnect."""
    assert scope["type"] == "websocket"
    await receive()  # websocket.connect
    await send({"type": "websocket.accept"})
    while True:
        message = await receive()
        if message["type"] == "websocket.disconnect":
            return
        await send({"type": "websocket.send", "text": message.get("text"), "bytes": message.get("bytes")})


# --- the environment ---------------------------------------------------------------------


@contextmanager
def aws_environment() -> Iterator[None]:
    """Fake credentials (the Management API client signs with them, boto3 needs some) and
    nothing boto3 could follow to AWS; the environment is restored afterwards."""
    from tests.support.aws import CLEARED, CREDENTIALS, REGION

    saved = dict(os.environ)
    with tempfile.TemporaryDirectory() as directory:
        for name in CLEARED:
            os.environ.pop(name, None)
        missing = os.path.join(directory, "no-aws-config")
        os.environ.update(
            AWS_CONFIG_FILE=missing,
            AWS_SHARED_CREDENTIALS_FILE=missing,
            AWS_EC2_METADATA_DISABLED="true",
            AWS_ACCESS_KEY_ID=CREDENTIALS["aws_access_key_id"],
            AWS_SECRET_ACCESS_KEY=CREDENTIALS["aws_secret_access_key"],
            AWS_DEFAULT_REGION=REGION,
        )
        try:
            yield
        finally:
            os.environ.clear()
            os.environ.update(saved)


def require_package(package: str) -> None:
    if importlib.util.find_spec(package) is None:
        raise Unavailable(f"the {package!r} package is not installed")


def require_server(service: str, port: int) -> None:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=1).close()
    except OSError as exc:
        raise Unavailable(f"{service} not reachable at 127.0.0.1:{port} ({exc})") from exc


class Moto:
    """One moto server (ThreadedMotoServer on 127.0.0.1) for DynamoDB and S3, started on first use."""

    def __init__(self) -> None:
        self.server: Any = None
        self.url = ""

    def start(self) -> str:
        if self.server is None:
            require_package("moto")
            from moto.server import ThreadedMotoServer

            logging.getLogger("werkzeug").setLevel(logging.WARNING)  # an access-log line per request otherwise
            server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
            server.start()
            self.server = server
            host, port = server.get_host_and_port()
            self.url = f"http://{host}:{port}"
        return self.url

    @property
    def port(self) -> int:
        return int(self.url.rsplit(":", 1)[1])

    def stop(self) -> None:
        if self.server is not None:
            from tests.support import aws as fixtures_aws

            self.server.stop()
            self.server = None
            for client in fixtures_aws._clients.values():  # the fixtures' raw clients, made by aws_client()
                client.close()
            fixtures_aws._clients.clear()


# --- counting ----------------------------------------------------------------------------


@dataclass
class Recorder:
    ops: list[str] = field(default_factory=list)  # backend operations
    calls: list[str] = field(default_factory=list)  # Store method calls

    def clear(self) -> None:
        self.ops.clear()
        self.calls.clear()


def count_store_calls(store: Store, recorder: Recorder, *, as_ops: bool) -> None:
    """Wrap the store instance's methods: record each call (and as a backend operation too,
    for the stores without a network)."""
    for method in ("save", "load", "update", "pop", "scan", "join", "leave", "rooms"):
        original = getattr(store, method)

        async def counted(*args: Any, _original: Any = original, _method: str = method) -> Any:
            recorder.calls.append(_method)
            if as_ops:
                recorder.ops.append(_method)
            return await _original(*args)

        setattr(store, method, counted)
    members = store.members

    def counted_members(room: str) -> Any:  # an async iterator: counted once per call
        recorder.calls.append("members")
        if as_ops:
            recorder.ops.append("members")
        return members(room)

    store.members = counted_members  # type: ignore[method-assign]


@contextmanager
def count_statements(recorder: Recorder) -> Iterator[None]:
    """Every statement any asyncpg connection sends (the pool's connections call through to these)."""
    import asyncpg  # type: ignore[import-untyped]

    originals = {method: getattr(asyncpg.Connection, method) for method in ("execute", "executemany", "fetch", "fetchrow", "fetchval")}
    for method, original in originals.items():

        def counted(self: Any, query: str, *args: Any, _original: Any = original, **kwargs: Any) -> Any:
            recorder.ops.append(query.split()[0].upper())
            return _original(self, query, *args, **kwargs)

        setattr(asyncpg.Connection, method, counted)
    try:
        yield
    finally:
        for method, original in originals.items():
            setattr(asyncpg.Connection, method, original)


@contextmanager
def count_commands(recorder: Recorder) -> Iterator[None]:
    """Every command any redis.asyncio client sends (every command method goes through execute_command)."""
    import hashlib

    import redis.asyncio
    from redis.asyncio.client import Pipeline

    from asgi_lambda.stores import redis_store

    # The store's Lua scripts by their SHA1, as EVALSHA names them: EVALSHA:JOIN, EVALSHA:POP, ...
    scripts = {hashlib.sha1(getattr(redis_store, name).encode()).hexdigest(): name for name in ("SAVE", "JOIN", "POP", "ROOMS")}
    original = redis.asyncio.Redis.execute_command
    original_execute = Pipeline.execute

    async def counted(self: Any, *args: Any, **options: Any) -> Any:
        command = str(args[0]).upper()
        recorder.ops.append(f"EVALSHA:{scripts.get(str(args[1]), '?')}" if command == "EVALSHA" else command)
        return await original(self, *args, **options)  # type: ignore[no-untyped-call]

    async def counted_pipeline(self: Any, *args: Any, **options: Any) -> Any:
        recorder.ops.append("MULTI/EXEC")  # a transaction: its commands go in one round trip
        return await original_execute(self, *args, **options)

    redis.asyncio.Redis.execute_command = counted  # type: ignore[method-assign]
    Pipeline.execute = counted_pipeline  # type: ignore[method-assign]
    try:
        yield
    finally:
        redis.asyncio.Redis.execute_command = original  # type: ignore[method-assign]
        Pipeline.execute = original_execute  # type: ignore[method-assign]


def count_requests(store: Any, service: str, recorder: Recorder) -> None:
    """Every HTTP request the store's own boto3 client sends, retries included."""

    def counted(event_name: str, **kwargs: Any) -> None:
        recorder.ops.append(event_name.rsplit(".", 1)[1])

    store.client.meta.events.register(f"before-send.{service}", counted)


# --- the stores ----------------------------------------------------------------------------


def setup_store(name: str, stack: ExitStack, recorder: Recorder, moto: Moto) -> tuple[Store, RoundTripRelay | None]:
    """The store, counted, its cleanup on the stack (run in reverse: store, relay, then what it made)."""
    if name == "memory":
        from asgi_lambda.stores.memory import MemoryStore

        memory = MemoryStore()
        count_store_calls(memory, recorder, as_ops=True)
        return memory, None

    if name == "sqlite":
        from asgi_lambda.stores.sqlite import SqliteStore

        directory = stack.enter_context(tempfile.TemporaryDirectory())
        sqlite = SqliteStore(os.path.join(directory, "connections.sqlite3"))
        stack.callback(lambda: loop.run(sqlite.close()))
        count_store_calls(sqlite, recorder, as_ops=True)
        return sqlite, None

    if name == "postgresql":
        require_package("asyncpg")
        from tests.support.services import POSTGRES_DSN, POSTGRES_PORT, drop_table, unique_table

        require_server("PostgreSQL", POSTGRES_PORT)
        from asgi_lambda.stores.postgresql import PostgresStore

        table = unique_table()
        stack.callback(drop_table, table)  # directly, not through the relay
        relay = RoundTripRelay("127.0.0.1", POSTGRES_PORT)
        stack.callback(relay.close)
        postgres = PostgresStore(POSTGRES_DSN.replace(f":{POSTGRES_PORT}/", f":{relay.port}/"), table=table)
        stack.callback(lambda: loop.run(postgres.close()))
        stack.enter_context(count_statements(recorder))
        count_store_calls(postgres, recorder, as_ops=False)
        return postgres, relay

    if name == "redis":
        require_package("redis")
        from tests.support.services import REDIS_PORT, REDIS_URL, delete_keys, unique_prefix

        require_server("Redis", REDIS_PORT)
        from asgi_lambda.stores.redis_store import RedisStore

        prefix = unique_prefix()
        stack.callback(delete_keys, prefix)
        stack.callback(delete_keys, prefix[:-1] + "#")  # the rooms beside the records
        relay = RoundTripRelay("127.0.0.1", REDIS_PORT)
        stack.callback(relay.close)
        redis_store = RedisStore(REDIS_URL.replace(f":{REDIS_PORT}/", f":{relay.port}/"), prefix=prefix)
        stack.callback(lambda: loop.run(redis_store.close()))
        stack.enter_context(count_commands(recorder))
        count_store_calls(redis_store, recorder, as_ops=False)
        return redis_store, relay

    if name in ("dynamodb", "s3"):
        require_package("boto3")
        url = moto.start()
        from tests.support.aws import REGION, aws_client, create_bucket, create_table, delete_bucket

        relay = RoundTripRelay("127.0.0.1", moto.port)
        if name == "dynamodb":
            from asgi_lambda.stores.dynamodb import DynamoDBStore
            from tests.support.aws import create_rooms_table

            table, rooms_table = create_table(url), create_rooms_table(url)
            stack.callback(lambda: aws_client("dynamodb", url).delete_table(TableName=table))
            stack.callback(lambda: aws_client("dynamodb", url).delete_table(TableName=rooms_table))
            stack.callback(relay.close)
            aws_store: Any = DynamoDBStore(table, region=REGION, endpoint_url=f"http://127.0.0.1:{relay.port}", rooms_table=rooms_table)
        else:
            from asgi_lambda.stores.s3 import S3Store

            bucket = create_bucket(url)
            stack.callback(delete_bucket, url, bucket)
            stack.callback(relay.close)
            aws_store = S3Store(bucket, region=REGION, endpoint_url=f"http://127.0.0.1:{relay.port}")
        stack.callback(lambda: loop.run(aws_store.close()))
        count_requests(aws_store, name, recorder)
        count_store_calls(aws_store, recorder, as_ops=False)
        return aws_store, relay

    raise ValueError(name)


# --- the measurement -----------------------------------------------------------------------


@dataclass(frozen=True)
class EventCount:
    ops: tuple[str, ...]
    calls: tuple[str, ...]
    wire: int | None  # round trips through the relay; None without a network
    connections: int  # new TCP connections

    @property
    def reads(self) -> int:
        return sum(op in READS for op in self.ops)

    @property
    def writes(self) -> int:
        return len(self.ops) - self.reads


@dataclass(frozen=True)
class StoreCounts:
    name: str
    first: list[EventCount] = field(default_factory=list)  # the first cycle, with the clients' setup
    steady: list[EventCount] = field(default_factory=list)
    unavailable: str | None = None
    error: str | None = None

    @property
    def passed(self) -> bool | None:
        if self.unavailable:
            return None
        if self.error:
            return False
        # The operations are what the store asks for; the wire is reported beside them, and where
        # it differs the note says why.
        return tuple((count.reads, count.writes) for count in self.steady) == EXPECTED[self.name]


def run_cycle(adapter: Adapter, recorder: Recorder, relay: RoundTripRelay | None, stub: Any, context: Any) -> list[EventCount]:
    from tests.support.events import load_event

    counts = []
    for name in EVENTS:
        recorder.clear()
        if relay is not None:
            relay.take()
        stub.calls.clear()
        response = adapter(load_event(name), context)
        if response.get("statusCode") != 200:
            raise RuntimeError(f"{name} answered {response}")
        if name == "ws_message" and stub.posts() != [(CONNECTION_ID, MESSAGE)]:
            raise RuntimeError(f"the echo did not reach the Management API stub: {stub.posts()}")
        wire, connections = relay.take() if relay is not None else (None, 0)
        counts.append(EventCount(tuple(recorder.ops), tuple(recorder.calls), wire, connections))
    return counts


def measure_store(name: str, stub: Any, moto: Moto, context: Any) -> StoreCounts:
    recorder = Recorder()
    try:
        with ExitStack() as stack:
            try:
                store, relay = setup_store(name, stack, recorder, moto)
            except Unavailable as exc:
                return StoreCounts(name, unavailable=str(exc))
            settings = WebSocketSettings(backend=store.name, store_options={}, path="/ws", endpoint_url=stub.endpoint)
            runtime = ConnectionHub(settings, store=store)
            install_default(runtime)
            stack.callback(install_default, None)
            stack.callback(lambda: [loop.run(gateway.close()) for gateway in runtime.clients.values()])
            adapter = Adapter(echo_app, lifespan="off")
            first = run_cycle(adapter, recorder, relay, stub, context)
            steady = run_cycle(adapter, recorder, relay, stub, context)
            return StoreCounts(name, first, steady)
    except Exception as exc:  # a store that fails is a row that says so, not a crash
        return StoreCounts(name, error=f"{type(exc).__name__}: {exc}")


def measure_stores() -> list[StoreCounts]:
    from tests.support.management_api import ManagementAPIStub

    from .events import FakeContext

    context = FakeContext()
    moto = Moto()
    with aws_environment():
        stub = ManagementAPIStub()
        try:
            return [measure_store(name, stub, moto, context) for name in BACKENDS]
        finally:
            stub.close()
            moto.stop()


# --- the report ------------------------------------------------------------------------------


def rw(count: EventCount) -> str:
    return f"{count.reads}r {count.writes}w"


def wire(counts: list[EventCount]) -> str:
    return "-" if counts[0].wire is None else " / ".join(str(count.wire) for count in counts)


def expected(name: str) -> str:
    return " / ".join(f"{reads}r {writes}w" for reads, writes in EXPECTED[name])


def note(result: StoreCounts) -> str:
    """How the store was counted, what its operations were, where the wire differs and why, and
    what the first cycle cost more."""
    if result.unavailable or result.error:
        return wrap(f"{result.name}: {'unavailable' if result.unavailable else 'error'}: {result.unavailable or result.error}")
    ops = " | ".join(" + ".join(count.ops) for count in result.steady)
    text = f"{result.name}: {HOW[result.name]}. Counted: {ops}."
    if any(count.wire not in (None, len(count.ops)) for count in result.steady) and result.name in WIRE:
        text += f" Wire: {WIRE[result.name]}."
    if any(count.connections for count in result.steady) and result.name in NEW_CONNECTIONS:
        text += f" {NEW_CONNECTIONS[result.name]}."
    extra = []
    if [count.ops for count in result.first] != [count.ops for count in result.steady]:
        extra.append("operations " + " | ".join(" + ".join(count.ops) for count in result.first))
    if [(count.wire, count.connections) for count in result.first] != [(count.wire, count.connections) for count in result.steady]:
        opened = sum(count.connections for count in result.first)
        extra.append(f"wire {wire(result.first)} on {opened} new TCP connection{'s' if opened != 1 else ''}")
    if extra:
        text += " First cycle, clients made on first use: " + "; ".join(extra)
        text += f" ({FIRST[result.name]})." if result.name in FIRST else "."
    return wrap(text)


def wrap(text: str) -> str:
    return textwrap.fill(text, width=110, initial_indent="   ", subsequent_indent="     ", break_on_hyphens=False)
