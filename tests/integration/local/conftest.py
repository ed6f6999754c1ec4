"""Fixtures of the local gateway's tests: the function's environment, a gateway served in this
process (`serve`), and `asgi-lambda serve` in a child process (`serve_process`)."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.support.local import Served, ServeProcess, serve_gateway


@pytest.fixture
def function_env(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    """The function's environment: none of the caller's ASGI_*/WS_* variables, the memory store,
    and fake credentials for the Management API client's signatures."""
    for name in list(os.environ):
        if name.startswith(("ASGI_", "WS_")):
            monkeypatch.delenv(name)
    monkeypatch.setenv("WS_BACKEND", "memory")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    return monkeypatch


@pytest.fixture
def serve(function_env: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[Callable[..., Served]]:
    """`serve(app_spec, payload=..., alb=..., ws_path=..., function=...)` starts a gateway, stopped
    after the test."""
    with contextlib.ExitStack() as stack:

        def start(app: str, **options: object) -> Served:
            return stack.enter_context(serve_gateway(app, function_env, tmp_path / ".asgi-lambda", **options))  # type: ignore[arg-type]

        yield start


@pytest.fixture
def serve_process() -> Iterator[Callable[..., ServeProcess]]:
    """`serve_process(*args, cwd=..., env=...)` starts `serve` and waits until it answers; any
    still running after the test gets Ctrl-C (a clean stop removes what --runtime built)."""
    started: list[ServeProcess] = []

    def start(*args: str, cwd: Path, env: dict[str, str]) -> ServeProcess:
        served = ServeProcess(*args, cwd=cwd, env=env)
        started.append(served)
        served.wait_until_serving()
        return served

    yield start
    for served in started:
        if served.process.poll() is None:
            with contextlib.suppress(AssertionError):
                served.stop()
