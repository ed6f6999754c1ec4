"""Event sources: each module maps one kind of Lambda event to an ASGI scope and shapes the
app's response the way that source expects it back."""

from __future__ import annotations

from typing import Any, Protocol

from ..types import LambdaEvent, LambdaResponse, Response
from .common import SourceConfig


class MappedEvent(Protocol):
    """One event, mapped once: the scope and body for the app, and how to answer it."""

    name: str
    max_response_bytes: int
    scope: dict[str, Any]
    body: bytes

    def to_response(self, response: Response) -> LambdaResponse: ...


class EventSource(Protocol):
    """One kind of event: a class whose instances are MappedEvents."""

    name: str

    def matches(self, event: LambdaEvent) -> bool: ...

    def __call__(self, event: LambdaEvent, context: Any, config: SourceConfig) -> MappedEvent: ...
