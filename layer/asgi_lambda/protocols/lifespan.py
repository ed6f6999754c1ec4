"""ASGI lifespan, once per execution environment.

Startup runs on the shared loop (`loop.py`) when the adapter is made, which on Lambda is
the init phase, and its task stays suspended on that loop across invocations, so what the
app opened at startup stays usable. Shutdown runs when the process is told to stop:
SIGTERM (Lambda sends it when an extension is registered) or interpreter exit. A SIGTERM that
arrives during an invocation waits for it: the response completes, then shutdown runs.

Under SnapStart with ASGI_SNAPSTART_LIFESPAN=restore, startup is held (`hold_startups`) and run
after each restore (`run_held_startups`), so nothing the app opens at startup is in the snapshot.
"""

from __future__ import annotations

import asyncio
import atexit
import logging
import os
import signal
import threading
from types import FrameType
from typing import TYPE_CHECKING, Any, Final

from ..exceptions import LifespanFailure, UnexpectedMessage
from . import loop

if TYPE_CHECKING:
    from ..types import ASGIApp, Message

logger = logging.getLogger("asgi_lambda.lifespan")


class LifespanPhase:
    """Where the app's lifespan is.

    * CONNECTING: the app was called with the lifespan scope; startup not yet delivered.
    * STARTUP: `lifespan.startup` was delivered; waiting for the app's verdict.
    * RUNNING: startup completed; requests are being served.
    * SHUTDOWN: `lifespan.shutdown` was delivered; waiting for the app's verdict.
    * STOPPED: shutdown completed.
    * UNSUPPORTED: the app does not speak lifespan; "auto" carries on without it.
    * FAILED: the app reported, or raised, a startup or shutdown failure.

    Plain constants, compared by identity: an enum.Enum class costs 0.1 ms to create at import.
    """

    CONNECTING: Final = "CONNECTING"
    STARTUP: Final = "STARTUP"
    RUNNING: Final = "RUNNING"
    SHUTDOWN: Final = "SHUTDOWN"
    STOPPED: Final = "STOPPED"
    UNSUPPORTED: Final = "UNSUPPORTED"
    FAILED: Final = "FAILED"


class Lifespan:
    """The lifespan of one app. `state` is the dict the app fills at startup (None when the
    app has no lifespan); each request gets a shallow copy of it."""

    def __init__(self, app: ASGIApp, *, required: bool) -> None:
        self.app = app
        self.required = required
        self.phase: str = LifespanPhase.CONNECTING
        self.state: dict[str, Any] | None = {}
        self.failure_message = ""
        self.error: Exception | None = None
        shared_loop = loop.get_loop()
        self.started: asyncio.Future[None] = shared_loop.create_future()
        self.shutdown_requested: asyncio.Future[None] = shared_loop.create_future()
        self.stopped: asyncio.Future[None] = shared_loop.create_future()
        # The loop holds tasks weakly; this reference keeps the suspended lifespan alive.
        self.task: asyncio.Task[None] | None = None

    def startup(self) -> None:
        """Run startup to its end. Raises LifespanFailure if it failed, or if `required` and the
        app does not support lifespan. While startups are held (SnapStart), only queue it."""
        if _held is not None:
            _held.append(self)
            logger.info("Application startup held until the SnapStart restore.")
            return
        loop.run(self._startup())
        if self.phase is LifespanPhase.RUNNING:
            logger.info("Application startup complete.")
            _shutdown_at_exit(self)
            return
        self.state = None
        if self.phase is LifespanPhase.FAILED:
            raise LifespanFailure(f"Application startup failed: {self.failure_message}")
        if self.phase is LifespanPhase.STARTUP:
            raise LifespanFailure(f"Application startup failed: the app raised {self.error!r}") from self.error
        if self.required:
            cause = f"raised {self.error!r}" if self.error else "returned"
            raise LifespanFailure(
                f"lifespan='on' but the app {cause} before taking 'lifespan.startup': it does not support "
                "the ASGI lifespan protocol. Use lifespan='auto' or 'off' for apps without lifespan.",
                fix="lifespan-not-supported",
            ) from self.error
        self.phase = LifespanPhase.UNSUPPORTED
        logger.info("ASGI 'lifespan' protocol appears unsupported by the app; continuing without it.")

    def shutdown(self) -> None:
        """Run shutdown to its end; failures are logged, since the process is going away."""
        if self.phase is not LifespanPhase.RUNNING:
            return
        if loop.get_loop().is_running():
            logger.warning("Lifespan shutdown skipped: asked for from inside an invocation.")
            return
        if loop.run(self._shutdown()) is LifespanPhase.FAILED:
            logger.error("Application shutdown failed: %s", self.failure_message)
        elif self.error is not None:
            logger.error("Application shutdown failed", exc_info=self.error)
        else:
            logger.info("Application shutdown complete.")

    async def _startup(self) -> None:
        self.task = asyncio.get_running_loop().create_task(self._main())
        await self.started

    async def _shutdown(self) -> str:
        self.shutdown_requested.set_result(None)
        await self.stopped
        return self.phase

    async def _main(self) -> None:
        scope = {"type": "lifespan", "asgi": {"version": "3.0", "spec_version": "2.0"}, "state": self.state}
        try:
            await self.app(scope, self._receive, self._send)
        except Exception as exc:
            self.error = exc
            if self.phase in (LifespanPhase.STARTUP, LifespanPhase.SHUTDOWN):
                logger.exception("Exception in ASGI lifespan")
        finally:
            _resolve(self.started)
            _resolve(self.stopped)

    async def _receive(self) -> Message:
        if self.phase is LifespanPhase.CONNECTING:
            self.phase = LifespanPhase.STARTUP
            return {"type": "lifespan.startup"}
        if self.phase is not LifespanPhase.RUNNING:
            # Each message is delivered once: an app that asks again (after shutdown, or after its
            # startup failed) waits for good, as under uvicorn, rather than spin on a repeat.
            await asyncio.get_running_loop().create_future()
        await self.shutdown_requested
        self.phase = LifespanPhase.SHUTDOWN
        return {"type": "lifespan.shutdown"}

    async def _send(self, message: Message) -> None:
        message_type = message["type"]
        if self.phase is LifespanPhase.STARTUP and message_type in ("lifespan.startup.complete", "lifespan.startup.failed"):
            verdict = self.started
        elif self.phase is LifespanPhase.SHUTDOWN and message_type in ("lifespan.shutdown.complete", "lifespan.shutdown.failed"):
            verdict = self.stopped
        else:
            raise UnexpectedMessage(f"Unexpected ASGI message {message_type!r} in lifespan phase {self.phase}.")
        if message_type.endswith(".failed"):
            self.phase = LifespanPhase.FAILED
            self.failure_message = message.get("message") or message_type
        else:
            self.phase = LifespanPhase.RUNNING if verdict is self.started else LifespanPhase.STOPPED
        _resolve(verdict)


def _resolve(future: asyncio.Future[None]) -> None:
    if not future.done():
        future.set_result(None)


_running: list[Lifespan] = []
_held: list[Lifespan] | None = None  # a list while startups wait for the SnapStart restore


def hold_startups() -> None:
    """Queue every startup asked for from now on, until `run_held_startups`."""
    global _held
    if _held is None:
        _held = []


def run_held_startups() -> None:
    """Run the queued startups, in order, and stop holding; the first failure raises LifespanFailure."""
    global _held
    held, _held = _held or [], None
    for lifespan in held:
        lifespan.startup()


_hooks_installed = False
_previous_sigterm: Any = signal.SIG_DFL


def _shutdown_at_exit(lifespan: Lifespan) -> None:
    global _hooks_installed, _previous_sigterm
    if not _hooks_installed:
        _hooks_installed = True
        atexit.register(shutdown_all)
        # Signal handlers can only be set from the main thread, where Lambda runs handlers.
        if threading.current_thread() is threading.main_thread():
            _previous_sigterm = signal.signal(signal.SIGTERM, _on_sigterm)
    _running.append(lifespan)


def shutdown_all() -> None:
    """Shut down every running lifespan, newest first."""
    while _running:
        _running.pop().shutdown()


def _on_sigterm(signum: int, frame: FrameType | None) -> None:
    if loop.busy():
        # The signal interrupted an invocation (Lambda sends SIGTERM while one runs when an
        # extension is registered). Its response completes first (with the layer's runtime client,
        # the app's work after the response too, and every invocation under way at once); the
        # runtime still has to send it, so the process does not end here: the next SIGTERM, or
        # Lambda, ends it.
        logger.info("SIGTERM during an invocation: lifespan shutdown runs once its response is complete.")
        signal.signal(signal.SIGTERM, _previous_sigterm if _previous_sigterm is not None else signal.SIG_DFL)
        loop.after_current_run(shutdown_all)
        loop.request_stop()
        return
    shutdown_all()
    if callable(_previous_sigterm):
        _previous_sigterm(signum, frame)
    elif _previous_sigterm != signal.SIG_IGN:
        # Die of SIGTERM as the process would have without us.
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        os.kill(os.getpid(), signal.SIGTERM)
