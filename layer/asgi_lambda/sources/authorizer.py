"""API Gateway Lambda authorizer events (REQUEST and TOKEN, REST and HTTP APIs), recognised so as
to be refused: they look like proxy requests, and answering one as if it were would hand API
Gateway an HTTP response where it expects a policy.

https://docs.aws.amazon.com/apigateway/latest/developerguide/api-gateway-lambda-authorizer-input.html
https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-lambda-authorizer.html
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Final

from ..exceptions import UnknownEventError
from .fields import Fields

if TYPE_CHECKING:
    from ..settings import Settings
    from ..types import LambdaEvent, LambdaResponse, Response


class AuthorizerEvent:
    kind: Final = "http"
    streams = False  # Lambda streams only Function URL and REST API answers
    refuses = True  # recognised only to be refused by name: not among the sources an error lists
    name = "API Gateway Lambda authorizer (refused)"
    max_response_bytes = 0
    fields = Fields({})
    scope: dict[str, Any]  # never made: the event is refused
    body: bytes

    @classmethod
    def matches(cls, event: LambdaEvent) -> bool:
        # Only authorizer events name the method or route being authorized.
        return "methodArn" in event or "routeArn" in event

    def __init__(self, event: LambdaEvent, context: Any, settings: Settings) -> None:
        arn = event.get("methodArn") or event.get("routeArn")
        raise UnknownEventError(
            f"This is an API Gateway Lambda authorizer event (type {event.get('type')!r}, {arn!r}): asgi_lambda serves "
            "proxy integrations, not authorizers. Give the authorizer a function of its own, which returns a policy "
            "or {'isAuthorized': ...}."
        )

    def to_response(self, response: Response) -> LambdaResponse:  # pragma: no cover (never mapped)
        raise NotImplementedError
