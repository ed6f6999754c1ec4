"""The zero-code handler: the exec wrapper sets `_HANDLER=asgi_lambda.bootstrap.handler`.

All the work happens at import, which on Lambda is the init phase: it runs before the first
request, with the boosted CPU Lambda gives init. The settings are checked, the app imported,
the adapter made and the app's lifespan started (and, with WS_BACKEND set, the WebSocket
store made, its library imported), so the first request pays nothing extra, and a fault fails
the init with a message the runtime shows in the console and the logs (Runtime.ImportModuleError
for the app, ConfigError for a setting, LifespanFailure for startup).
"""

from __future__ import annotations

import logging
import os

from .adapter import Adapter

logger = logging.getLogger("asgi_lambda.bootstrap")

handler = Adapter.from_environ(os.environ)
logger.info(
    "Serving %s (lifespan %s%s).",
    handler.settings.app,
    handler.settings.lifespan,
    f", WebSocket connections in {handler.settings.websocket.backend}" if handler.settings.websocket else "",
)
