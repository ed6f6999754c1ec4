"""The events API Gateway sends for a local request, and how it reads the function's answer back.

HTTP API payload 2.0 (the default), REST API payload 1.0 (`--payload v1`) and ALB (`--alb`),
shaped as the AWS documentation has them (tests/events holds the same shapes).
"""

from __future__ import annotations

import base64
import binascii
import json
import os
import time
import uuid
from typing import TYPE_CHECKING, Any, Literal
from urllib.parse import parse_qsl

if TYPE_CHECKING:
    from ..types import Scope

Payload = Literal["v2", "v1"]

MANAGEMENT_PREFIX = "/@gateway"  # a path no app route is likely to use
API_ID = "local"
HTTP_STAGE = "$default"  # an HTTP API's default stage: no stage in the path
WS_STAGE = "local"
ACCOUNT_ID = "123456789012"
REGION = "us-east-1"
MAX_WS_MESSAGE_BYTES = 128 * 1024  # API Gateway's limit, both ways
MAX_INVOKE_BYTES = 6 * 1024 * 1024  # Lambda's synchronous payload limit, which requests hit first
TIMEOUT_SECONDS = 30.0  # API Gateway's integration timeout (29 s) rounded; the context reports it
# Media types whose request bodies go into the event as text; anything else goes as base64.
TEXT_TYPES = ("text/", "json", "xml", "javascript", "x-www-form-urlencoded", "graphql", "yaml")
HOP_BY_HOP = frozenset({"connection", "keep-alive", "transfer-encoding", "content-length"})
MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


# --- events -------------------------------------------------------------------------------------


class Request:
    """One client request as the front end sees it, with the X-Forwarded-* headers it adds: the port
    and scheme clients reached it on."""

    def __init__(self, scope: Scope, body: bytes, *, port: int, scheme: str = "http") -> None:
        self.method: str = scope.get("method", "GET")
        self.path: str = scope["path"]  # decoded by uvicorn
        raw_path = scope.get("raw_path")
        self.raw_path = raw_path.decode("latin-1") if raw_path else self.path
        self.query_string: str = scope["query_string"].decode("latin-1")
        client = scope.get("client")
        self.source_ip: str = client[0] if client else "127.0.0.1"
        headers = [(name.decode("latin-1").lower(), value.decode("latin-1")) for name, value in scope["headers"]]
        self.host = next((value for name, value in headers if name == "host"), f"127.0.0.1:{port}")
        self.user_agent = next((value for name, value in headers if name == "user-agent"), "")
        forwarded_for = next((value for name, value in headers if name == "x-forwarded-for"), "")
        forwarded = {"x-forwarded-for", "x-forwarded-port", "x-forwarded-proto", "x-amzn-trace-id"}
        self.headers = [(name, value) for name, value in headers if name not in forwarded]
        self.headers += [
            ("x-amzn-trace-id", f"Root=1-{int(time.time()):08x}-{uuid.uuid4().hex[:24]}"),
            ("x-forwarded-for", f"{forwarded_for}, {self.source_ip}" if forwarded_for else self.source_ip),
            ("x-forwarded-port", str(port)),
            ("x-forwarded-proto", scheme),  # the local gateway's http; API Gateway's (the samples') https
        ]
        self.body = body
        self.epoch_ms = int(time.time() * 1000)

    def header(self, name: str) -> str | None:
        return next((value for key, value in self.headers if key == name), None)


def http_api_event(request: Request) -> dict[str, Any]:
    """HTTP API, payload 2.0 (tests/events/http_api_v2_get.json): lowercase headers, repeats
    comma-joined, cookies apart, the path decoded, the query string as sent."""
    headers: dict[str, str] = {}
    cookies: list[str] = []
    for name, value in request.headers:
        if name == "cookie":
            cookies += [cookie.strip() for cookie in value.split(";") if cookie.strip()]
        else:
            headers[name] = f"{headers[name]},{value}" if name in headers else value
    event: dict[str, Any] = {"version": "2.0", "routeKey": "$default", "rawPath": request.path, "rawQueryString": request.query_string}
    if cookies:
        event["cookies"] = cookies
    event["headers"] = headers
    params = query_params(request.query_string)
    if params:
        event["queryStringParameters"] = {key: ",".join(values) for key, values in params.items()}
    event["requestContext"] = {
        "accountId": ACCOUNT_ID,
        "apiId": API_ID,
        "domainName": request.host,
        "domainPrefix": request.host.split(".")[0],
        "http": {
            "method": request.method,
            "path": request.path,
            "protocol": "HTTP/1.1",
            "sourceIp": request.source_ip,
            "userAgent": request.user_agent,
        },
        "requestId": new_id(),
        "routeKey": "$default",
        "stage": HTTP_STAGE,
        "time": request_time(request.epoch_ms),
        "timeEpoch": request.epoch_ms,
    }
    body, is_base64 = event_body(request)
    if body:
        event["body"] = body
    event["isBase64Encoded"] = is_base64
    return event


def rest_event(request: Request) -> dict[str, Any]:
    """REST API, payload 1.0 (tests/events/apigw_rest_get.json): headers single- and
    multi-value, query parameters decoded, the path as the client encoded it."""
    multi_headers: dict[str, list[str]] = {}
    for name, value in request.headers:
        multi_headers.setdefault(title_case(name), []).append(value)
    params = query_params(request.query_string)
    proxy = request.path.lstrip("/")
    body, is_base64 = event_body(request)
    return {
        "resource": "/{proxy+}" if proxy else "/",
        "path": request.raw_path,
        "httpMethod": request.method,
        "headers": {name: values[-1] for name, values in multi_headers.items()},
        "multiValueHeaders": multi_headers,
        "queryStringParameters": {key: values[-1] for key, values in params.items()} or None,
        "multiValueQueryStringParameters": params or None,
        "pathParameters": {"proxy": proxy} if proxy else None,
        "stageVariables": None,
        "requestContext": {
            "accountId": ACCOUNT_ID,
            "apiId": API_ID,
            "domainName": request.host,
            "domainPrefix": request.host.split(".")[0],
            "extendedRequestId": new_id(),
            "httpMethod": request.method,
            "identity": {"sourceIp": request.source_ip, "userAgent": request.user_agent},
            "path": request.raw_path,
            "protocol": "HTTP/1.1",
            "requestId": str(uuid.uuid4()),
            "requestTime": request_time(request.epoch_ms),
            "requestTimeEpoch": request.epoch_ms,
            "resourceId": "local",
            "resourcePath": "/{proxy+}" if proxy else "/",
            "stage": HTTP_STAGE,
        },
        "body": body or None,
        "isBase64Encoded": is_base64,
    }


def alb_event(request: Request) -> dict[str, Any]:
    """ALB with multi-value headers on (tests/events/alb_multi_value.json): query keys and
    values as the client sent them, still encoded."""
    multi_headers: dict[str, list[str]] = {}
    for name, value in request.headers:
        multi_headers.setdefault(name, []).append(value)
    params: dict[str, list[str]] = {}
    for pair in filter(None, request.query_string.split("&")):
        key, _, value = pair.partition("=")
        params.setdefault(key, []).append(value)
    body, is_base64 = event_body(request)
    return {
        "requestContext": {
            "elb": {"targetGroupArn": f"arn:aws:elasticloadbalancing:{REGION}:{ACCOUNT_ID}:targetgroup/local/0123456789abcdef"}
        },
        "httpMethod": request.method,
        "path": request.raw_path,
        "headers": None,
        "queryStringParameters": None,
        "multiValueQueryStringParameters": params,
        "multiValueHeaders": multi_headers,
        "body": body,
        "isBase64Encoded": is_base64,
    }


def event_body(request: Request) -> tuple[str, bool]:
    """Text when the content type is a text type and the bytes are UTF-8, else base64."""
    if not request.body:
        return "", False
    content_type = (request.header("content-type") or "").lower()
    if any(kind in content_type for kind in TEXT_TYPES):
        try:
            return request.body.decode(), False
        except UnicodeDecodeError:
            pass
    return base64.b64encode(request.body).decode(), True


def query_params(query_string: str) -> dict[str, list[str]]:
    """Decoded query parameters, repeats in order, as API Gateway decodes them."""
    params: dict[str, list[str]] = {}
    for key, value in parse_qsl(query_string, keep_blank_values=True):
        params.setdefault(key, []).append(value)
    return params


def title_case(name: str) -> str:
    """`sec-websocket-protocol` as clients write it: `Sec-WebSocket-Protocol`."""
    return "-".join("WebSocket" if part == "websocket" else part.capitalize() for part in name.split("-"))


def request_time(epoch_ms: int) -> str:
    """`25/Nov/2026:10:00:00 +0000`, whatever the locale."""
    moment = time.gmtime(epoch_ms / 1000)
    return f"{moment.tm_mday:02d}/{MONTHS[moment.tm_mon - 1]}/{moment.tm_year}:{time.strftime('%H:%M:%S', moment)} +0000"


def iso_time(epoch: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(epoch)) + f".{int(epoch * 1000) % 1000:03d}Z"


def new_id() -> str:
    """An id like API Gateway's connection and request ids (`L0SM9cOFvHcCIhw=`)."""
    return base64.urlsafe_b64encode(os.urandom(11)).decode()


# --- responses ----------------------------------------------------------------------------------


class MalformedResponse(ValueError):
    """The handler answered something API Gateway would refuse (it answers 502)."""


def http_response(response: Any, *, payload: Payload) -> tuple[int, list[tuple[str, str]], bytes]:
    """Status, headers and body from the handler's answer, read as API Gateway reads it."""
    if not isinstance(response, dict) or "statusCode" not in response:
        if payload == "v2":
            # Payload 2.0: an answer without statusCode is the body of a JSON 200.
            return 200, [("content-type", "application/json")], json.dumps(response).encode()
        raise MalformedResponse(f"no statusCode in the handler's answer: {str(response)[:200]}")
    try:
        status = int(response["statusCode"])
    except (TypeError, ValueError):
        raise MalformedResponse(f"statusCode {response['statusCode']!r} is not a number") from None
    multi = response.get("multiValueHeaders") or {}
    multi_names = {name.lower() for name in multi}
    headers = [(name, str(value)) for name, value in (response.get("headers") or {}).items() if name.lower() not in multi_names]
    headers += [(name, str(value)) for name, values in multi.items() for value in values]
    headers += [("set-cookie", cookie) for cookie in response.get("cookies") or ()]
    body = response.get("body") or ""
    if not isinstance(body, str):
        raise MalformedResponse(f"body is a {type(body).__name__}, not a string")
    if response.get("isBase64Encoded"):
        try:
            return status, headers, base64.b64decode(body, validate=True)
        except binascii.Error as exc:
            raise MalformedResponse(f"body is marked isBase64Encoded but is not base64: {exc}") from None
    return status, headers, body.encode()
