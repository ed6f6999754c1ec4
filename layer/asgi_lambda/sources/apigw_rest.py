"""API Gateway payload format 1.0: REST APIs, and HTTP APIs whose integration uses payload 1.0.

https://docs.aws.amazon.com/apigateway/latest/developerguide/set-up-lambda-proxy-integrations.html
https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-develop-integrations-lambda.html
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Final

from .common import (
    LAMBDA_RESPONSE_LIMIT,
    PATH_ESCAPES,
    decode_body,
    encoded_query,
    header_pairs,
    http_scope,
    lowercase_lookup,
    percent_decode,
    percent_encode,
    response_body,
    root_path_for,
    split_value_headers,
)
from .fields import FLAG, TEXT, Fields, ListOf, MapOf, Nullable

if TYPE_CHECKING:
    from ..settings import Settings
    from ..types import LambdaEvent, LambdaResponse, Response


class RestApiEvent:
    kind: Final = "http"
    name = "API Gateway REST API (payload 1.0)"
    max_response_bytes = LAMBDA_RESPONSE_LIMIT
    fields = Fields(
        {
            "httpMethod": TEXT,
            "path": TEXT,
            "version": Nullable(TEXT),
            "headers": Nullable(MapOf(TEXT)),
            "multiValueHeaders": Nullable(MapOf(ListOf(TEXT))),
            "queryStringParameters": Nullable(MapOf(TEXT)),
            "multiValueQueryStringParameters": Nullable(MapOf(ListOf(TEXT))),
            "body": Nullable(TEXT),
            "isBase64Encoded": Nullable(FLAG),
            "requestContext": Fields(
                {
                    "path": Nullable(TEXT),
                    "stage": Nullable(TEXT),
                    "protocol": Nullable(TEXT),
                    "domainName": Nullable(TEXT),
                    "identity": Nullable(Fields({"sourceIp": Nullable(TEXT)})),
                },
                read=("path", "protocol"),
            ),
        },
        required=("httpMethod", "path", "requestContext"),
        read=("httpMethod", "path", "body", "version"),
    )

    @classmethod
    def matches(cls, event: LambdaEvent) -> bool:
        context = event.get("requestContext")
        return (
            "httpMethod" in event
            and isinstance(context, dict)
            and "elb" not in context
            and "eventType" not in context  # a WebSocket event may carry httpMethod too
            and "methodArn" not in event  # an authorizer's event is refused, not served
            and event.get("version", "1.0") == "1.0"
        )

    def __init__(self, event: LambdaEvent, context: Any, settings: Settings) -> None:
        request_context = event["requestContext"]
        path = event["path"]
        # A REST API's answer can stream; an HTTP API's payload 1.0 (with "version") cannot.
        self.streams = "version" not in event
        if not self.streams:
            # HTTP APIs send "version": "1.0" and deliver the path decoded, stage included.
            raw_path = percent_encode(path, PATH_ESCAPES)
        else:
            # REST APIs send the path as the client encoded it. On the execute-api domain it
            # lacks the stage the client used, which requestContext.path has ("/prod/items").
            context_path = request_context.get("path") or ""
            raw_path = context_path if path and context_path.endswith(path) else path or "/"
            path = percent_decode(raw_path)
        # Query values arrive decoded ("+" already a space); re-encoding them round-trips.
        params = event.get("multiValueQueryStringParameters") or event.get("queryStringParameters") or {}
        identity = request_context.get("identity") or {}
        headers, multi_value = event.get("headers"), event.get("multiValueHeaders")
        self.settings = settings
        self.method: str = event["httpMethod"].upper()
        self.body = decode_body(event.get("body"), is_base64=bool(event.get("isBase64Encoded")))
        self.scope = http_scope(
            event=event,
            context=context,
            method=self.method,
            path=path,
            raw_path=raw_path,
            root_path=root_path_for(path, stage=request_context.get("stage"), base_path=settings.base_path),
            query_string=encoded_query(params),
            headers=header_pairs(headers, multi_value),
            lookup=lowercase_lookup(headers, multi_value),
            client_ip=identity.get("sourceIp"),
            protocol=request_context.get("protocol"),
            domain_name=request_context.get("domainName"),
        )

    def to_response(self, response: Response) -> LambdaResponse:
        body, is_base64 = response_body(response, method=self.method, settings=self.settings)
        headers, multi_value = split_value_headers(response["headers"], exclude=self.settings.exclude_headers)
        return {
            "statusCode": response["status"],
            "headers": headers,
            "multiValueHeaders": multi_value,
            "body": body,
            "isBase64Encoded": is_base64,
        }
