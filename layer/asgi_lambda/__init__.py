"""Run ASGI apps on AWS Lambda: `handler = Adapter(app)`."""

from __future__ import annotations

from .exceptions import (
    AppImportError,
    AsgiLambdaError,
    ConfigError,
    EventNotHandled,
    InvalidMessage,
    LifespanFailure,
    MalformedEvent,
    MessageTooLarge,
    QueueUnavailable,
    StoreUnavailable,
    UnexpectedMessage,
    UnknownEventError,
)

TYPE_CHECKING = False  # typing is not imported on a plain handler's path (runtime/api.py says why)
if TYPE_CHECKING:
    from typing import Any

    from .adapter import Adapter

__all__ = [
    "Adapter",
    "AppImportError",
    "AsgiLambdaError",
    "ConfigError",
    "EventNotHandled",
    "InvalidMessage",
    "LifespanFailure",
    "MalformedEvent",
    "MessageTooLarge",
    "QueueUnavailable",
    "StoreUnavailable",
    "UnexpectedMessage",
    "UnknownEventError",
    "broadcast",
    "join",
    "leave",
    "rooms",
    "send",
]
__version__ = "0.1.0"


def __getattr__(name: str) -> Any:
    # Imported on first use: a plain handler served by the layer's runtime client never loads
    # asyncio, and an HTTP-only function never loads the WebSocket code (the send API).
    if name == "Adapter":
        from .adapter import Adapter

        return Adapter
    if name in ("send", "broadcast", "join", "leave", "rooms"):
        from . import websocket

        return getattr(websocket, name)
    raise AttributeError(f"module 'asgi_lambda' has no attribute {name!r}")
