"""The zero-code handler: the exec wrapper sets `_HANDLER=asgi_lambda.bootstrap.handler`.

All the work happens at import, which on Lambda is the init phase: it runs before the first
request, with the boosted CPU Lambda gives init. The settings are checked, the app imported,
the adapter made and the app's lifespan started (and, with WS_BACKEND set, the WebSocket
store made, its library imported), so the first request pays nothing extra,
and a fault fails the init with a message the runtime shows in the console and the logs
(Runtime.ImportModuleError for the app, ConfigError for a setting, LifespanFailure for
startup).
"""

from __future__ import annotations

import logging
import os

from .adapter import Adapter
from .config import Config
from .importer import import_app

logger = logging.getLogger("asgi_lambda.bootstrap")

config = Config.from_environ(os.environ)
if config.websocket is not None:
    from .websocket import runtime

    runtime.install(runtime.WebSocketRuntime(config.websocket))
app = import_app(config.app)
handler = Adapter(
    app,
    lifespan=config.lifespan,
    api_gateway_base_path=config.base_path,
    text_mime_types=config.text_mime_types,
    exclude_headers=config.exclude_headers,
)
logger.info(
    "Serving %s (lifespan %s%s).",
    config.app,
    config.lifespan,
    f", WebSocket connections in {config.websocket.backend}" if config.websocket else "",
)
