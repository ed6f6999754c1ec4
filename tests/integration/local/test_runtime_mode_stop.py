"""`serve --runtime` stops quietly on Ctrl-C (SIGINT) and SIGTERM: the function under the layer's runtime
client runs the app's lifespan shutdown, and neither a traceback nor a runtime error is printed."""

from __future__ import annotations

import signal
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest

from tests.support.local import ServeProcess, clean_environ
from tests.support.paths import directory_outside_tmp

APP_SOURCE = """
import os
from pathlib import Path

async def app(scope, receive, send):
    if scope["type"] == "lifespan":
        while (message := await receive())["type"] != "lifespan.shutdown":
            await send({"type": "lifespan.startup.complete"})
        Path(os.environ["SHUTDOWN_FILE"]).write_text(f"shut down in {os.getpid()}")
        await send({"type": "lifespan.shutdown.complete"})
        return
    await receive()
    await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"text/plain")]})
    await send({"type": "http.response.body", "body": f"hello from {os.getpid()}".encode()})
"""


@pytest.fixture
def env(tmp_path: Path) -> Iterator[dict[str, str]]:
    # Under --runtime the function looks like Lambda, which refuses an SQLite store under /tmp.
    with directory_outside_tmp() as state:
        yield clean_environ(
            AWS_ACCESS_KEY_ID="testing",
            AWS_SECRET_ACCESS_KEY="testing",
            SHUTDOWN_FILE=str(tmp_path / "shutdown.txt"),
            WS_BACKEND="sqlite",
            WS_SQLITE_PATH=str(state / "connections.sqlite3"),
        )


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_runtime_mode_stops_quietly_and_runs_shutdown(
    signum: signal.Signals, tmp_path: Path, env: dict[str, str], serve_process: Callable[..., ServeProcess]
) -> None:
    (tmp_path / "main.py").write_text(APP_SOURCE)
    served = serve_process("main:app", "--runtime", cwd=tmp_path, env=env)
    function_pid = httpx.get(served.url).text.removeprefix("hello from ")

    out, err = served.stop(signum)

    assert served.process.returncode == 0, err
    assert (tmp_path / "shutdown.txt").read_text() == f"shut down in {function_pid}"
    for stream in (out, err):
        assert "Traceback" not in stream
        assert "ERROR" not in stream and "error" not in stream.lower(), stream
    assert out.splitlines()[-1].startswith("GET / 200 ")  # the request's line is the last printed
