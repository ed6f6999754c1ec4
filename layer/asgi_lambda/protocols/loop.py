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
import logging
import socket
import sys
import threading
import time
from collections.abc import Callable, Coroutine
from typing import Any, TypeVar

T = TypeVar("T")

logger = logging.getLogger("asgi_lambda.loop")

_loop: asyncio.AbstractEventLoop | None = None
_after_run: list[Callable[[], None]] = []
_held = 0  # invocations the runtime client holds open between runs of the loop
_on_stop: list[Callable[[], None]] = []


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

    Most invocations finish within the task's first step, which runs at once, with no pass
    of the loop (`_start`). That spares the passes run_until_complete spends only on
    starting and stopping the loop, three quarters of make bench's event-loop floor. What
    that step scheduled runs in one pass (asyncio runs exactly one when stop() precedes
    run_forever()), and a task still waiting then runs to its end the ordinary way,
    blocking on I/O rather than polling.
    """
    if asyncio._get_running_loop() is not None:
        coro.close()
        raise RuntimeError(
            "asgi_lambda was called from inside a running event loop. Lambda calls handlers from "
            "synchronous code; call the handler outside `async def` (in tests too)."
        )
    running_loop = get_loop()
    if running_loop.is_running():
        # Another thread runs the loop: the layer's runtime client serving invocations at once, this
        # one a plain handler in its thread pool that calls an Adapter. The loop runs the app.
        return asyncio.run_coroutine_threadsafe(coro, running_loop).result()
    try:
        task = _start(running_loop, coro)
        if running_loop._ready:  # type: ignore[attr-defined]  # what the first step scheduled runs once
            running_loop.stop()
            running_loop.run_forever()
        if not task.done():
            running_loop.run_until_complete(task)
        return task.result()
    finally:
        if not _held:
            _run_after()


def _start(running_loop: asyncio.AbstractEventLoop, coro: Coroutine[Any, Any, T]) -> asyncio.Task[T]:
    """Make the task and run its first step now, not on a pass of the loop: most invocations end
    within it, and the loop then needs no pass at all. 3.12's eager tasks do this; before 3.12 the
    step that create_task queued is taken off the queue and run, as the pass would. Either needs the
    loop to count as running, so this marks it as run_forever does, and unmarks it after."""
    if not isinstance(running_loop, asyncio.BaseEventLoop):
        return running_loop.create_task(coro)
    ready = running_loop._ready  # type: ignore[attr-defined]
    hooks = sys.get_asyncgen_hooks()
    running_loop._thread_id = threading.get_ident()  # type: ignore[attr-defined]
    sys.set_asyncgen_hooks(
        firstiter=running_loop._asyncgen_firstiter_hook,  # type: ignore[attr-defined]
        finalizer=running_loop._asyncgen_finalizer_hook,  # type: ignore[attr-defined]
    )
    asyncio.events._set_running_loop(running_loop)
    try:
        if _EAGER:
            return asyncio.Task(coro, loop=running_loop, eager_start=True)  # type: ignore[call-arg,unused-ignore]
        task = running_loop.create_task(coro)
        if len(ready) == 1:  # only the task's first step waits: nothing else is put out of order
            ready.popleft()._run()
        return task
    finally:
        asyncio.events._set_running_loop(None)
        sys.set_asyncgen_hooks(*hooks)
        running_loop._thread_id = None  # type: ignore[attr-defined]


_EAGER = sys.version_info >= (3, 12)


def _run_after() -> None:
    while _after_run:
        _after_run.pop(0)()


def busy() -> bool:
    """Whether an invocation is under way: the loop runs, or the runtime client holds one open
    (it has answered, and the app's work after the answer is still to finish)."""
    return _held > 0 or (_loop is not None and _loop.is_running())


def hold() -> None:
    """The runtime client's invocation begins: `after_current_run` callbacks wait for its `release`."""
    global _held
    _held += 1


def release() -> None:
    global _held
    _held -= 1
    if not busy():
        _run_after()


def when_stop_requested(callback: Callable[[], None]) -> None:
    """Call `callback` on the loop when the process is asked to stop (SIGTERM) while busy: a client
    serving invocations at once stops taking new ones, and ends its run once those under way are done."""
    _on_stop.append(callback)


def request_stop() -> None:
    """SIGTERM arrived while busy (from a signal handler): tell whoever asked."""
    if _loop is not None and not _loop.is_closed():
        for callback in _on_stop:
            _loop.call_soon_threadsafe(callback)


def close_connections(*, cancel: Callable[[asyncio.Task[Any]], bool] = lambda task: False, timeout: float = 5.0) -> int:
    """Close every stream socket (TCP, Unix) that a transport on the shared loop holds, whoever
    made it: the app's pools and clients as well as ours, until nothing new opens. Returns how many
    were open. Their protocols are told (connection_lost) before this returns, so a pool knows to
    reconnect.

    A pool that keeps a floor of connections (asyncpg's `min_size`) opens a new one as soon as it
    sees one lost, on a task of its own: so this goes round, closing, letting the loop run, and
    closing again, until no transport is left, no socket is still connecting and nothing waits to
    run, for up to `timeout` seconds. Tasks for which `cancel` is true (such a pool's maintenance) are cancelled
    at each round: they would only open again what was closed."""
    if _loop is None or _loop.is_closed():
        return 0
    closed = 0
    deadline = time.monotonic() + timeout
    while True:
        cancelled = [task for task in asyncio.all_tasks(_loop) if not task.done() and cancel(task)]
        for task in cancelled:
            task.cancel()
        closed += _abort_transports()
        run(_settle())
        if not cancelled and not _stream_transports() and not _connecting() and not _pending():
            return closed
        if time.monotonic() >= deadline:
            logger.warning("Connections still open or opening after %.1f s of closing them; going on.", timeout)
            return closed
        run(asyncio.sleep(0.005))  # a connection under way completes (and is closed next round) or fails


def _stream_transports() -> list[asyncio.Transport]:
    """The transports on the loop that hold an open stream socket (UDP has no peer to lose)."""
    # BaseSelectorEventLoop's map of file descriptor to transport: asyncio's only list of them. It
    # keeps a transport whose socket is closed for as long as something references the transport.
    found = []
    for transport in list(getattr(_loop, "_transports", {}).values()):
        sock = transport.get_extra_info("socket")
        if sock is not None and sock.type == socket.SOCK_STREAM and sock.fileno() != -1:
            found.append(transport)
    return found


def _abort_transports() -> int:
    closed = 0
    for transport in _stream_transports():
        closed += not transport.is_closing()
        transport.abort()  # at once, closing ones too: a flush would need the loop to run on
    return closed


def _pending() -> bool:
    """Whether callbacks wait for the loop's next pass: one may be a connection that its socket has
    just made (no longer in the selector) and that becomes a transport on that pass."""
    return bool(getattr(_loop, "_ready", None))


def _connecting() -> bool:
    """Whether a stream socket waits on the loop outside a transport: one being connected
    (`sock_connect`, which `create_connection` awaits before it makes the transport)."""
    selector = getattr(_loop, "_selector", None)
    if selector is None:
        return False
    own = {sock.fileno() for sock in (getattr(_loop, "_ssock", None), getattr(_loop, "_csock", None)) if sock is not None}
    transports = set(getattr(_loop, "_transports", {}))
    for fd in list(selector.get_map()):  # asyncio registers file descriptors, not socket objects
        if fd in own or fd in transports or not isinstance(fd, int):
            continue
        try:
            sock = socket.socket(fileno=fd)  # to read its type; detached below, so the fd stays open
        except OSError:  # not a socket
            continue
        try:
            if sock.type == socket.SOCK_STREAM and not sock.getsockopt(socket.SOL_SOCKET, socket.SO_ACCEPTCONN):
                return True
        finally:
            sock.detach()
    return False


async def _settle() -> None:
    """Two passes of the loop: the transports' connection_lost calls, then what those scheduled."""
    await asyncio.sleep(0)
    await asyncio.sleep(0)


def after_current_run(callback: Callable[[], None]) -> None:
    """Call `callback` once the run in progress has finished, or the invocation the runtime client
    holds is over (a signal handler's way to wait for the invocation it interrupted)."""
    _after_run.append(callback)
