"""Run ASGI apps on AWS Lambda: `handler = Adapter(app)`."""

from __future__ import annotations

from typing import Any

from .adapter import Adapter
from .exceptions import (
    AppImportError,
    AsgiLambdaError,
    ConfigError,
    EventNotHandled,
    InvalidMessage,
    LifespanFailure,
    MalformedEvent,
    UnexpectedMessage,
    UnknownEventError,
)

__all__ = [
    "Adapter",
    "AppImportError",
    "AsgiLambdaError",
    "ConfigError",
    "EventNotHandled",
    "InvalidMessage",
    "LifespanFailure",
    "MalformedEvent",
    "UnexpectedMessage",
    "UnknownEventError",
    "broadcast",
    "send",
]
__version__ = "0.1.0"


def __getattr__(name: str) -> Any:
    # The send API is imported on first use: an HTTP-only function never loads the WebSocket code.
    if name in ("send", "broadcast"):
        from .connections import send as send_api

        return getattr(send_api, name)
    raise AttributeError(f"module 'asgi_lambda' has no attribute {name!r}")
