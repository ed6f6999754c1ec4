"""The layer's client's start (`python -m benchmarks.cold_start` measures it): what a plain handler's
process has imported by its first event, the garbage collector paused during the init and the init's
objects frozen after it, and a Runtime API named by a host name rather than an address."""

from __future__ import annotations

import gc
import os
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from asgi_lambda.local.runtime_api import RuntimeAPI
from tests.support.events import load_event
from tests.support.paths import LAYER

# What a plain handler never needs: typing and socket.py cost more to import than the whole client.
NOT_IMPORTED = ("typing", "socket", "encodings.idna", "asyncio", "asgi_lambda.settings", "asgi_lambda.adapter")

GC_STATE = """
    import gc

    AT_INIT = gc.get_threshold()
    FROZEN_AT_INIT = gc.get_freeze_count()  # Python 3.12 freezes some of its own at start
    {init}

    def handler(event, context):
        frozen = gc.get_freeze_count() > FROZEN_AT_INIT
        return {{"at_init": AT_INIT[0], "after": gc.get_threshold(), "enabled": gc.isenabled(), "frozen": frozen}}
"""


@contextmanager
def layer_client(tmp_path: Path, source: str, *, by_name: bool = False) -> Iterator[RuntimeAPI]:
    """`python -m asgi_lambda.runtime_client app.handler` (as a container image starts it) with
    app.py = source, against an emulator of its own, in a process of this interpreter. `by_name`:
    AWS_LAMBDA_RUNTIME_API names the emulator's host as localhost (Lambda gives an address)."""
    (tmp_path / "app.py").write_text(textwrap.dedent(source))
    with RuntimeAPI() as api:
        env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "PYTHONPATH": f"{tmp_path}{os.pathsep}{LAYER}",
            "AWS_LAMBDA_RUNTIME_API": f"localhost:{api.address.rpartition(':')[2]}" if by_name else api.address,
            "LAMBDA_TASK_ROOT": str(tmp_path),
            "AWS_LAMBDA_FUNCTION_NAME": "start",
        }
        process = subprocess.Popen(
            [sys.executable, "-m", "asgi_lambda.runtime_client", "app.handler"],
            cwd=tmp_path,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        try:
            if not api.wait_ready(60):
                process.kill()
                raise AssertionError(f"the client did not ask for an event: {process.communicate()[1].decode()}")
            yield api
        finally:
            process.kill()
            process.communicate()


def test_a_plain_handler_is_served_without_typing_socket_asyncio_or_the_settings(tmp_path: Path) -> None:
    source = f"""
        import sys

        def handler(event, context):
            return [name for name in {NOT_IMPORTED!r} if name in sys.modules]
    """
    with layer_client(tmp_path, source) as api:
        answered = api.invoke({})

    assert (answered.ok, answered.payload) == (True, [])


def test_the_init_runs_without_collection_and_its_objects_are_frozen_after_it(tmp_path: Path) -> None:
    with layer_client(tmp_path, GC_STATE.format(init="")) as api:
        answered = api.invoke({})

    assert answered.payload == {"at_init": 0, "after": list(gc.get_threshold()), "enabled": True, "frozen": True}


def test_an_init_that_turns_the_collector_off_keeps_it_off(tmp_path: Path) -> None:
    with layer_client(tmp_path, GC_STATE.format(init="gc.disable()")) as api:
        answered = api.invoke({})

    assert answered.payload == {"at_init": 0, "after": list(gc.get_threshold()), "enabled": False, "frozen": True}


def test_an_init_that_sets_its_own_thresholds_keeps_them_and_nothing_is_frozen(tmp_path: Path) -> None:
    with layer_client(tmp_path, GC_STATE.format(init="gc.set_threshold(5000, 20, 20)")) as api:
        answered = api.invoke({})

    assert answered.payload == {"at_init": 0, "after": [5000, 20, 20], "enabled": True, "frozen": False}


def test_a_runtime_api_named_by_a_host_name_is_looked_up(tmp_path: Path) -> None:
    source = """
        def handler(event, context):
            return event
    """
    with layer_client(tmp_path, source, by_name=True) as api:
        answered = api.invoke({"by": "name"})

    assert (answered.ok, answered.payload) == (True, {"by": "name"})


def test_a_wsgi_app_one_invocation_at_a_time_is_answered_without_asyncio_or_the_event_loop(tmp_path: Path) -> None:
    source = """
        import sys

        from asgi_lambda import Adapter

        def app(environ, start_response):
            loaded = [name for name in ("asyncio", "asgi_lambda.protocols.loop") if name in sys.modules]
            start_response("200 OK", [("Content-Type", "text/plain")])
            return [(" ".join(loaded) or "neither").encode()]

        handler = Adapter(app)
    """
    with layer_client(tmp_path, source) as api:
        answered = api.invoke(load_event("http_api_v2_get"))

    assert answered.ok
    assert (answered.payload["statusCode"], answered.payload["body"]) == (200, "neither")
