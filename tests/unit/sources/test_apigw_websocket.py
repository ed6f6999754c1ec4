"""API Gateway WebSocket events: `server` and `scheme` of the scope come from Host and the
X-Forwarded-* headers of the $connect request, as an HTTP scope's do, so the local gateway's
WebSocket scopes match its HTTP ones and API Gateway's stay `wss` on port 443."""

from __future__ import annotations

import json
from typing import Any

from asgi_lambda.local.samples import SampleRequest, ws_connect
from asgi_lambda.sources.apigw_websocket import WebSocketEvent
from tests.support.paths import EVENTS

AWS_CONNECT = json.loads((EVENTS / "ws_connect.json").read_text())


def connect_scope(event: dict[str, Any]) -> dict[str, Any]:
    source = WebSocketEvent(event, None, None)  # type: ignore[arg-type]  # the mapping reads no setting
    return source.scope(source.request(path="/ws"), app_state=None)


def local_connect(host: str, proto: str, port: str) -> dict[str, Any]:
    """A $connect as the local gateway sends it (lowercase headers, the X-Forwarded-* it adds)."""
    event = json.loads(json.dumps(AWS_CONNECT))
    headers = {"host": host, "x-forwarded-proto": proto, "x-forwarded-port": port, "x-forwarded-for": "127.0.0.1"}
    event["headers"] = headers
    event["multiValueHeaders"] = {name: [value] for name, value in headers.items()}
    event["requestContext"]["domainName"] = host
    return event


def test_api_gateways_connect_gives_wss_on_the_apis_host_and_port_443() -> None:
    scope = connect_scope(AWS_CONNECT)

    assert (scope["scheme"], scope["server"]) == ("wss", ("a1b2c3d4e5.execute-api.us-east-1.amazonaws.com", 443))


def test_the_local_gateways_connect_gives_ws_on_its_host_and_port_as_its_http_scopes() -> None:
    scope = connect_scope(local_connect("127.0.0.1:8779", "http", "8779"))

    assert (scope["scheme"], scope["server"]) == ("ws", ("127.0.0.1", 8779))


def test_a_connection_stored_before_the_scheme_was_kept_is_wss() -> None:
    source = WebSocketEvent(AWS_CONNECT, None, None)  # type: ignore[arg-type]
    stored = source.request(path="/ws")
    del stored["scheme"]

    assert source.scope(stored, app_state=None)["scheme"] == "wss"


def test_the_ws_connect_sample_is_forwarded_as_api_gateway_forwards_it() -> None:
    sample = ws_connect(SampleRequest())
    aws = {name: AWS_CONNECT["headers"][name] for name in ("X-Forwarded-Proto", "X-Forwarded-Port")}

    assert {name: sample["headers"][name] for name in aws} == aws == {"X-Forwarded-Proto": "https", "X-Forwarded-Port": "443"}
    assert connect_scope(sample)["scheme"] == "wss"
