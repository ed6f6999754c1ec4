"""Realistic, minimal Lambda events as API Gateway sends them, and a stand-in context.

Fields follow the AWS documentation:
- https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-develop-integrations-lambda.html
- https://docs.aws.amazon.com/apigateway/latest/developerguide/set-up-lambda-proxy-integrations.html
"""

from __future__ import annotations

from typing import Any

API_ID = "a1b2c3d4e5"
DOMAIN = f"{API_ID}.execute-api.eu-west-1.amazonaws.com"
SOURCE_IP = "203.0.113.7"
USER_AGENT = "curl/8.5.0"


def http_api_v2_event(path: str = "/", query: str = "") -> dict[str, Any]:
    """API Gateway HTTP API, payload format 2.0, default stage."""
    return {
        "version": "2.0",
        "routeKey": "$default",
        "rawPath": path,
        "rawQueryString": query,
        "headers": {
            "accept": "*/*",
            "content-length": "0",
            "host": DOMAIN,
            "user-agent": USER_AGENT,
            "x-amzn-trace-id": "Root=1-6565a1b2-0123456789abcdef01234567",
            "x-forwarded-for": SOURCE_IP,
            "x-forwarded-port": "443",
            "x-forwarded-proto": "https",
        },
        "requestContext": {
            "accountId": "123456789012",
            "apiId": API_ID,
            "domainName": DOMAIN,
            "domainPrefix": API_ID,
            "http": {
                "method": "GET",
                "path": path,
                "protocol": "HTTP/1.1",
                "sourceIp": SOURCE_IP,
                "userAgent": USER_AGENT,
            },
            "requestId": "PqRsTuVwXyZ12=",
            "routeKey": "$default",
            "stage": "$default",
            "time": "25/Nov/2024:10:15:00 +0000",
            "timeEpoch": 1732529700000,
        },
        "isBase64Encoded": False,
    }


def rest_v1_event(path: str = "/", stage: str = "prod") -> dict[str, Any]:
    """API Gateway REST API proxy integration, payload format 1.0, on the execute-api domain
    (so `path` lacks the stage and `requestContext.path` has it)."""
    headers = {
        "Accept": "*/*",
        "Host": DOMAIN,
        "User-Agent": USER_AGENT,
        "X-Amzn-Trace-Id": "Root=1-6565a1b2-0123456789abcdef01234567",
        "X-Forwarded-For": SOURCE_IP,
        "X-Forwarded-Port": "443",
        "X-Forwarded-Proto": "https",
    }
    return {
        "resource": "/{proxy+}",
        "path": path,
        "httpMethod": "GET",
        "headers": headers,
        "multiValueHeaders": {name: [value] for name, value in headers.items()},
        "queryStringParameters": None,
        "multiValueQueryStringParameters": None,
        "pathParameters": {"proxy": path.lstrip("/")},
        "stageVariables": None,
        "requestContext": {
            "accountId": "123456789012",
            "apiId": API_ID,
            "domainName": DOMAIN,
            "httpMethod": "GET",
            "identity": {"sourceIp": SOURCE_IP, "userAgent": USER_AGENT},
            "path": f"/{stage}{path}",
            "protocol": "HTTP/1.1",
            "requestId": "c6af9ac6-7b61-11e6-9a41-93e8deadbeef",
            "resourcePath": "/{proxy+}",
            "stage": stage,
        },
        "body": None,
        "isBase64Encoded": False,
    }


class FakeContext:
    """The attributes of the runtime's LambdaContext; neither adapter reads them per call,
    but both put the context in the scope, so pass a realistic object rather than None."""

    function_name = "bench"
    function_version = "$LATEST"
    invoked_function_arn = "arn:aws:lambda:eu-west-1:123456789012:function:bench"
    memory_limit_in_mb = 1024
    aws_request_id = "8f5b2c3e-0000-4000-8000-000000000000"
    log_group_name = "/aws/lambda/bench"
    log_stream_name = "2024/11/25/[$LATEST]0123456789abcdef"

    def get_remaining_time_in_millis(self) -> int:
        return 30_000
