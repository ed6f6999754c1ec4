"""Types shared across the package: ASGI callables, Lambda events, context and responses.

Only for type checkers: modules import it under `if TYPE_CHECKING:`, so that building
these Protocols and TypedDicts costs nothing at cold start.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, MutableMapping
from typing import TYPE_CHECKING, Any, Literal, Protocol, TypedDict

if TYPE_CHECKING:
    from .sources.common import SourceConfig

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

Headers = list[tuple[bytes, bytes]]
LambdaEvent = dict[str, Any]
LambdaResponse = dict[str, Any]
LifespanMode = Literal["auto", "on", "off"]


class LambdaContext(Protocol):
    """The context object the Lambda runtime passes to a handler.

    https://docs.aws.amazon.com/lambda/latest/dg/python-context.html
    """

    function_name: str
    function_version: str
    invoked_function_arn: str
    memory_limit_in_mb: int
    aws_request_id: str
    log_group_name: str
    log_stream_name: str

    def get_remaining_time_in_millis(self) -> int: ...


class Response(TypedDict):
    """What the app answered, before it is shaped for an event source."""

    status: int
    headers: Headers
    body: bytes


class MappedEvent(Protocol):
    """One event, mapped once by its source: the scope and body for the app, and how to answer it."""

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
