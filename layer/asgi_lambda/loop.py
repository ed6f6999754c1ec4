"""The one event loop that lives across invocations.

Lambda freezes the process between invocations and thaws it for the next one, so a loop
kept here keeps whatever was made on it (connection pools, clients, the lifespan task)
usable for the life of the execution environment. A fresh loop per invocation would
strand them.
"""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from typing import Any, TypeVar

T = TypeVar("T")

_loop: asyncio.AbstractEventLoop | None = None


def get_loop() -> asyncio.AbstractEventLoop:
    """Return the process-wide loop, creating it on first use."""
    global _loop
    if _loop is None or _loop.is_closed():
        _loop = asyncio.new_event_loop()
        # Libraries that still call asyncio.get_event_loop() from sync code find this one.
        asyncio.set_event_loop(_loop)
    return _loop


def run(coro: Coroutine[Any, Any, T]) -> T:
    """Run a coroutine to completion on the shared loop."""
    return get_loop().run_until_complete(coro)
