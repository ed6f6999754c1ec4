"""The zero-code handler: the exec wrapper sets `_HANDLER=asgi_lambda.bootstrap.handler`.

All the work happens at import, which on Lambda is the init phase: it runs before the first
request, with the boosted CPU Lambda gives init. `Adapter.from_environ` checks the settings,
imports the app, makes the adapter and starts the app's lifespan (and, with WS_BACKEND set, makes
the WebSocket store, its library imported), so the first request pays nothing extra, and a fault
fails the init with a message the runtime shows in the console and the logs
(Runtime.ImportModuleError for the app, ConfigError for a setting, LifespanFailure for startup).
It is the same path the local tools and a user's own code take.
"""

from __future__ import annotations

import logging
import os

from .adapter import Adapter

logger = logging.getLogger("asgi_lambda.bootstrap")

handler = Adapter.from_environ(os.environ)
settings = handler.settings
started = {"init": ", started before the SnapStart snapshot", "restore": ", started after each SnapStart restore"}
logger.info(
    "Serving %s (lifespan %s%s%s).",
    settings.app,
    settings.lifespan,
    started[settings.snapstart] if settings.snapstart and settings.lifespan != "off" else "",
    f", WebSocket connections in {settings.websocket.backend}" if settings.websocket else "",
)
