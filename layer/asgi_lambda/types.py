"""Types shared across the package: ASGI callables, Lambda events, context and responses.

Only for type checkers: modules import it under `if TYPE_CHECKING:`, so that building
these Protocols and TypedDicts costs nothing at cold start. A leaf: it imports nothing of the package.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any, Literal, Protocol, TypedDict

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

Headers = list[tuple[bytes, bytes]]
LambdaEvent = dict[str, Any]
LambdaResponse = Any  # JSON: a dict for HTTP and WebSocket events, any value for non-HTTP ones
LifespanMode = Literal["auto", "on", "off"]


class HandlerContext(Protocol):
    """What a handler may read of the context object the Lambda runtime passes it (the layer's own
    is runtime/context.py's `LambdaContext`).

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
    """What the app answered an HTTP request, before its source shapes it."""

    status: int
    headers: Headers
    body: bytes


class WebSocketOutcome(TypedDict):
    """How one WebSocket event went, before its source shapes the answer to API Gateway."""

    status: int  # 200, 403 (refused at $connect) or 500
    subprotocol: str | None


class HTTPRequest(Protocol):
    """An event mapped, once, to one HTTP request: the scope and body the app receives, and
    how to answer the event with what the app sent."""

    @property
    def kind(self) -> Literal["http"]: ...

    name: str
    max_response_bytes: int
    streams: bool  # whether Lambda can stream the answer (a Function URL's, a REST API's)
    scope: dict[str, Any]
    body: bytes

    def to_response(self, response: Response) -> LambdaResponse: ...


class WebSocketRequest(Protocol):
    """A WebSocket API event, mapped once. Only $connect carries the client's request, so the
    scope is built from the `request()` kept in the store at $connect (`scope(stored)`)."""

    @property
    def kind(self) -> Literal["websocket"]: ...

    name: str
    event_type: Literal["CONNECT", "MESSAGE", "DISCONNECT"]
    connection_id: str
    api_id: str
    stage: str
    context: Any

    def request(self, *, path: str, redact: frozenset[str] = ...) -> dict[str, Any]: ...

    def scope(self, stored: dict[str, Any], *, app_state: dict[str, Any] | None) -> dict[str, Any]: ...

    def message(self) -> Message: ...

    def disconnect(self) -> Message: ...

    def to_response(self, outcome: WebSocketOutcome) -> LambdaResponse: ...


class FanoutRequest(Protocol):
    """A batch of the layer's own fan-out pages (SQS records it queued for a broadcast): each page's
    message id and body, and the answer naming the pages that failed."""

    @property
    def kind(self) -> Literal["fanout"]: ...

    name: str
    pages: list[tuple[str, str]]

    def to_response(self, failed: list[str]) -> LambdaResponse: ...


MappedEvent = HTTPRequest | WebSocketRequest | FanoutRequest
