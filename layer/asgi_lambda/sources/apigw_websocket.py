"""API Gateway WebSocket APIs: the $connect, message and $disconnect events.

https://docs.aws.amazon.com/apigateway/latest/developerguide/apigateway-websocket-api-overview.html
https://docs.aws.amazon.com/apigateway/latest/developerguide/websocket-api-develop-integrations.html

Only $connect carries the client's request (headers, query string); later events carry the
connection id. So the request is kept, JSON-safe, with the connection at $connect (`request`),
and every event's scope is built from it (`scope`). What happens in between (the store, the
replay of the connect phase, replies through the Management API) is `connections/`'s business;
the answer API Gateway gets is shaped here (`to_response`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Final

from ..settings.options import REDACTED
from .common import decode_body, encoded_query, header_pairs, server_and_scheme, trace_id
from .fields import FLAG, NUMBER, TEXT, Fields, ListOf, MapOf, Nullable

if TYPE_CHECKING:
    from ..settings import Settings
    from ..types import LambdaEvent, LambdaResponse, WebSocketOutcome

EVENT_TYPES = ("CONNECT", "MESSAGE", "DISCONNECT")


class WebSocketEvent:
    """One WebSocket event: which kind, for which connection, and what it carries."""

    kind: Final = "websocket"
    name = "API Gateway WebSocket API"
    fields = Fields(
        {
            "headers": Nullable(MapOf(TEXT)),
            "multiValueHeaders": Nullable(MapOf(ListOf(TEXT))),
            "queryStringParameters": Nullable(MapOf(TEXT)),
            "multiValueQueryStringParameters": Nullable(MapOf(ListOf(TEXT))),
            "body": Nullable(TEXT),
            "isBase64Encoded": Nullable(FLAG),
            "requestContext": Fields(
                {
                    "eventType": TEXT,
                    "connectionId": TEXT,
                    "apiId": TEXT,
                    "stage": TEXT,
                    "domainName": Nullable(TEXT),
                    "identity": Nullable(Fields({"sourceIp": Nullable(TEXT)})),
                    "disconnectStatusCode": Nullable(NUMBER),
                    "disconnectReason": Nullable(TEXT),
                },
                required=("eventType", "connectionId", "apiId", "stage"),
            ),
        },
        required=("requestContext",),
    )

    @classmethod
    def matches(cls, event: LambdaEvent) -> bool:
        context = event.get("requestContext")
        return isinstance(context, dict) and context.get("eventType") in EVENT_TYPES and "connectionId" in context

    def __init__(self, event: LambdaEvent, context: Any, settings: Settings) -> None:
        request_context = event["requestContext"]
        self.event = event
        self.context = context
        self.event_type = request_context["eventType"]
        self.connection_id: str = request_context["connectionId"]
        self.api_id: str = request_context["apiId"]
        self.stage: str = request_context["stage"]
        self.request_context = request_context
        # What the event carries is read now, with the rest of it, so that a field that is not what
        # the format says fails the mapping rather than the app's run.
        self.connect_request = self.read_request() if self.event_type == "CONNECT" else {}
        self.received = self.read_message() if self.event_type == "MESSAGE" else {}

    def message(self) -> dict[str, Any]:
        """The client's message as ASGI's websocket.receive."""
        return self.received

    def read_message(self) -> dict[str, Any]:
        """websocket.receive: bytes when API Gateway marks the body base64, else text."""
        body = self.event.get("body") or ""
        if self.event.get("isBase64Encoded"):
            return {"type": "websocket.receive", "bytes": decode_body(body, is_base64=True), "text": None}
        body.encode()  # text the app can send on: a lone surrogate fails here, naming the body
        return {"type": "websocket.receive", "bytes": None, "text": body}

    def disconnect(self) -> dict[str, Any]:
        """ASGI's websocket.disconnect with the close code and reason API Gateway reports."""
        code = self.request_context.get("disconnectStatusCode")
        return {
            "type": "websocket.disconnect",
            "code": code if isinstance(code, int) else 1005,
            "reason": self.request_context.get("disconnectReason") or "",
        }

    def request(self, *, path: str, redact: frozenset[str] = frozenset()) -> dict[str, Any]:
        """The $connect request, JSON-safe, with the path WS_PATH gives. As the store keeps it, the
        values of the headers and query parameters `redact` names (lowercase) are REDACTED: the
        store outlives the connection (DynamoDB's TTL by days), and they are live credentials."""
        request = {"path": path, **self.connect_request}
        if redact:
            request["headers"] = [[name, REDACTED if name in redact else value] for name, value in request["headers"]]
            request["query_string"] = encoded_query(self.query_params(redact)).decode()
        return request

    def query_params(self, redact: frozenset[str] = frozenset()) -> dict[str, Any]:
        params = self.event.get("multiValueQueryStringParameters") or self.event.get("queryStringParameters") or {}
        if not redact:
            return params
        return {
            key: (REDACTED if isinstance(values, str) else [REDACTED] * len(values)) if key.lower() in redact else values
            for key, values in params.items()
        }

    def read_request(self) -> dict[str, Any]:
        headers = header_pairs(self.event.get("headers"), self.event.get("multiValueHeaders"))
        protocols = [value.decode() for name, value in headers if name == b"sec-websocket-protocol"]
        identity = self.request_context.get("identity") or {}
        # As an HTTP scope's: Host and the X-Forwarded-* headers API Gateway sets (or the local gateway).
        lookup = {name.decode(): value.decode() for name, value in reversed(headers)}
        server, scheme = server_and_scheme(lookup, domain_name=self.request_context.get("domainName"))
        return {
            "query_string": encoded_query(self.query_params()).decode(),
            "headers": [[name.decode(), value.decode()] for name, value in headers],
            "subprotocols": [protocol.strip() for value in protocols for protocol in value.split(",") if protocol.strip()],
            "client": [identity["sourceIp"], 0] if identity.get("sourceIp") else None,
            "server": list(server) if server else None,
            "scheme": "ws" if scheme == "http" else "wss",
        }

    def scope(self, stored: dict[str, Any], *, app_state: dict[str, Any] | None) -> dict[str, Any]:
        """The ASGI websocket scope for this event, from the stored $connect request."""
        scope = {
            "type": "websocket",
            "asgi": {"version": "3.0", "spec_version": "2.4"},
            "http_version": "1.1",
            "scheme": stored.get("scheme", "wss"),  # a connection stored before the scheme was kept: API Gateway's
            "path": stored["path"],
            "raw_path": stored["path"].encode(),
            "root_path": "",
            "query_string": stored["query_string"].encode(),
            "headers": [(name.encode(), value.encode()) for name, value in stored["headers"]],
            "client": tuple(stored["client"]) if stored.get("client") else None,
            "server": tuple(stored["server"]) if stored.get("server") else None,
            "subprotocols": stored["subprotocols"],
            "aws.event": self.event,
            "aws.context": self.context,
            "aws.trace_id": trace_id(self.context),
            "aws.connection_id": self.connection_id,
        }
        tenant = getattr(self.context, "tenant_id", None)
        if tenant is not None:
            scope["aws.tenant_id"] = tenant
        if app_state is not None:
            scope["state"] = app_state.copy()
        return scope

    def to_response(self, outcome: WebSocketOutcome) -> LambdaResponse:
        """API Gateway reads only the status, and at $connect the chosen subprotocol's header."""
        if outcome["subprotocol"] and outcome["status"] == 200:
            return {"statusCode": 200, "headers": {"Sec-WebSocket-Protocol": outcome["subprotocol"]}}
        return {"statusCode": outcome["status"]}
