"""`serve --runtime --max-concurrency N`: the emulator hands out up to N events at once, the function gets
AWS_LAMBDA_MAX_CONCURRENCY=N, and the gateway sends requests to it at once, as a Lambda Managed Instances
environment takes them. The app answers only once N requests are in at the same time."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest

from tests.support.local import ServeProcess, clean_environ
from tests.support.paths import directory_outside_tmp

N = 3

APP_SOURCE = f"""
import asyncio, os

everyone = asyncio.Event()
arrived = 0

async def app(scope, receive, send):
    global arrived
    if scope["type"] != "http":
        return
    await receive()
    arrived += 1
    if arrived == {N}:
        everyone.set()
    await asyncio.wait_for(everyone.wait(), 20)
    body = f"{{os.getpid()}} {{os.environ['AWS_LAMBDA_MAX_CONCURRENCY']}}".encode()
    await send({{"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"text/plain")]}})
    await send({{"type": "http.response.body", "body": body}})
"""


@pytest.fixture
def env() -> Iterator[dict[str, str]]:
    with directory_outside_tmp() as state:
        yield clean_environ(
            AWS_ACCESS_KEY_ID="testing",
            AWS_SECRET_ACCESS_KEY="testing",
            ASGI_LIFESPAN="off",
            WS_BACKEND="sqlite",
            WS_SQLITE_PATH=str(state / "connections.sqlite3"),
        )


def test_n_requests_reach_the_function_at_once(tmp_path: Path, env: dict[str, str], serve_process: Callable[..., ServeProcess]) -> None:
    (tmp_path / "main.py").write_text(APP_SOURCE)
    served = serve_process("main:app", "--runtime", "--max-concurrency", str(N), cwd=tmp_path, env=env)
    with ThreadPoolExecutor(N) as pool:
        answers = list(pool.map(lambda _: httpx.get(served.url, timeout=30), range(N)))
    served.stop()

    assert [answer.status_code for answer in answers] == [200] * N
    assert len({answer.text for answer in answers}) == 1 and answers[0].text.endswith(f" {N}")  # one process


def test_max_concurrency_needs_runtime(tmp_path: Path, env: dict[str, str]) -> None:
    (tmp_path / "main.py").write_text(APP_SOURCE)
    served = ServeProcess("main:app", "--max-concurrency", "2", cwd=tmp_path, env=env)
    out, err = served.process.communicate(timeout=30)

    assert served.process.returncode != 0
    assert "--max-concurrency needs --runtime: in this process the function takes one invocation at a time" in err
