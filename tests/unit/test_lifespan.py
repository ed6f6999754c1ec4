"""Lifespan: startup once per execution environment, shutdown when the process stops."""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest

from asgi_lambda import Adapter, LifespanFailure
from asgi_lambda.docs import fix
from tests.support import adapter
from tests.support.apps import LifespanApp
from tests.support.events import load_event
from tests.support.paths import EVENTS


def test_startup_runs_once_at_construction_not_per_invocation() -> None:
    app = LifespanApp()
    handler = Adapter(app)

    assert app.startups == 1
    for _ in range(3):
        handler(load_event("http_api_v2_get"), None)

    assert (app.startups, app.shutdowns) == (1, 0)


def test_objects_made_at_startup_keep_working_across_invocations() -> None:
    handler = Adapter(LifespanApp())

    bodies = [handler(load_event("http_api_v2_get"), None)["body"] for _ in range(3)]

    assert bodies[-1].endswith("shared=3")


def test_each_request_gets_a_shallow_copy_of_the_lifespan_state() -> None:
    handler = Adapter(LifespanApp())

    bodies = [handler(load_event("http_api_v2_get"), None)["body"] for _ in range(3)]

    # Rebinding a key stays in the request; mutating a shared object is seen by all.
    assert bodies == ["counter=1 shared=1", "counter=1 shared=2", "counter=1 shared=3"]


def test_lifespan_on_with_failing_startup_raises_a_clear_error() -> None:
    with pytest.raises(LifespanFailure) as error:
        Adapter(LifespanApp(fail_startup="database unreachable"), lifespan="on")

    assert str(error.value) == "Application startup failed: database unreachable" + fix("lifespan-startup-failed")


def test_lifespan_auto_with_failing_startup_raises_too() -> None:
    with pytest.raises(LifespanFailure) as error:
        Adapter(LifespanApp(fail_startup="no config"), lifespan="auto")

    assert str(error.value) == "Application startup failed: no config" + fix("lifespan-startup-failed")


async def http_only_app(scope: Any, receive: Any, send: Any) -> None:
    if scope["type"] != "http":
        raise ValueError("unsupported scope")
    await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"text/plain")]})
    await send({"type": "http.response.body", "body": b"ok"})


def test_lifespan_on_with_an_app_without_lifespan_raises() -> None:
    with pytest.raises(LifespanFailure) as error:
        Adapter(http_only_app, lifespan="on")

    assert str(error.value) == (
        "lifespan='on' but the app raised ValueError('unsupported scope') before taking 'lifespan.startup': it does "
        "not support the ASGI lifespan protocol. Use lifespan='auto' or 'off' for apps without lifespan."
    ) + fix("lifespan-not-supported")


def test_lifespan_auto_with_an_app_without_lifespan_carries_on(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.INFO, logger="asgi_lambda"):
        handler = Adapter(http_only_app)

    assert [record.getMessage() for record in caplog.records] == [
        "ASGI 'lifespan' protocol appears unsupported by the app; continuing without it."
    ]
    assert handler(load_event("http_api_v2_get"), None)["body"] == "ok"


def test_lifespan_off_never_calls_the_app_with_a_lifespan_scope() -> None:
    scopes: list[str] = []

    async def app(scope: Any, receive: Any, send: Any) -> None:
        scopes.append(scope["type"])
        await http_only_app(scope, receive, send)

    adapter(app)(load_event("http_api_v2_get"), None)

    assert scopes == ["http"]


def test_exception_during_startup_is_a_startup_failure() -> None:
    async def app(scope: Any, receive: Any, send: Any) -> None:
        await receive()
        raise ConnectionError("redis down")

    with pytest.raises(LifespanFailure) as error:
        Adapter(app)

    assert str(error.value) == "Application startup failed: the app raised ConnectionError('redis down')" + fix("lifespan-startup-failed")


# Shutdown is about the process ending, so these run a real one.
SCRIPT = textwrap.dedent(
    """
    import json, sys, time
    from asgi_lambda import Adapter

    async def app(scope, receive, send):
        if scope["type"] == "lifespan":
            await receive()
            await send({"type": "lifespan.startup.complete"})
            await receive()
            print("shutdown ran", flush=True)
            await send({"type": "lifespan.shutdown.complete"})
            return
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b""})

    handler = Adapter(app)
    print(handler(json.load(open(sys.argv[1])), None)["statusCode"], flush=True)
    if sys.argv[2] == "wait":
        print("waiting", flush=True)
        time.sleep(30)
    """
)


def run_script(tmp_path: Path, mode: str) -> subprocess.Popen[str]:
    script = tmp_path / "function.py"
    script.write_text(SCRIPT)
    event = EVENTS / "http_api_v2_get.json"
    return subprocess.Popen([sys.executable, str(script), str(event), mode], stdout=subprocess.PIPE, text=True)


def test_shutdown_runs_at_interpreter_exit(tmp_path: Path) -> None:
    process = run_script(tmp_path, "exit")
    out, _ = process.communicate(timeout=30)

    assert (process.returncode, out.splitlines()) == (0, ["200", "shutdown ran"])


def test_shutdown_runs_on_sigterm_and_the_process_still_dies_of_it(tmp_path: Path) -> None:
    process = run_script(tmp_path, "wait")
    assert process.stdout is not None
    assert [process.stdout.readline(), process.stdout.readline()] == ["200\n", "waiting\n"]

    os.kill(process.pid, signal.SIGTERM)
    out, _ = process.communicate(timeout=30)

    assert (process.returncode, out.splitlines()) == (-signal.SIGTERM, ["shutdown ran"])


LOOPING_APP = textwrap.dedent(
    """
    from asgi_lambda import Adapter

    async def app(scope, receive, send):
        # Mangum's own suite has this shape: it asks again after answering shutdown.
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                print("shutdown asked", flush=True)
                await send({"type": "lifespan.shutdown.failed", "message": "no"})

    handler = Adapter(app)
    """
)


def test_an_app_that_keeps_receiving_after_shutdown_lets_the_process_exit(tmp_path: Path) -> None:
    script = tmp_path / "function.py"
    script.write_text(LOOPING_APP)
    process = subprocess.Popen([sys.executable, str(script)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    out, _ = process.communicate(timeout=30)

    assert (process.returncode, out.splitlines()) == (0, ["shutdown asked"])
