"""Event sources: each module maps one kind of Lambda event to an ASGI scope and shapes the
app's response the way that source expects it back."""

from __future__ import annotations

from typing import Any, ClassVar, Protocol

from ..types import LambdaEvent, LambdaResponse, Response
from .common import SourceConfig


class EventSource(Protocol):
    """One kind of event. An instance is one event, mapped once at construction."""

    name: ClassVar[str]
    max_response_bytes: ClassVar[int]
    scope: dict[str, Any]
    body: bytes

    @classmethod
    def matches(cls, event: LambdaEvent) -> bool: ...

    def __init__(self, event: LambdaEvent, context: Any, config: SourceConfig) -> None: ...

    def to_response(self, response: Response) -> LambdaResponse: ...
