"""Amazon VPC Lattice Lambda targets: event structure versions 2 and 1 (the target group's
`lambdaEventStructureVersion`).

https://docs.aws.amazon.com/vpc-lattice/latest/ug/lambda-functions.html

Version 2 carries repeated headers and query parameters as lists; version 1 joins repeated
headers with ", " and keeps only the last value of a repeated query parameter, so what it
loses cannot be given back. Neither carries the raw query string: it is rebuilt from the
parameters, taken as decoded, as API Gateway's are. Lattice sends no source IP field but
appends the peer to X-Forwarded-For, and has no scheme field: X-Forwarded-Proto when present,
else https. The answer has one shape for both versions, `headers` holding one string per name.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Final

from .common import (
    LAMBDA_RESPONSE_LIMIT,
    decode_body,
    encoded_query,
    forwarded_client,
    header_pairs,
    http_scope,
    lowercase_lookup,
    percent_decode,
    response_body,
    root_path_for,
    single_value_headers,
)
from .fields import FLAG, TEXT, Either, Fields, ListOf, MapOf, Nullable

if TYPE_CHECKING:
    from ..settings import Settings
    from ..types import Headers, LambdaEvent, LambdaResponse, Response


class VpcLatticeEvent:
    kind: Final = "http"
    streams = False  # Lambda streams only Function URL and REST API answers
    name = "Amazon VPC Lattice (event structure version 2)"
    max_response_bytes = LAMBDA_RESPONSE_LIMIT
    fields = Fields(
        {
            "path": TEXT,
            "method": TEXT,
            # AWS documents lists; client libraries disagree, so one string is taken too.
            "headers": Nullable(MapOf(Either(ListOf(TEXT), TEXT))),
            "queryStringParameters": Nullable(MapOf(Either(ListOf(TEXT), TEXT))),
            "body": Nullable(TEXT),
            "isBase64Encoded": Nullable(FLAG),
        },
        required=("path", "method"),
    )

    @classmethod
    def matches(cls, event: LambdaEvent) -> bool:
        context = event.get("requestContext")
        return event.get("version") == "2.0" and isinstance(context, dict) and "serviceNetworkArn" in context

    def __init__(self, event: LambdaEvent, context: Any, settings: Settings) -> None:
        multi_value = {name: values if isinstance(values, list) else [values] for name, values in (event.get("headers") or {}).items()}
        self.settings = settings
        self.method: str = event["method"].upper()
        self.body = decode_body(event.get("body"), is_base64=bool(event.get("isBase64Encoded")))
        self.scope = lattice_scope(
            event,
            context,
            settings,
            method=self.method,
            raw_path=event["path"] or "/",
            headers=header_pairs(None, multi_value),
            lookup=lowercase_lookup(None, multi_value),
            params=event.get("queryStringParameters") or {},
        )

    def to_response(self, response: Response) -> LambdaResponse:
        return lattice_response(response, method=self.method, settings=self.settings)


class VpcLatticeV1Event:
    kind: Final = "http"
    streams = False  # Lambda streams only Function URL and REST API answers
    name = "Amazon VPC Lattice (event structure version 1)"
    max_response_bytes = LAMBDA_RESPONSE_LIMIT
    fields = Fields(
        {
            "raw_path": TEXT,
            "method": TEXT,
            "headers": Nullable(MapOf(TEXT)),
            "query_string_parameters": Nullable(MapOf(TEXT)),
            "body": Nullable(TEXT),
            "is_base64_encoded": Nullable(FLAG),
        },
        required=("raw_path", "method"),
    )

    @classmethod
    def matches(cls, event: LambdaEvent) -> bool:
        return "raw_path" in event and "method" in event and "requestContext" not in event

    def __init__(self, event: LambdaEvent, context: Any, settings: Settings) -> None:
        headers = event.get("headers") or {}
        self.settings = settings
        self.method: str = event["method"].upper()
        self.body = decode_body(event.get("body"), is_base64=bool(event.get("is_base64_encoded")))
        self.scope = lattice_scope(
            event,
            context,
            settings,
            method=self.method,
            raw_path=event["raw_path"] or "/",
            headers=header_pairs(headers, None),
            lookup=lowercase_lookup(headers, None),
            params=event.get("query_string_parameters") or {},
        )

    def to_response(self, response: Response) -> LambdaResponse:
        return lattice_response(response, method=self.method, settings=self.settings)


def lattice_scope(
    event: LambdaEvent,
    context: Any,
    settings: Settings,
    *,
    method: str,
    raw_path: str,
    headers: Headers,
    lookup: dict[str, str],
    params: dict[str, str | list[str]],
) -> dict[str, Any]:
    # The path is taken as the client sent it, still encoded, as ALB sends it.
    raw_path, _, query = raw_path.partition("?")
    path = percent_decode(raw_path)
    return http_scope(
        event=event,
        context=context,
        method=method,
        path=path,
        raw_path=raw_path,
        root_path=root_path_for(path, stage=None, base_path=settings.base_path),
        query_string=encoded_query(params) if params else query.encode(),
        headers=headers,
        lookup=lookup,
        client_ip=forwarded_client(headers),
        protocol=None,
        domain_name=None,
    )


def lattice_response(response: Response, *, method: str, settings: Settings) -> LambdaResponse:
    body, is_base64 = response_body(response, method=method, settings=settings)
    headers, _ = single_value_headers(response["headers"], exclude=settings.exclude_headers)
    return {"isBase64Encoded": is_base64, "statusCode": response["status"], "headers": headers, "body": body}
