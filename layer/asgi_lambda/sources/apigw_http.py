"""API Gateway payload format 2.0: HTTP APIs and Lambda Function URLs, which share it.

https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-develop-integrations-lambda.html
https://docs.aws.amazon.com/lambda/latest/dg/urls-invocation.html
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Final

from .common import (
    LAMBDA_RESPONSE_LIMIT,
    PATH_ESCAPES,
    decode_body,
    header_pairs,
    http_scope,
    joined_headers_and_cookies,
    lowercase_lookup,
    percent_decode,
    percent_encode,
    response_body,
    root_path_for,
)
from .fields import FLAG, TEXT, Fields, ListOf, MapOf, Nullable

if TYPE_CHECKING:
    from ..settings import Settings
    from ..types import LambdaEvent, LambdaResponse, Response


class HttpApiEvent:
    kind: Final = "http"
    name = "API Gateway HTTP API (payload 2.0) and Lambda Function URL"
    max_response_bytes = LAMBDA_RESPONSE_LIMIT
    fields = Fields(
        {
            "rawPath": Nullable(TEXT),
            "rawQueryString": Nullable(TEXT),
            "headers": Nullable(MapOf(TEXT)),
            "cookies": Nullable(ListOf(TEXT)),
            "body": Nullable(TEXT),
            "isBase64Encoded": Nullable(FLAG),
            "requestContext": Fields(
                {
                    "domainName": Nullable(TEXT),
                    "stage": Nullable(TEXT),
                    "http": Fields(
                        {"method": TEXT, "path": Nullable(TEXT), "sourceIp": Nullable(TEXT), "protocol": Nullable(TEXT)},
                        required=("method",),
                        read=("method", "path", "protocol"),
                    ),
                },
                required=("http",),
            ),
        },
        required=("requestContext",),
        read=("rawPath", "rawQueryString", "headers", "body"),
    )

    @classmethod
    def matches(cls, event: LambdaEvent) -> bool:
        context = event.get("requestContext")
        return (
            event.get("version") == "2.0"
            and isinstance(context, dict)
            and isinstance(context.get("http"), dict)
            and "routeArn" not in event  # an authorizer's event is refused, not served
        )

    def __init__(self, event: LambdaEvent, context: Any, settings: Settings) -> None:
        request_context = event["requestContext"]
        http = request_context["http"]
        domain_name = request_context.get("domainName") or ""
        raw_path = event.get("rawPath") or http.get("path") or "/"
        # Function URLs send rawPath as the client encoded it. HTTP APIs send it decoded
        # (a %2F the client sent is lost) and it is re-encoded to give a valid raw_path.
        # A Function URL's answer can stream; an HTTP API's cannot, though the payload is the same.
        self.streams = ".lambda-url." in domain_name
        if self.streams:
            path = percent_decode(raw_path)
        else:
            path, raw_path = raw_path, percent_encode(raw_path, PATH_ESCAPES)
        lookup = event.get("headers") or {}
        headers = header_pairs(lookup, None)
        if lookup and "host" not in lookup:
            # API Gateway lowercases payload 2.0 header names, and always sends Host; `sam local`
            # sends them as the client wrote them (Host, X-Forwarded-Proto).
            lookup = lowercase_lookup(lookup, None)
        if event.get("cookies"):
            # API Gateway moves Cookie headers into `cookies`; Function URLs send both.
            headers = [pair for pair in headers if pair[0] != b"cookie"]
            headers.append((b"cookie", "; ".join(event["cookies"]).encode()))
        self.settings = settings
        self.method: str = http["method"].upper()
        self.body = decode_body(event.get("body"), is_base64=bool(event.get("isBase64Encoded")))
        self.scope = http_scope(
            event=event,
            context=context,
            method=self.method,
            path=path,
            raw_path=raw_path,
            root_path=root_path_for(path, stage=request_context.get("stage"), base_path=settings.base_path),
            query_string=(event.get("rawQueryString") or "").encode(),
            headers=headers,
            lookup=lookup,
            client_ip=http.get("sourceIp"),
            protocol=http.get("protocol"),
            domain_name=domain_name or None,
        )

    def to_response(self, response: Response) -> LambdaResponse:
        headers, cookies = joined_headers_and_cookies(response["headers"], exclude=self.settings.exclude_headers)
        body, is_base64 = response_body(response, method=self.method, settings=self.settings)
        shaped: LambdaResponse = {
            "statusCode": response["status"],
            "headers": headers,
            "body": body,
            "isBase64Encoded": is_base64,
        }
        if cookies:
            shaped["cookies"] = cookies
        return shaped
