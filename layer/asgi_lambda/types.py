"""Types shared across the package: ASGI callables, Lambda events, context and responses."""

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
