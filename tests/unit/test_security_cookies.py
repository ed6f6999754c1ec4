"""Issue #23, hardening: single-value answers (ALB without multi-value headers, VPC Lattice) carry
each cookie under its own casing of Set-Cookie, and there are 512 of those. Past them, cookies
overwrote one another silently; now the first 512 go out and the rest are logged as dropped.
"""

from __future__ import annotations

import logging
from typing import Any

import pytest

from asgi_lambda import Adapter

COOKIES = 600


async def many_cookies(scope: Any, receive: Any, send: Any) -> None:
    if scope["type"] != "http":
        return
    await receive()
    headers = [(b"set-cookie", f"c{index}=v{index}".encode()) for index in range(COOKIES)]
    await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"text/plain"), *headers]})
    await send({"type": "http.response.body", "body": b"ok"})


ALB_SINGLE_VALUE = {
    "requestContext": {"elb": {"targetGroupArn": "arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/asgi/0123456789abcdef"}},
    "httpMethod": "GET",
    "path": "/",
    "queryStringParameters": {},
    "headers": {"host": "asgi-123456789.us-east-1.elb.amazonaws.com", "x-forwarded-for": "203.0.113.9", "x-forwarded-proto": "http"},
    "body": "",
    "isBase64Encoded": False,
}

VPC_LATTICE_V1 = {
    "raw_path": "/",
    "method": "GET",
    "headers": {"host": "svc-0a1b2c3d4e5f67890.7d67968.vpc-lattice-svcs.eu-west-1.on.aws", "x-forwarded-for": "10.0.12.34"},
    "query_string_parameters": {},
    "body": "",
    "is_base64_encoded": False,
}


@pytest.mark.parametrize("event", [ALB_SINGLE_VALUE, VPC_LATTICE_V1], ids=["alb-single-value", "vpc-lattice"])
def test_cookies_past_the_512_casings_are_dropped_and_logged_never_overwritten(
    event: dict[str, Any], caplog: pytest.LogCaptureFixture
) -> None:
    adapter = Adapter(many_cookies, lifespan="off")

    with caplog.at_level(logging.ERROR, logger="asgi_lambda.sources"):
        response = adapter(event, None)

    sent = [value for name, value in response["headers"].items() if name.lower() == "set-cookie"]
    assert sent == [f"c{index}=v{index}" for index in range(512)]
    assert [record.getMessage() for record in caplog.records if record.levelno == logging.ERROR] == [
        "The response sets 600 cookies, but single-value headers (ALB without multi-value headers, VPC Lattice) carry at most "
        "512, one per casing of Set-Cookie; the first 512 are sent, the other 88 dropped."
    ]
