"""SnapStart in the process: the option, what it costs without SnapStart, and the hooks, driven by
awslambdaric's own runner as the runtime drives them (tests/integration/runtime/test_snapstart.py runs them through
the layer, the real runtime client and real PostgreSQL and Redis servers)."""

from __future__ import annotations

import asyncio
import logging
import os
import random
import socket
import subprocess
import sys
import threading
import weakref
from collections.abc import Iterator
from pathlib import Path

import pytest
from awslambdaric import lambda_runtime_hooks_runner as runtime_hooks  # type: ignore[import-untyped]

from asgi_lambda import Adapter, LifespanFailure, snapstart
from asgi_lambda.docs import fix
from asgi_lambda.exceptions import ConfigError
from asgi_lambda.protocols import lifespan, loop
from asgi_lambda.settings import Settings
from asgi_lambda.settings.websocket import WebSocketSettings
from asgi_lambda.stores.memory import MemoryStore
from asgi_lambda.websocket.hub import ConnectionHub
from tests.support.apps import LifespanApp
from tests.support.events import load_event
from tests.support.management_api import ManagementAPIStub

SNAPSTART_INIT = {"ASGI_APP": "main:app", "AWS_LAMBDA_INITIALIZATION_TYPE": "snap-start"}


@pytest.fixture
def hooks(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Empty hook registries for the test (snapshot_restore_py keeps them for the process), restored after;
    no startup held, and only the test's own hubs."""
    import snapshot_restore_py  # type: ignore[import-untyped]

    from asgi_lambda.websocket import hub

    registries = (snapshot_restore_py.get_before_snapshot(), snapshot_restore_py.get_after_restore())
    saved = [list(registry) for registry in registries]
    for registry in registries:
        registry.clear()
    monkeypatch.setattr(lifespan, "_held", None)
    monkeypatch.setattr(hub, "_hubs", weakref.WeakSet())
    monkeypatch.setattr(snapstart, "installed", None)
    yield
    for registry, entries in zip(registries, saved, strict=True):
        registry[:] = entries


# -- the option -------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("value", "placement"), [("", "init"), ("init", "init"), (" Restore ", "restore")])
def test_asgi_snapstart_lifespan_says_where_startup_runs_in_a_snapstart_init(value: str, placement: str) -> None:
    settings = Settings.from_environ({**SNAPSTART_INIT, "ASGI_SNAPSTART_LIFESPAN": value})

    assert settings.snapstart == placement


@pytest.mark.parametrize("init_type", ["on-demand", "provisioned-concurrency", ""])
def test_any_other_init_is_not_a_snapstart_one(init_type: str) -> None:
    environ = {**SNAPSTART_INIT, "AWS_LAMBDA_INITIALIZATION_TYPE": init_type, "ASGI_SNAPSTART_LIFESPAN": "restore"}

    assert Settings.from_environ(environ).snapstart is None


@pytest.mark.parametrize("init_type", ["snap-start", "on-demand"])
def test_a_bad_asgi_snapstart_lifespan_fails_every_init_naming_the_choices(init_type: str) -> None:
    with pytest.raises(ConfigError) as error:
        Settings.from_environ({**SNAPSTART_INIT, "AWS_LAMBDA_INITIALIZATION_TYPE": init_type, "ASGI_SNAPSTART_LIFESPAN": "later"})

    assert str(error.value) == (
        "ASGI_SNAPSTART_LIFESPAN='later': expected init (startup runs before the snapshot) or restore "
        "(after each restore, for apps whose startup opens connections)." + fix("invalid-value")
    )


@pytest.mark.parametrize(
    ("init_type", "imported"),
    [("on-demand", []), ("snap-start", ["asgi_lambda.snapstart", "snapshot_restore_py"])],
)
def test_the_snapstart_module_and_its_package_are_imported_for_a_snapstart_init_only(
    tmp_path: Path, init_type: str, imported: list[str]
) -> None:
    (tmp_path / "main.py").write_text("async def app(scope, receive, send):\n    pass\n")
    code = (
        "import sys; import asgi_lambda.bootstrap; "
        "print(sorted(name for name in sys.modules if name in ('asgi_lambda.snapstart', 'snapshot_restore_py')))"
    )
    environ = {name: value for name, value in os.environ.items() if not name.startswith(("ASGI_", "WS_", "AWS_"))}
    environ.update(ASGI_APP="main:app", ASGI_LIFESPAN="off", AWS_LAMBDA_INITIALIZATION_TYPE=init_type)
    result = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, env=environ, capture_output=True, text=True, check=True)

    assert result.stdout.strip() == repr(imported)


# -- the hooks --------------------------------------------------------------------------------------------


def test_without_snapshot_restore_py_a_warning_says_what_is_not_done_and_startup_runs_at_init(
    hooks: None, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setitem(sys.modules, "snapshot_restore_py", None)  # import fails as when it is not installed
    with caplog.at_level(logging.WARNING, logger="asgi_lambda"):
        installed = snapstart.install(Settings(snapstart="restore"))
    app = LifespanApp()
    Adapter(app)

    assert installed is False
    assert caplog.messages == [
        "SnapStart init, but the snapshot_restore_py package is not importable (the managed Python runtime ships it; "
        "in a container image, pip install snapshot-restore-py): connections opened during init stay in the "
        "snapshot, random is not reseeded after a restore, and lifespan startup runs during init."
    ]
    assert app.startups == 1


class EchoServer:
    """A TCP server in a thread that echoes, and records whether each client's connection ended."""

    def __init__(self) -> None:
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        self.ended = threading.Event()
        self.thread = threading.Thread(target=self.serve, daemon=True)
        self.thread.start()

    def serve(self) -> None:
        connection, _ = self.sock.accept()
        with connection:
            while data := connection.recv(1024):
                connection.sendall(data)
        self.ended.set()

    def close(self) -> None:
        self.sock.close()


def test_before_the_snapshot_connections_on_the_loop_are_closed_after_the_apps_hook_used_them(hooks: None) -> None:
    from snapshot_restore_py import register_before_snapshot

    server = EchoServer()
    snapstart.install(Settings(snapstart="init"))  # as bootstrap does: before the app's module is imported
    reader, writer = loop.run(asyncio.open_connection("127.0.0.1", server.port))
    seen: list[bytes] = []

    async def flush() -> None:  # the app's own hook: its connection is still open when it runs
        writer.write(b"last words")
        seen.append(await reader.readexactly(10))

    register_before_snapshot(lambda: loop.run(flush()))
    try:
        runtime_hooks.run_before_snapshot()
        ended = server.ended.wait(5)
    finally:
        server.close()

    assert seen == [b"last words"]
    assert writer.transport.is_closing() and reader.at_eof()  # its owner was told (connection_lost)
    assert ended  # and the server saw the connection end


def test_before_the_snapshot_a_client_that_reconnects_at_once_is_closed_until_nothing_opens(hooks: None) -> None:
    listener = socket.create_server(("127.0.0.1", 0), backlog=64)  # the kernel completes each handshake alone
    port = listener.getsockname()[1]
    opened: list[asyncio.Transport] = []

    class Reconnecting(asyncio.Protocol):
        """A pool that keeps one connection: a lost one is replaced at once, on a task of its own."""

        def connection_made(self, transport: asyncio.BaseTransport) -> None:
            opened.append(transport)  # type: ignore[arg-type]

        def connection_lost(self, exc: Exception | None) -> None:
            if len(opened) < 3:
                asyncio.get_running_loop().create_task(connect())

    async def connect() -> None:
        await asyncio.get_running_loop().create_connection(Reconnecting, "127.0.0.1", port)

    snapstart.install(Settings(snapstart="init"))
    loop.run(connect())
    try:
        runtime_hooks.run_before_snapshot()
    finally:
        listener.close()

    assert len(opened) == 3  # the first, and both of its replacements
    assert all(transport.is_closing() for transport in opened)
    assert loop._stream_transports() == [] and not loop._connecting()


def test_before_the_snapshot_each_hub_closes_its_store_and_clients_and_both_work_after_the_restore(
    hooks: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    closes: list[str] = []

    class ClosingStore(MemoryStore):
        async def close(self) -> None:
            closes.append("store")

    stub = ManagementAPIStub()
    hub = ConnectionHub(WebSocketSettings("memory", {}, endpoint_url=stub.endpoint), store=ClosingStore())
    gateway = hub.management_api(stub.endpoint)
    try:
        snapstart.install(Settings(snapstart="init"))
        loop.run(gateway.post("before", b"one"))
        kept_alive = len(gateway.idle)
        runtime_hooks.run_before_snapshot()
        idle_at_snapshot = len(gateway.idle)
        runtime_hooks.run_after_restore()
        loop.run(gateway.post("after", b"two"))
    finally:
        stub.close()

    assert (kept_alive, idle_at_snapshot, closes) == (1, 0, ["store"])
    assert stub.posts() == [("before", b"one"), ("after", b"two")]


def test_after_a_restore_random_is_reseeded(hooks: None) -> None:
    snapstart.install(Settings(snapstart="init"))
    random.seed(2024)
    in_the_snapshot = [random.random() for _ in range(4)]
    random.seed(2024)

    runtime_hooks.run_after_restore()

    assert [random.random() for _ in range(4)] != in_the_snapshot


def test_with_startup_at_init_it_runs_once_before_the_snapshot(hooks: None) -> None:
    snapstart.install(Settings(snapstart="init"))
    app = LifespanApp()
    handler = Adapter(app)
    started_at_init = app.startups

    runtime_hooks.run_before_snapshot()
    runtime_hooks.run_after_restore()

    assert (started_at_init, app.startups) == (1, 1)
    assert handler(load_event("http_api_v2_get"), None)["body"] == "counter=1 shared=1"


def test_with_startup_at_restore_it_runs_after_the_restore_before_the_apps_own_hooks(hooks: None) -> None:
    from snapshot_restore_py import register_after_restore

    snapstart.install(Settings(snapstart="restore"))
    app = LifespanApp()  # the app's module is imported after install, and registers its hook then
    seen: list[int] = []
    register_after_restore(lambda: seen.append(app.startups))
    handler = Adapter(app)
    started_at_init = app.startups

    runtime_hooks.run_before_snapshot()
    runtime_hooks.run_after_restore()

    assert (started_at_init, seen, app.startups) == (0, [1], 1)
    assert handler(load_event("http_api_v2_get"), None)["body"] == "counter=1 shared=1"


def test_a_startup_failing_after_the_restore_raises_lifespan_failure_from_the_hook(hooks: None) -> None:
    snapstart.install(Settings(snapstart="restore"))
    Adapter(LifespanApp(fail_startup="database unreachable"))

    with pytest.raises(LifespanFailure) as error:
        runtime_hooks.run_after_restore()

    assert str(error.value) == "Application startup failed: database unreachable" + fix("lifespan-startup-failed")


def test_a_hub_that_fails_to_close_is_logged_and_the_snapshot_goes_on(hooks: None, caplog: pytest.LogCaptureFixture) -> None:
    class BrokenStore(MemoryStore):
        async def close(self) -> None:
            raise OSError("connection reset")

    hub = ConnectionHub(WebSocketSettings("memory", {}), store=BrokenStore())
    snapstart.install(Settings(snapstart="init"))
    with caplog.at_level(logging.WARNING, logger="asgi_lambda"):
        runtime_hooks.run_before_snapshot()

    assert caplog.messages == ["Before the SnapStart snapshot: closing the memory store failed: OSError('connection reset')"]
    assert hub.store.name == "memory"  # kept alive to here: the hooks find hubs through weak references


def test_an_adapter_made_in_code_registers_the_hooks_in_a_snapstart_init_once(hooks: None, monkeypatch: pytest.MonkeyPatch) -> None:
    import snapshot_restore_py

    monkeypatch.setenv("AWS_LAMBDA_INITIALIZATION_TYPE", "snap-start")
    monkeypatch.setenv("ASGI_SNAPSTART_LIFESPAN", "restore")
    first, second = LifespanApp(), LifespanApp()

    Adapter(first)
    Adapter(second)

    assert [function for function, _, _ in snapshot_restore_py.get_before_snapshot()] == [snapstart.before_snapshot]
    assert [function for function, _, _ in snapshot_restore_py.get_after_restore()] == [snapstart.after_restore]
    assert (first.startups, second.startups) == (0, 0)  # held until the restore
    snapstart.after_restore()
    assert (first.startups, second.startups) == (1, 1)


def test_an_adapter_made_in_code_outside_snapstart_registers_nothing(hooks: None, monkeypatch: pytest.MonkeyPatch) -> None:
    import snapshot_restore_py

    monkeypatch.setenv("AWS_LAMBDA_INITIALIZATION_TYPE", "on-demand")
    app = LifespanApp()

    Adapter(app)

    assert (snapshot_restore_py.get_before_snapshot(), snapshot_restore_py.get_after_restore(), app.startups) == ([], [], 1)
