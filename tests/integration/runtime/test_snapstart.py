"""SnapStart through the layer and both runtime clients (the layer's own, and the managed runtime's
awslambdaric with ASGI_RUNTIME=managed): the client runs the hooks registered with
snapshot_restore_py, then calls GET /restore/next, which the emulator holds as Lambda holds it while
it snapshots; the test then looks at the servers' connection lists and answers it, as a restore does.

The app's own before-snapshot hook (PAUSE) runs before the layer's, so the test can see what was
open before the layer closed it. A snapshot the process goes on from keeps its sockets working, so
these tests assert the layer closed them, as a real snapshot would have made them useless.
"""

from __future__ import annotations

import importlib.util
import json
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

import pytest

from asgi_lambda.docs import fix
from asgi_lambda.protocols import loop
from tests.support import parallel
from tests.support.events import load_event
from tests.support.management_api import ManagementAPIStub
from tests.support.runtime.harness import FunctionProcess
from tests.support.runtime.layer import RUNTIME_CLIENTS, answer, function
from tests.support.runtime.sockets import peers
from tests.support.services import (
    POSTGRES_HINT,
    POSTGRES_PORT,
    REDIS_HINT,
    REDIS_PORT,
    create_database,
    drop_database,
    listening,
    require_package,
    require_server,
)

T = TypeVar("T")

SNAPSTART = {"AWS_LAMBDA_INITIALIZATION_TYPE": "snap-start"}
# The stores' default table and key prefix, in a PostgreSQL database and a Redis database of this
# process's own (tests/support/parallel.py): xdist's workers, the interpreters side by side and
# other checkouts' runs never share them. own_databases() makes both before the tests.
DATABASE = parallel.name("asgi_lambda_snapstart")
POSTGRES = f"postgresql://postgres@127.0.0.1:{POSTGRES_PORT}/{DATABASE}"
REDIS = f"redis://127.0.0.1:{REDIS_PORT}/<taken by own_databases>"

PAUSE = """
    import pathlib, time
    from snapshot_restore_py import register_before_snapshot

    @register_before_snapshot
    def pause_at_the_snapshot():  # registered after the layer's hooks, so it runs before them
        pathlib.Path("snapshot-requested").touch()
        while not pathlib.Path("snapshot-go").exists():
            time.sleep(0.01)
"""


def wait_for(path: Path, fn: FunctionProcess, timeout: float = 20) -> None:
    deadline = time.monotonic() + timeout
    while not path.exists():
        assert fn.returncode is None and time.monotonic() < deadline, f"no {path.name}\n{fn.logs()}"
        time.sleep(0.01)


def snapshot_and_restore(fn: FunctionProcess, tmp_path: Path, observe: Callable[[], T]) -> tuple[T, T]:
    """What `observe` sees before the layer's before-snapshot hook and at the snapshot (the runtime waiting
    on /restore/next); then the restore."""
    task = tmp_path / "task"
    wait_for(task / "snapshot-requested", fn)
    before = observe()
    (task / "snapshot-go").touch()
    assert fn.api.snapshot.wait(timeout=20), fn.logs()
    at_snapshot = observe()
    fn.api.snapshot.restore()
    return before, at_snapshot


# -- the servers' views of the function's connections ------------------------------------------------------


def postgres_backends(application_name: str) -> set[int]:
    """The server processes of the sessions opened with this application_name."""
    import asyncpg  # type: ignore[import-untyped]

    async def query() -> set[int]:
        connection = await asyncpg.connect(POSTGRES, timeout=5)
        try:
            rows = await connection.fetch("SELECT pid FROM pg_stat_activity WHERE application_name = $1", application_name)
        finally:
            await connection.close()
        return {row["pid"] for row in rows}

    return loop.run(query())


def redis_clients(name: str) -> set[int]:
    """The ids of the clients connected under this name (CLIENT LIST)."""
    import redis

    client = redis.Redis.from_url(REDIS)
    try:
        return {int(entry["id"]) for entry in client.client_list() if entry.get("name") == name}
    finally:
        client.close()


def drop_postgres_table() -> None:
    import asyncpg

    async def drop() -> None:
        connection = await asyncpg.connect(POSTGRES, timeout=5)
        try:
            await connection.execute("DROP TABLE IF EXISTS asgi_lambda_connections_rooms, asgi_lambda_connections")
        finally:
            await connection.close()

    loop.run(drop())


def flush_redis() -> None:
    import redis

    client = redis.Redis.from_url(REDIS)
    try:
        client.flushdb()
    finally:
        client.close()


@pytest.fixture(scope="module", autouse=True)
def own_databases() -> Iterator[None]:
    """DATABASE made, and a Redis database taken and emptied, for this module's tests, where the
    servers are there (the tests that need one say so when it is not)."""
    global REDIS
    if importlib.util.find_spec("redis") and listening(REDIS_PORT):
        REDIS = f"redis://127.0.0.1:{REDIS_PORT}/{parallel.redis_database()}"
        flush_redis()  # what a killed run may have left there
    made = bool(importlib.util.find_spec("asyncpg") and listening(POSTGRES_PORT))
    if made:
        create_database(DATABASE)
    yield
    if made:
        drop_database(DATABASE)


@pytest.fixture
def stub() -> Iterator[ManagementAPIStub]:
    stub = ManagementAPIStub()
    yield stub
    stub.close()


# -- the stores -------------------------------------------------------------------------------------------

STORE_APP = (
    PAUSE
    + """
    import asgi_lambda

    async def app(scope, receive, send):
        if scope["type"] == "lifespan":
            await receive()
            await asgi_lambda.broadcast("warming up")  # reaches the store: a connection opened during init
            await send({"type": "lifespan.startup.complete"})
            await receive()
            await send({"type": "lifespan.shutdown.complete"})
            return
        while True:
            message = await receive()
            if message["type"] == "websocket.connect":
                await send({"type": "websocket.accept"})
            elif message["type"] == "websocket.receive":
                await send({"type": "websocket.send", "text": "echo: " + message["text"]})
            else:
                return
"""
)


@pytest.mark.parametrize("backend", ["postgresql", "redis"])
def test_a_store_closes_its_connections_before_the_snapshot_and_opens_new_ones_after_the_restore(
    tmp_path: Path, layer_zip: Path, stub: ManagementAPIStub, backend: str
) -> None:
    name = f"snapstart-{uuid.uuid4().hex[:8]}"
    if backend == "postgresql":
        require_package("asyncpg", "postgresql")
        require_server("PostgreSQL", POSTGRES_PORT, POSTGRES_HINT)
        env = {"WS_BACKEND": "postgresql", "WS_POSTGRES_DSN": f"{POSTGRES}?application_name={name}"}
        connections, clean = (lambda: postgres_backends(name)), drop_postgres_table
    else:
        require_package("redis", "redis")
        require_server("Redis", REDIS_PORT, REDIS_HINT)
        env = {"WS_BACKEND": "redis", "WS_REDIS_URL": f"{REDIS}?client_name={name}"}
        connections, clean = (lambda: redis_clients(name)), flush_redis
    try:
        with function(tmp_path, layer_zip, source=STORE_APP, env={**SNAPSTART, **env, "WS_ENDPOINT_URL": stub.endpoint}) as fn:
            before, at_snapshot = snapshot_and_restore(fn, tmp_path, connections)
            outcomes = [fn.invoke(load_event(event)).payload for event in ("ws_connect", "ws_message", "ws_disconnect")]
            after = connections()
    finally:
        clean()

    assert len(before) == 1  # the startup's broadcast read the store
    assert at_snapshot == set()  # closed by the layer's hook, before the snapshot
    assert outcomes == [{"statusCode": 200}] * 3
    assert stub.posts() == [("L0SM9cOFvHcCIhw=", b"echo: hello, world")]
    assert after and not after & before  # the restored function's own connections


# -- the app's lifespan -----------------------------------------------------------------------------------

POOL_APP = (
    PAUSE
    + """
    import json, os, pathlib
    import asyncpg

    startups = 0

    async def app(scope, receive, send):
        global startups
        if scope["type"] == "lifespan":
            await receive()
            startups += 1
            pathlib.Path("startup-ran").touch()
            scope["state"]["pool"] = await asyncpg.create_pool(os.environ["APP_DSN"], min_size=1, max_size=2)
            await send({"type": "lifespan.startup.complete"})
            await receive()
            await scope["state"]["pool"].close()
            await send({"type": "lifespan.shutdown.complete"})
            return
        await receive()
        backend = await scope["state"]["pool"].fetchval("SELECT pg_backend_pid()")
        body = json.dumps({"startups": startups, "backend": backend}).encode()
        await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"application/json")]})
        await send({"type": "http.response.body", "body": body})
"""
)


@pytest.mark.parametrize("client", list(RUNTIME_CLIENTS))
@pytest.mark.parametrize("placement", ["init", "restore"])
def test_an_app_whose_lifespan_opens_a_pool_works_with_startup_at_init_or_at_restore(
    tmp_path: Path, layer_zip: Path, placement: str, client: str
) -> None:
    require_package("asyncpg", "postgresql")
    require_server("PostgreSQL", POSTGRES_PORT, POSTGRES_HINT)
    name = f"snapstart-app-{uuid.uuid4().hex[:8]}"
    env = {**SNAPSTART, **RUNTIME_CLIENTS[client], "ASGI_SNAPSTART_LIFESPAN": placement, "APP_DSN": f"{POSTGRES}?application_name={name}"}
    started = tmp_path / "task" / "startup-ran"

    def observe() -> tuple[bool, set[int]]:
        return started.exists(), postgres_backends(name)

    with function(tmp_path, layer_zip, source=POOL_APP, env=env) as fn:
        before, at_snapshot = snapshot_and_restore(fn, tmp_path, observe)
        bodies = [json.loads(answer(fn, load_event("http_api_v2_get"))["body"]) for _ in range(2)]
        after = postgres_backends(name)

    if placement == "init":
        assert before[0] and len(before[1]) == 1  # startup ran in the init, its pool connected
        assert at_snapshot == (True, set())  # and the layer closed the pool's connection before the snapshot
    else:
        assert before == at_snapshot == (False, set())  # nothing of the app's started before the snapshot
    assert [body["startups"] for body in bodies] == [1, 1]
    assert {body["backend"] for body in bodies} <= after  # the pool reconnected after the restore, by itself,
    assert not after & before[1]  # on new connections


DEFAULT_POOL_APP = """
    import os
    import asyncpg

    async def app(scope, receive, send):
        if scope["type"] == "lifespan":
            await receive()
            scope["state"]["pool"] = await asyncpg.create_pool(os.environ["APP_DSN"], min_size=2)
            await send({"type": "lifespan.startup.complete"})
            await receive()
            await scope["state"]["pool"].close()
            await send({"type": "lifespan.shutdown.complete"})
            return
        await receive()
        value = await scope["state"]["pool"].fetchval("SELECT 42")
        await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"text/plain")]})
        await send({"type": "http.response.body", "body": str(value).encode()})
"""


@pytest.mark.parametrize("client", list(RUNTIME_CLIENTS))
def test_a_pool_that_keeps_a_floor_of_connections_has_none_open_at_the_snapshot(tmp_path: Path, layer_zip: Path, client: str) -> None:
    # asyncpg's pool reopens connections to keep min_size: while the layer closes them, its maintenance task
    # opens new ones. PostgreSQL does not list a connection still in its handshake: /proc does.
    require_package("asyncpg", "postgresql")
    require_server("PostgreSQL", POSTGRES_PORT, POSTGRES_HINT)
    env = {**SNAPSTART, **RUNTIME_CLIENTS[client], "APP_DSN": POSTGRES}
    with function(tmp_path, layer_zip, source=DEFAULT_POOL_APP, env=env) as fn:
        assert fn.api.snapshot.wait(timeout=20), fn.logs()
        time.sleep(0.2)  # what the kernel completes on its own meanwhile (a TCP handshake) counts too
        at_snapshot = peers(fn.proc.pid, POSTGRES_PORT)
        fn.api.snapshot.restore()
        answered = answer(fn, load_event("http_api_v2_get"))
        after = peers(fn.proc.pid, POSTGRES_PORT)

    assert at_snapshot == [], fn.logs()
    assert answered["body"] == "42"
    assert "ESTABLISHED" in after  # the pool connected again after the restore


FAILING_STARTUP = """
    async def app(scope, receive, send):
        await receive()
        await send({"type": "lifespan.startup.failed", "message": "database unreachable"})
"""


@pytest.mark.parametrize("client", list(RUNTIME_CLIENTS))
def test_a_startup_failing_after_the_restore_fails_the_restore(tmp_path: Path, layer_zip: Path, client: str) -> None:
    env = {**SNAPSTART, **RUNTIME_CLIENTS[client], "ASGI_SNAPSTART_LIFESPAN": "restore"}
    with function(tmp_path, layer_zip, source=FAILING_STARTUP, env=env) as fn:
        assert fn.api.snapshot.wait(timeout=20), fn.logs()  # the init itself succeeded
        fn.api.snapshot.restore()
        error = fn.api.snapshot.wait_error(timeout=20)
        assert fn.wait(timeout=10) == 65, fn.logs()  # awslambdaric's exit code for a failed restore, and ours

    assert error is not None and (error["errorType"], error["errorMessage"]) == (
        "LifespanFailure",
        "Application startup failed: database unreachable" + fix("lifespan-startup-failed"),
    )


# -- uniqueness -------------------------------------------------------------------------------------------

# Two restores of one snapshot: the process forks where Lambda snapshots, once the client has run the
# before-snapshot hooks and asks for /restore/next, so both copies start from the same memory, as two
# environments restored from one snapshot do, except for what fork does on its own: it reseeds `random` in
# the child, which is undone here, and the copies share the loop's epoll and self-pipe, which a microVM
# restore would copy (nothing these requests do uses them).
FORKING_APP = """
    import asyncio, json, os, pathlib, random

    def fork():
        state = random.getstate()
        if os.fork() == 0:
            # os.fork reseeds `random` in the child (random's at-fork hook); a restored snapshot gets no such thing.
            random.setstate(state)

    if os.environ.get("ASGI_RUNTIME") == "managed":
        import awslambdaric.lambda_runtime_client as runtime_client

        restore_next = runtime_client.LambdaRuntimeClient.restore_next

        def fork_then_restore_next(self):
            fork()
            return restore_next(self)

        runtime_client.LambdaRuntimeClient.restore_next = fork_then_restore_next
    else:
        from asgi_lambda.runtime import api

        request = api.RuntimeConnection.request

        def fork_then_request(self, method, path, *args, **kwargs):
            if path.endswith("/restore/next"):
                self.close()  # the kept-alive connection: each copy opens its own
                fork()
            return request(self, method, path, *args, **kwargs)

        api.RuntimeConnection.request = fork_then_request

    own = random.Random(1234)  # made during init and reseeded by nobody: the snapshot's copies agree on it

    async def app(scope, receive, send):
        await receive()
        # Each copy holds its event until the test opens the gate: one that answered at once could
        # ask again and take the second event too.
        gates = pathlib.Path(os.environ["TEST_GATES"])
        (gates / f"taken-{os.getpid()}").touch()
        while not (gates / "open").exists():
            await asyncio.sleep(0.01)
        body = json.dumps({"pid": os.getpid(), "random": [random.random() for _ in range(4)], "own": [own.random() for _ in range(4)]})
        await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"application/json")]})
        await send({"type": "http.response.body", "body": body.encode()})
"""


@pytest.mark.parametrize("client", list(RUNTIME_CLIENTS))
def test_two_restores_of_one_snapshot_draw_different_random_numbers(tmp_path: Path, layer_zip: Path, client: str) -> None:
    gates = tmp_path / "gates"
    gates.mkdir()
    env = {**SNAPSTART, **RUNTIME_CLIENTS[client], "ASGI_LIFESPAN": "off", "TEST_GATES": str(gates)}
    with function(tmp_path, layer_zip, source=FORKING_APP, env=env) as fn:
        assert fn.api.snapshot.wait(timeout=20, calls=2), fn.logs()
        fn.api.snapshot.restore()
        # Both copies wait on /next before the events are queued, so that each takes one.
        deadline = time.monotonic() + 60
        while fn.api.next_calls < 2 and time.monotonic() < deadline:
            time.sleep(0.01)
        assert fn.api.next_calls >= 2, f"both restored copies should ask for an event: {fn.logs()}"
        requests = [fn.api.submit(load_event("http_api_v2_get"), function_arn=fn.function_arn) for _ in range(2)]
        deadline = time.monotonic() + 20
        while len(list(gates.glob("taken-*"))) < 2 and time.monotonic() < deadline:
            time.sleep(0.01)
        (gates / "open").touch()
        invocations = [fn.api.result(request, 20) for request in requests]
        bodies: list[dict[str, Any]] = [json.loads(invocation.payload["body"]) for invocation in invocations if invocation]

    assert len(bodies) == 2, fn.logs()
    first, second = bodies
    assert first["pid"] != second["pid"]  # two environments
    assert first["own"] == second["own"]  # restored from one snapshot
    assert first["random"] != second["random"]  # yet `random` was reseeded in each
