"""Rooms and sessions on each of the six stores: the round trips of each operation, and a room's
broadcast against a broadcast to everyone.

Operations are counted as section 4 counts events (ws_stores.py: the hooks in each store's client
library, and the counting relay for the wire), in steady state, on a connection in one room:
$connect joining a room and filling the session; a message that changes nothing; a message that
changes the session; join and leave from an HTTP handler (the connection read first); a room's
members (one page); $disconnect.

The broadcasts: CONNECTIONS stored connections, MEMBERS of them in one room; `broadcast(room=)`
reads only the room's members (an indexed read a page), `broadcast()` reads every connection (a
Scan, a SCAN, a listing and a GET each on S3). Posts go to the loopback stub, which answers at
once: the difference is the store's.
"""

from __future__ import annotations

import asyncio
import time
from contextlib import ExitStack
from dataclasses import dataclass, field
from typing import Any

from asgi_lambda import Adapter
from asgi_lambda.protocols import loop
from asgi_lambda.settings.websocket import WebSocketSettings
from asgi_lambda.stores import Store
from asgi_lambda.stores.record import ConnectionRecord
from asgi_lambda.websocket import broadcast, join, leave
from asgi_lambda.websocket.hub import ConnectionHub, install_default

from .ws_stores import BACKENDS, CONNECTION_ID, READS, Moto, Recorder, Unavailable, aws_environment, setup_store

OPERATIONS = (
    "connect, a room joined, the session set",
    "message, nothing changed",
    "message, the session changed",
    "join from an HTTP handler",
    "leave from an HTTP handler",
    "a room's members, one page",
    "disconnect, in one room",
)

# (reads, writes) per operation, in OPERATIONS' order. S3 writes one object at a time (a room is two:
# the membership and the connection's index of its rooms) and checks the record before a join.
EXPECTED: dict[str, tuple[tuple[int, int], ...]] = {name: ((0, 1), (1, 0), (1, 1), (1, 1), (1, 1), (1, 0), (0, 1)) for name in BACKENDS}
EXPECTED["dynamodb"] = ((0, 1), (1, 0), (1, 1), (1, 1), (1, 1), (1, 0), (0, 2))
EXPECTED["s3"] = ((0, 3), (1, 0), (1, 1), (2, 2), (1, 1), (1, 0), (2, 2))

HOW = {
    "dynamodb": "connect: TransactWriteItems (the item and its membership); session: UpdateItem conditioned on the item; "
    "join: TransactWriteItems (ADD to the item's set, if it is there, and the membership); members: Query; disconnect: "
    "DeleteItem refused for having rooms (the refusal returns the item), then TransactWriteItems",
    "redis": "connect: EVALSHA (the save script); session: SET XX KEEPTTL; join: EVALSHA; leave: MULTI/EXEC; members: "
    "ZSCAN; disconnect: EVALSHA (the pop script)",
    "postgresql": "connect: one INSERT with its memberships in a CTE; join: INSERT ... SELECT of the live row; "
    "disconnect: DELETE, the memberships by ON DELETE CASCADE",
    "s3": "connect: PutObject x3; join: GetObject (the load), HeadObject, PutObject x2; leave: DeleteObjects; members: "
    "ListObjectsV2; disconnect: GetObject, ListObjectsV2, DeleteObjects, DeleteObject",
}


async def rooms_app(scope: Any, receive: Any, send: Any) -> None:
    """Raw ASGI: at connect joins "lobby" and names itself in the session; "nick X" renames."""
    session = scope["aws.session"]
    await receive()
    await send({"type": "websocket.accept"})
    await join(scope["aws.connection_id"], "lobby")
    session.setdefault("nick", "Ada")
    while True:
        message = await receive()
        if message["type"] == "websocket.disconnect":
            return
        text = message.get("text") or ""
        if text.startswith("nick "):
            session["nick"] = text[5:]


@dataclass
class OperationCounts:
    name: str
    ops: list[tuple[str, ...]] = field(default_factory=list)
    wire: list[int | None] = field(default_factory=list)
    unavailable: str | None = None
    error: str | None = None

    def rw(self, index: int) -> tuple[int, int]:
        reads = sum(op in READS for op in self.ops[index])
        return reads, len(self.ops[index]) - reads

    @property
    def passed(self) -> bool | None:
        if self.unavailable:
            return None
        if self.error or len(self.ops) != len(OPERATIONS):
            return False
        return tuple(self.rw(index) for index in range(len(OPERATIONS))) == EXPECTED[self.name]


def operations(adapter: Adapter, store: Store, context: Any) -> list[Any]:
    """The operations, in OPERATIONS' order: each a callable."""
    from tests.support.events import load_event

    def event(name: str, **changes: Any) -> Any:
        def run() -> None:
            loaded = load_event(name)
            loaded.update(changes)
            response = adapter(loaded, context)
            if response.get("statusCode") != 200:
                raise RuntimeError(f"{name} answered {response}")

        return run

    async def members() -> None:
        async for _ in store.members("lobby"):
            pass

    return [
        event("ws_connect"),
        event("ws_message", body="hello"),
        event("ws_message", body="nick Ada L"),
        lambda: loop.run(join(CONNECTION_ID, "room-2")),
        lambda: loop.run(leave(CONNECTION_ID, "room-2")),
        lambda: loop.run(members()),
        event("ws_disconnect"),
    ]


def measure_operations_on(name: str, stub: Any, moto: Moto, context: Any) -> OperationCounts:
    recorder = Recorder()
    result = OperationCounts(name)
    try:
        with ExitStack() as stack:
            try:
                store, relay = setup_store(name, stack, recorder, moto)
            except Unavailable as exc:
                result.unavailable = str(exc)
                return result
            hub = hub_for(store, stub.endpoint, stack)
            adapter = Adapter(rooms_app, lifespan="off")
            for cycle in (1, 2):  # the first makes the clients (and loads the scripts, makes the tables)
                for run in operations(adapter, hub.store, context):
                    recorder.clear()
                    if relay is not None:
                        relay.take()
                    run()
                    if cycle == 2:
                        result.ops.append(tuple(recorder.ops))
                        result.wire.append(relay.take()[0] if relay is not None else None)
    except Exception as exc:  # a store that fails is a row that says so, not a crash
        result.error = f"{type(exc).__name__}: {exc}"
    return result


def hub_for(store: Store, endpoint: str, stack: ExitStack, **settings: Any) -> ConnectionHub:
    hub = ConnectionHub(WebSocketSettings(backend=store.name, store_options={}, path="/ws", endpoint_url=endpoint, **settings), store=store)
    install_default(hub)
    stack.callback(install_default, None)
    stack.callback(lambda: [loop.run(client.close()) for client in hub.clients.values()])
    return hub


def measure_operations() -> list[OperationCounts]:
    from tests.support.management_api import ManagementAPIStub

    from .events import FakeContext

    moto = Moto()
    with aws_environment():
        stub = ManagementAPIStub()
        try:
            return [measure_operations_on(name, stub, moto, FakeContext()) for name in BACKENDS]
        finally:
            stub.close()
            moto.stop()


# --- a room's broadcast against everyone's -------------------------------------------------------


@dataclass(frozen=True)
class RoomScale:
    connections: int
    members: int


@dataclass
class RoomBroadcast:
    name: str
    scale: RoomScale
    room_s: float = 0.0
    all_s: float = 0.0
    room_ops: tuple[str, ...] = ()
    all_ops: tuple[str, ...] = ()
    room_wire: int | None = None
    all_wire: int | None = None
    unavailable: str | None = None
    error: str | None = None

    @property
    def passed(self) -> bool | None:
        """The room's read is indexed: no Scan, SCAN or listing of the connections, and reads
        only a page's worth of requests."""
        if self.unavailable:
            return None
        if self.error:
            return False
        scans = {"scan", "Scan", "SCAN", "MGET"}
        return not scans & set(self.room_ops) and self.room_s < self.all_s


def seed(store: Store, endpoint: str, scale: RoomScale) -> None:
    expires_at = int(time.time()) + 3600

    async def save_all() -> None:
        records = [
            ConnectionRecord(
                f"conn-{index:05d}=",
                endpoint=endpoint,
                scope={},
                expires_at=expires_at,
                rooms=["room-1"] if index % (scale.connections // scale.members) == 0 else [],
            )
            for index in range(scale.connections)
        ]
        # Members one at a time: moto's TransactWriteItems is not safe to run concurrently (it copies
        # the table while another request changes it); the rest 64 at a time.
        for record in records:
            if record.rooms:
                await store.save(record)
        others = [record for record in records if not record.rooms]
        for start in range(0, len(others), 64):
            await asyncio.gather(*(store.save(record) for record in others[start : start + 64]))

    loop.run(save_all())


def measure_room_on(name: str, scale: RoomScale, stub: Any, moto: Moto) -> RoomBroadcast:
    recorder = Recorder()
    result = RoomBroadcast(name, scale)
    try:
        with ExitStack() as stack:
            try:
                store, relay = setup_store(name, stack, recorder, moto)
            except Unavailable as exc:
                result.unavailable = str(exc)
                return result
            hub_for(store, stub.endpoint, stack)
            seed(store, stub.endpoint, scale)
            for room in ("room-1", None):
                recorder.clear()
                if relay is not None:
                    relay.take()
                stub.calls.clear()
                started = time.perf_counter()
                delivered = loop.run(broadcast("news", room=room))
                took = time.perf_counter() - started
                expected = scale.members if room else scale.connections
                if delivered != expected or len(stub.calls) != expected:
                    raise RuntimeError(f"broadcast to {room or 'everyone'} reached {delivered} ({len(stub.calls)} posts), not {expected}")
                ops = tuple(recorder.ops)
                wire = relay.take()[0] if relay is not None else None
                if room:
                    result.room_s, result.room_ops, result.room_wire = took, ops, wire
                else:
                    result.all_s, result.all_ops, result.all_wire = took, ops, wire
    except Exception as exc:
        result.error = f"{type(exc).__name__}: {exc}"
    return result


def measure_room_broadcasts(scale: RoomScale) -> list[RoomBroadcast]:
    from tests.support.management_api import ManagementAPIStub

    moto = Moto()
    with aws_environment():
        stub = ManagementAPIStub()
        try:
            return [measure_room_on(name, scale, stub, moto) for name in BACKENDS]
        finally:
            stub.close()
            moto.stop()


def summary(ops: tuple[str, ...]) -> str:
    """Operations counted by kind: "Query x2", "Scan x1 + GetObject x10,000"."""
    counted: dict[str, int] = {}
    for op in ops:
        counted[op] = counted.get(op, 0) + 1
    return " + ".join(f"{op} x{count:,}" for op, count in counted.items()) or "-"
