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
from .fields import FLAG, FLAG_OR_NULL, OBJECT_OR_NULL, ONLY_LISTS, TEXT, TEXT_OR_NULL, Fields, ListOf, MapOf, Nullable, Unfit

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
            ),
        },
        required=("httpMethod", "path", "requestContext"),
        read=(
            "httpMethod",
            "path",
            "version",
            "headers",
            "multiValueHeaders",
            "queryStringParameters",
            "multiValueQueryStringParameters",
            "body",
            "isBase64Encoded",
            "requestContext",
        ),
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
        request_context = event["requestContext"]  # `matches` found it an object
        path = event["path"]
        headers = event.get("headers")
        multi_value = event.get("multiValueHeaders")
        params = event.get("queryStringParameters")
        multi_params = event.get("multiValueQueryStringParameters")
        body = event.get("body")
        is_base64 = event.get("isBase64Encoded")
        stage = request_context.get("stage")
        domain_name = request_context.get("domainName")
        identity = request_context.get("identity")
        client_ip = identity.get("sourceIp") if identity else None
        # The declared types of what is read below, checked here, where no reading would refuse
        # another (anything formats; one of two alternatives goes unread): `fields` names the
        # culprit. httpMethod, path, body, requestContext.path and .protocol fail as they are
        # read, multiValueHeaders' lists as header_pairs reads them; `matches` checked version.
        if not (
            type(headers) in OBJECT_OR_NULL
            and type(multi_value) in OBJECT_OR_NULL
            and type(params) in OBJECT_OR_NULL
            and type(multi_params) in OBJECT_OR_NULL
            and type(is_base64) in FLAG_OR_NULL
            and type(stage) in TEXT_OR_NULL
            and type(domain_name) in TEXT_OR_NULL
            and type(identity) in OBJECT_OR_NULL
            and type(client_ip) in TEXT_OR_NULL
        ):
            raise Unfit
        if multi_params:
            if not set(map(type, multi_params.values())) <= ONLY_LISTS:  # encoded_query takes a string as one value
                raise Unfit
            params = multi_params
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
        self.settings = settings
        self.method: str = event["httpMethod"].upper()
        self.body = decode_body(body, is_base64=bool(is_base64)) if body else b""
        self.scope = http_scope(
            event=event,
            context=context,
            method=self.method,
            path=path,
            raw_path=raw_path,
            root_path=root_path_for(path, stage=stage, base_path=settings.base_path),
            # Query values arrive decoded ("+" already a space); re-encoding them round-trips.
            query_string=encoded_query(params) if params else b"",
            headers=header_pairs(headers, multi_value),
            lookup=lowercase_lookup(headers, multi_value),
            client_ip=client_ip,
            protocol=request_context.get("protocol"),
            domain_name=domain_name,
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
