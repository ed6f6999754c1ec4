"""SnapStart: what the layer does around Lambda's snapshot, for a SnapStart init only.

With SnapStart, Lambda runs the init once, snapshots the microVM and restores that snapshot for
later cold starts, as many times as it needs environments. The runtime client calls the hooks
registered with `snapshot_restore_py` (the managed Python runtime ships it): those before the
snapshot in the reverse order of registration, those after a restore in order.
https://docs.aws.amazon.com/lambda/latest/dg/snapstart-runtime-hooks-python.html

`install` registers ours before the app is imported, so the app's own hooks run before ours at the
snapshot, while its connections are still open, and after ours at a restore.

- Before the snapshot: every WebSocket hub closes its store's and its Management API clients'
  connections (each opens new ones on next use); then every stream socket still open on the shared
  loop is closed (`loop.close_connections`), the app's pools and clients included: they see their
  connections lost and open new ones when next used. A pool that reopens at once what it lost
  (asyncpg's, to keep `min_size`) has its maintenance task cancelled, and the closing goes on until
  no socket is open or opening.
- After a restore: `random` is reseeded from os.urandom, as every environment restored from one
  snapshot would otherwise draw the same numbers (`secrets`, `uuid.uuid4` and SystemRandom read
  os.urandom at each call and need nothing). Then, with ASGI_SNAPSTART_LIFESPAN=restore, the app's
  lifespan startup runs: `install` held it at init.
"""

from __future__ import annotations

import asyncio
import logging
import random
import sys
from typing import TYPE_CHECKING

from .protocols import lifespan, loop

if TYPE_CHECKING:
    from .settings import Settings

logger = logging.getLogger("asgi_lambda.snapstart")

CLOSE_TIMEOUT = 5.0  # seconds per hub; what is still open then is closed by close_connections

installed: bool | None = None  # what install() did, once per process


def install(settings: Settings) -> bool:
    """Register the hooks (and, for ASGI_SNAPSTART_LIFESPAN=restore, hold lifespan startup until the
    restore), once per process: the zero-code bootstrap calls it before importing the app, and each
    Adapter before its lifespan starts. False, with a warning, when snapshot_restore_py is not importable."""
    global installed
    if installed is None:
        installed = register(settings)
    return installed


def register(settings: Settings) -> bool:
    try:
        from snapshot_restore_py import register_after_restore, register_before_snapshot  # type: ignore[import-untyped]
    except ModuleNotFoundError:
        logger.warning(
            "SnapStart init, but the snapshot_restore_py package is not importable (the managed Python runtime ships it; "
            "in a container image, pip install snapshot-restore-py): connections opened during init stay in the "
            "snapshot, random is not reseeded after a restore, and lifespan startup runs during init."
        )
        return False
    if settings.snapstart == "restore":
        lifespan.hold_startups()
    register_before_snapshot(before_snapshot)
    register_after_restore(after_restore)
    return True


def before_snapshot() -> None:
    """Close every connection to a peer outside the environment."""
    loop.run(close_hubs())
    closed = loop.close_connections(cancel=reopens_connections)
    logger.info("Before the SnapStart snapshot: stores and clients closed; %d other connection(s) closed.", closed)


async def close_hubs() -> None:
    """Close each WebSocket hub's store and clients; a failure is logged, not raised, as the snapshot
    must go on (close_connections then closes what is left)."""
    hub = sys.modules.get("asgi_lambda.websocket.hub")
    if hub is None:  # never imported: no store was made
        return
    for each in hub.every_hub():
        try:
            await asyncio.wait_for(each.close(), CLOSE_TIMEOUT)
        except Exception as exc:
            logger.warning("Before the SnapStart snapshot: closing the %s store failed: %r", each.store.name, exc)


# Tasks that open a connection as soon as one is lost: asyncpg's pool keeps `min_size` connections
# (10 by default) with `Pool._maintain_min_size`. Cancelled, it is started again by the pool's next
# acquire or lost connection, after the restore.
REOPENERS = frozenset({"Pool._maintain_min_size"})


def reopens_connections(task: asyncio.Task[object]) -> bool:
    return getattr(task.get_coro(), "__qualname__", None) in REOPENERS


def after_restore() -> None:
    """Reseed `random`, then run a held lifespan startup (LifespanFailure fails the restore)."""
    random.seed()  # from os.urandom
    lifespan.run_held_startups()
