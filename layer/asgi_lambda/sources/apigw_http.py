"""API Gateway payload format 2.0: HTTP APIs and Lambda Function URLs, which share it.

https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-develop-integrations-lambda.html
https://docs.aws.amazon.com/lambda/latest/dg/urls-invocation.html
"""

from __future__ import annotations

from typing import Any

from ..types import LambdaEvent, LambdaResponse, Response
from .common import (
    LAMBDA_RESPONSE_LIMIT,
    SourceConfig,
    decode_body,
    encode_decoded_path,
    header_pairs,
    http_scope,
    joined_headers_and_cookies,
    path_fields,
    require,
    response_body,
)


class HttpApiEvent:
    name = "API Gateway HTTP API (payload 2.0) and Lambda Function URL"
    max_response_bytes = LAMBDA_RESPONSE_LIMIT

    @classmethod
    def matches(cls, event: LambdaEvent) -> bool:
        context = event.get("requestContext")
        return event.get("version") == "2.0" and isinstance(context, dict) and isinstance(context.get("http"), dict)

    def __init__(self, event: LambdaEvent, context: Any, config: SourceConfig) -> None:
        request_context = event["requestContext"]
        http = request_context["http"]
        domain_name = request_context.get("domainName") or ""
        raw_path = event.get("rawPath") or http.get("path") or "/"
        # Function URLs send rawPath as the client encoded it; HTTP APIs send it decoded.
        encoded_path = raw_path if ".lambda-url." in domain_name else encode_decoded_path(raw_path)
        headers = header_pairs(event.get("headers"), None)
        if event.get("cookies"):
            # API Gateway moves Cookie headers into `cookies`; Function URLs send both.
            headers = [pair for pair in headers if pair[0] != b"cookie"]
            headers.append((b"cookie", "; ".join(event["cookies"]).encode()))
        self.config = config
        self.method: str = require(http, "method", where="payload 2.0 requestContext.http").upper()
        self.body = decode_body(event.get("body"), is_base64=bool(event.get("isBase64Encoded")))
        self.scope = http_scope(
            event=event,
            context=context,
            method=self.method,
            headers=headers,
            path=path_fields(encoded_path, stage=request_context.get("stage"), base_path=config.base_path),
            query_string=(event.get("rawQueryString") or "").encode(),
            client_ip=http.get("sourceIp"),
            protocol=http.get("protocol"),
            domain_name=domain_name or None,
        )

    def to_response(self, response: Response) -> LambdaResponse:
        headers, cookies = joined_headers_and_cookies(response["headers"], exclude=self.config.exclude_headers)
        body, is_base64 = response_body(response, method=self.method, config=self.config)
        shaped: LambdaResponse = {
            "statusCode": response["status"],
            "headers": headers,
            "body": body,
            "isBase64Encoded": is_base64,
        }
        if cookies:
            shaped["cookies"] = cookies
        return shaped
