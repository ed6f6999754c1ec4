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
from .fields import FLAG, FLAG_OR_NULL, LIST_OR_NULL, TEXT, TEXT_OR_NULL, Fields, ListOf, MapOf, Nullable, Unfit

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
                    ),
                },
                required=("http",),
            ),
        },
        required=("requestContext",),
        read=("rawPath", "rawQueryString", "headers", "cookies", "body", "isBase64Encoded", "requestContext"),
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
        request_context = event["requestContext"]  # `matches` found it and `http` to be objects
        http = request_context["http"]
        raw_path = event.get("rawPath")
        query = event.get("rawQueryString")
        headers = event.get("headers")
        cookies = event.get("cookies")
        body = event.get("body")
        is_base64 = event.get("isBase64Encoded")
        domain_name = request_context.get("domainName")
        stage = request_context.get("stage")
        client_ip = http.get("sourceIp")
        # The declared types of what is read below, checked here, where no reading would refuse
        # another (a list is searched with `in`, anything formats): `fields` names the culprit.
        # rawPath, rawQueryString, headers, body, method, path and protocol fail as they are read.
        if not (
            type(cookies) in LIST_OR_NULL
            and type(is_base64) in FLAG_OR_NULL
            and type(domain_name) in TEXT_OR_NULL
            and type(stage) in TEXT_OR_NULL
            and type(client_ip) in TEXT_OR_NULL
        ):
            raise Unfit
        raw_path = raw_path or http.get("path") or "/"
        # Function URLs send rawPath as the client encoded it. HTTP APIs send it decoded
        # (a %2F the client sent is lost) and it is re-encoded to give a valid raw_path.
        # A Function URL's answer can stream; an HTTP API's cannot, though the payload is the same.
        self.streams = bool(domain_name) and ".lambda-url." in domain_name
        if self.streams:
            path = percent_decode(raw_path)
        else:
            path, raw_path = raw_path, percent_encode(raw_path, PATH_ESCAPES)
        lookup = headers or {}
        pairs = header_pairs(lookup, None)
        if lookup and "host" not in lookup:
            # API Gateway lowercases payload 2.0 header names, and always sends Host; `sam local`
            # sends them as the client wrote them (Host, X-Forwarded-Proto).
            lookup = lowercase_lookup(lookup, None)
        if cookies:
            # API Gateway moves Cookie headers into `cookies`; Function URLs send both.
            pairs = [pair for pair in pairs if pair[0] != b"cookie"]
            pairs.append((b"cookie", "; ".join(cookies).encode()))
        self.settings = settings
        self.method: str = http["method"].upper()
        self.body = decode_body(body, is_base64=bool(is_base64)) if body else b""
        self.scope = http_scope(
            event=event,
            context=context,
            method=self.method,
            path=path,
            raw_path=raw_path,
            root_path=root_path_for(path, stage=stage, base_path=settings.base_path),
            query_string=(query or "").encode(),
            headers=pairs,
            lookup=lookup,
            client_ip=client_ip,
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
