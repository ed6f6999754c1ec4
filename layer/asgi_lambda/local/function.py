"""The function the local gateway calls: the layer's handler, in this process.

It runs in ONE worker thread, one event at a time, as in one execution environment: the
adapter keeps its own event loop in that thread (loop.py), and uvicorn's loop stays free to
serve the Management API calls the handler makes while it runs.
"""

from __future__ import annotations

import asyncio
import os
import sys
import time
import uuid
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Protocol

from ..adapter import Adapter
from ..exceptions import AppImportError
from .events import ACCOUNT_ID, REGION, TIMEOUT_SECONDS


class FunctionError(RuntimeError):
    """The function failed: its init (the message names the fault) or an invocation."""


# --- the function -------------------------------------------------------------------------------


class Function(Protocol):
    """What the gateway calls: one Lambda function, one event at a time."""

    def start(self) -> None:
        """The init phase; raises what the init raises (ConfigError, AppImportError, ...)."""

    async def invoke(self, event: dict[str, Any]) -> Any:
        """The handler's answer to one event; raises when the handler does."""

    def close(self) -> None:
        """Shut down (lifespan shutdown included) and release everything."""


class LocalContext:
    """The context object Lambda passes to a handler, with a fresh request id and a deadline.
    https://docs.aws.amazon.com/lambda/latest/dg/python-context.html"""

    def __init__(self, function_name: str, *, timeout: float = TIMEOUT_SECONDS) -> None:
        self.aws_request_id = str(uuid.uuid4())
        self.function_name = function_name
        self.function_version = "$LATEST"
        self.invoked_function_arn = f"arn:aws:lambda:{REGION}:{ACCOUNT_ID}:function:{function_name}"
        self.memory_limit_in_mb = 128
        self.log_group_name = f"/aws/lambda/{function_name}"
        self.log_stream_name = f"{time.strftime('%Y/%m/%d')}/[$LATEST]{uuid.uuid4().hex}"
        self.identity = None
        self.client_context = None
        self.deadline = time.monotonic() + timeout

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self.deadline - time.monotonic()) * 1000))


def local_handler(environ: Mapping[str, str], *, app_variable: str = "ASGI_APP") -> Adapter:
    """The handler made as the layer's bootstrap makes it (`Adapter.from_environ`); or, when the
    app's name (ASGI_APP) names an `Adapter` built in code (`handler = Adapter(app)`), that one: it
    is a Lambda handler already, as the function's own code would export it."""
    try:
        return Adapter.from_environ(environ, app_variable=app_variable)
    except AppImportError:
        built = named_adapter(environ.get("ASGI_APP", ""))
        if built is None:
            raise
        return built


def named_adapter(spec: str) -> Adapter | None:
    """The `Adapter` that `module:attribute` names, if its module is imported already (the
    importer has just tried it) and it is one; else None."""
    module_name, _, attribute = spec.strip().partition(":")
    found: Any = sys.modules.get(module_name.strip().replace("/", "."))
    for part in attribute.split(".") if found is not None and attribute else ():
        found = getattr(found, part, None)
    return found if isinstance(found, Adapter) else None


class InProcessFunction:
    """The handler in this process, made as the layer's bootstrap makes it, from the same
    variables (ASGI_*, WS_*), and always called in the same single worker thread."""

    def __init__(self, *, function_name: str = "asgi-lambda-local", app_variable: str = "ASGI_APP") -> None:
        self.function_name = function_name
        self.app_variable = app_variable  # how import errors name the app ("APP" for the CLI's argument)
        self.executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="lambda-function")
        self.handler: Adapter | None = None
        self.closed = False

    def start(self) -> None:
        # In the worker thread: the adapter's loop (and the lifespan task on it) lives there.
        self.executor.submit(self._init).result()

    def _init(self) -> None:
        # As bootstrap.py does at import (it cannot be imported here: it reads the environment
        # at import, once per process).
        self.handler = local_handler(os.environ, app_variable=self.app_variable)

    async def invoke(self, event: dict[str, Any]) -> Any:
        return await asyncio.get_running_loop().run_in_executor(self.executor, self._call, event)

    def _call(self, event: dict[str, Any]) -> Any:
        if self.handler is None:
            raise FunctionError("the function was not started")
        return self.handler(event, LocalContext(self.function_name))

    def close(self) -> None:
        if self.closed:
            return
        self.closed = True
        try:
            self.executor.submit(self._shutdown).result()
        finally:
            self.executor.shutdown(wait=True)

    def _shutdown(self) -> None:
        if self.handler is not None:
            self.handler.close()
