"""Mangum-style custom handlers (`Adapter(app, custom_handlers=[...])`), so that a function
that brought its own event source to Mangum migrates unchanged.

A Mangum handler class has `infer(event, context, config) -> bool` (a classmethod),
`__init__(event, context, config)`, `.scope`, `.body` and `__call__(response) -> dict`,
where `config` is Mangum's dict of the adapter options and `response` has `status`,
`headers` and `body`, as ours does.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Final

from .common import LAMBDA_RESPONSE_LIMIT

if TYPE_CHECKING:
    from ..settings import Settings
    from ..types import LambdaEvent, LambdaResponse, Response


def mangum_config(settings: Settings) -> dict[str, Any]:
    return {
        "api_gateway_base_path": settings.base_path or "/",
        "text_mime_types": list(settings.text_mime_types.entries),
        "exclude_headers": sorted(settings.exclude_headers),
    }


class MangumHandlerEvent:
    """One event handled by a Mangum custom handler, seen through our source interface."""

    kind: Final = "http"
    streams = False  # Lambda streams only Function URL and REST API answers
    max_response_bytes = LAMBDA_RESPONSE_LIMIT

    def __init__(self, handler: Any) -> None:
        self.handler = handler
        self.name = f"custom handler {type(handler).__name__}"
        self.scope: dict[str, Any] = handler.scope
        self.body: bytes = handler.body

    def to_response(self, response: Response) -> LambdaResponse:
        shaped: LambdaResponse = self.handler(response)
        return shaped


def infer(handlers: tuple[type, ...], event: LambdaEvent, context: Any, config: dict[str, Any]) -> MangumHandlerEvent | None:
    for handler_class in handlers:
        if handler_class.infer(event, context, config):  # type: ignore[attr-defined]
            return MangumHandlerEvent(handler_class(event, context, config))
    return None
