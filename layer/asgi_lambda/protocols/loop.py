"""The one event loop that lives across invocations.

Lambda freezes the process between invocations and thaws it for the next one, so a loop
kept here keeps whatever was made on it (connection pools, clients, the lifespan task)
usable for the life of the execution environment. A fresh loop per invocation would
strand them.

A SnapStart snapshot keeps the loop too: its selector (epoll) and self-pipe are kernel objects of
the microVM, restored with it. What it cannot keep is a connection to a peer outside: the peer
never sees the restore, and every environment restored from one snapshot would share the socket.
`close_connections` closes those before the snapshot; their owners open new ones on next use.
"""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Callable, Coroutine
from typing import Any, TypeVar

T = TypeVar("T")

_loop: asyncio.AbstractEventLoop | None = None
_after_run: list[Callable[[], None]] = []


def get_loop() -> asyncio.AbstractEventLoop:
    """Return the process-wide loop, creating it on first use."""
    global _loop
    if _loop is None or _loop.is_closed():
        _loop = asyncio.new_event_loop()
        # Libraries that still call asyncio.get_event_loop() from sync code find this one.
        asyncio.set_event_loop(_loop)
    return _loop


def run(coro: Coroutine[Any, Any, T]) -> T:
    """Run a coroutine to completion on the shared loop.

    Most invocations finish within the task's first step, and asyncio runs exactly one
    pass of the loop when stop() precedes run_forever(). That spares the second pass
    run_until_complete spends only on stopping the loop (about 3 µs, a third of this
    package's time per request). A task still waiting after the pass is then run to its
    end the ordinary way, blocking on I/O rather than polling.
    """
    if asyncio._get_running_loop() is not None:
        coro.close()
        raise RuntimeError(
            "asgi_lambda was called from inside a running event loop. Lambda calls handlers from "
            "synchronous code; call the handler outside `async def` (in tests too)."
        )
    running_loop = get_loop()
    task = running_loop.create_task(coro)
    try:
        running_loop.stop()
        running_loop.run_forever()
        if not task.done():
            running_loop.run_until_complete(task)
        return task.result()
    finally:
        while _after_run:
            _after_run.pop(0)()


def close_connections() -> int:
    """Close every stream socket (TCP, Unix) that a transport on the shared loop holds, whoever
    made it: the app's pools and clients as well as ours. Returns how many were open. Their
    protocols are told (connection_lost) before this returns, so a pool knows to reconnect."""
    if _loop is None or _loop.is_closed():
        return 0
    # BaseSelectorEventLoop's map of file descriptor to transport: asyncio's only list of them.
    transports = list(getattr(_loop, "_transports", {}).values())
    closed = 0
    for transport in transports:
        sock = transport.get_extra_info("socket")
        if sock is None or sock.type != socket.SOCK_STREAM:
            continue  # UDP has no peer to lose
        closed += not transport.is_closing()
        transport.abort()  # at once, closing ones too: a flush would need the loop to run on
    run(_settle())
    return closed


async def _settle() -> None:
    """Two passes of the loop: the transports' connection_lost calls, then what those scheduled."""
    await asyncio.sleep(0)
    await asyncio.sleep(0)


def after_current_run(callback: Callable[[], None]) -> None:
    """Call `callback` once the run in progress has finished (a signal handler's way to wait for
    the invocation it interrupted)."""
    _after_run.append(callback)
