"""Application Load Balancer Lambda targets, with and without multi-value headers.

https://docs.aws.amazon.com/elasticloadbalancing/latest/application/lambda-functions.html
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any, Final

from .common import (
    decode_body,
    forwarded_client,
    header_pairs,
    http_scope,
    lowercase_lookup,
    multi_value_headers,
    percent_decode,
    response_body,
    root_path_for,
    single_value_headers,
    status_description,
)
from .fields import FLAG, TEXT, Fields, ListOf, MapOf, Nullable

if TYPE_CHECKING:
    from ..settings import Settings
    from ..types import Headers, LambdaEvent, LambdaResponse, Response


logger = logging.getLogger("asgi_lambda.sources")

# ALB refuses a response JSON over 1 MB (Lambda's own limit is 6 MB).
ALB_RESPONSE_LIMIT = 1024 * 1024


class AlbEvent:
    kind: Final = "http"
    streams = False  # Lambda streams only Function URL and REST API answers
    name = "Application Load Balancer"
    max_response_bytes = ALB_RESPONSE_LIMIT
    fields = Fields(
        {
            "httpMethod": TEXT,
            "path": TEXT,
            "headers": Nullable(MapOf(TEXT)),
            "multiValueHeaders": Nullable(MapOf(ListOf(TEXT))),
            "queryStringParameters": Nullable(MapOf(TEXT)),
            "multiValueQueryStringParameters": Nullable(MapOf(ListOf(TEXT))),
            "body": Nullable(TEXT),
            "isBase64Encoded": Nullable(FLAG),
        },
        required=("httpMethod", "path"),
        read=("httpMethod", "path", "body"),
    )
    warned_single_value = False  # class-wide: the warning is logged once per environment

    @classmethod
    def matches(cls, event: LambdaEvent) -> bool:
        context = event.get("requestContext")
        return "httpMethod" in event and isinstance(context, dict) and "elb" in context

    def __init__(self, event: LambdaEvent, context: Any, settings: Settings) -> None:
        # The target group's multi-value setting decides both the request's and the
        # response's shape: with it, `headers` and `queryStringParameters` are null.
        self.multi_value = event.get("multiValueHeaders") is not None
        single_value, multi_value = event.get("headers"), event.get("multiValueHeaders")
        headers = header_pairs(single_value, multi_value)
        raw_path = event["path"] or "/"
        path = percent_decode(raw_path)
        # ALB passes query keys and values as the client sent them, still encoded.
        params = event.get("multiValueQueryStringParameters") or event.get("queryStringParameters") or {}
        query_string = "&".join(
            f"{key}={value}" for key, values in params.items() for value in (values if isinstance(values, list) else [values])
        )
        self.settings = settings
        self.method: str = event["httpMethod"].upper()
        self.body = decode_body(event.get("body"), is_base64=bool(event.get("isBase64Encoded")))
        self.scope = http_scope(
            event=event,
            context=context,
            method=self.method,
            path=path,
            raw_path=raw_path,
            root_path=root_path_for(path, stage=None, base_path=settings.base_path),
            query_string=query_string.encode(),
            headers=headers,
            lookup=lowercase_lookup(single_value, multi_value),
            client_ip=forwarded_client(headers),
            protocol=None,
            domain_name=None,
        )

    def to_response(self, response: Response) -> LambdaResponse:
        status = response["status"]
        body, is_base64 = response_body(response, method=self.method, settings=self.settings)
        shaped: LambdaResponse = {
            "statusCode": status,
            "statusDescription": status_description(status),
            "body": body,
            "isBase64Encoded": is_base64,
        }
        if self.multi_value:
            shaped["multiValueHeaders"] = multi_value_headers(response["headers"], exclude=self.settings.exclude_headers)
        else:
            shaped["headers"] = self.single_value_headers(response["headers"])
        return shaped

    def single_value_headers(self, headers: Headers) -> dict[str, str]:
        shaped, cookies = single_value_headers(headers, exclude=self.settings.exclude_headers)
        if cookies > 1 and not AlbEvent.warned_single_value:
            AlbEvent.warned_single_value = True
            logger.warning(
                "The response sets %d cookies but the ALB target group sends single-value headers; "
                "they are sent under differently cased Set-Cookie names. Enable multi-value headers "
                "on the target group (lambda.multi_value_headers.enabled) to send them as they are.",
                cookies,
            )
        return shaped
