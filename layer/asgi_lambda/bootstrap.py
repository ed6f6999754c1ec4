"""The zero-code handler: the exec wrapper sets `_HANDLER=asgi_lambda.bootstrap.handler`.

All the work happens at import, which on Lambda is the init phase: it runs before the first
request, with the boosted CPU Lambda gives init. The settings are checked, the app imported,
the adapter made and the app's lifespan started (and, with WS_BACKEND set, the WebSocket
store made, its library imported), so the first request pays nothing extra, and a fault fails
the init with a message the runtime shows in the console and the logs (Runtime.ImportModuleError
for the app, ConfigError for a setting, LifespanFailure for startup).

A SnapStart init (AWS_LAMBDA_INITIALIZATION_TYPE=snap-start) registers the snapshot and restore
hooks first (snapstart.py, imported then only), so that the app's own hooks, registered as it is
imported, run before ours at the snapshot and after ours at a restore.
"""

from __future__ import annotations

import logging
import os

from .adapter import Adapter
from .importer import import_app
from .settings import Settings

logger = logging.getLogger("asgi_lambda.bootstrap")

settings = Settings.from_environ(os.environ)
if settings.snapstart is not None:
    from . import snapstart

    snapstart.install(settings)
handler = Adapter(import_app(settings.app or "", variable="ASGI_APP"), settings=settings)
started = {"init": ", started before the SnapStart snapshot", "restore": ", started after each SnapStart restore"}
logger.info(
    "Serving %s (lifespan %s%s%s).",
    settings.app,
    settings.lifespan,
    started[settings.snapstart] if settings.snapstart and settings.lifespan != "off" else "",
    f", WebSocket connections in {settings.websocket.backend}" if settings.websocket else "",
)
