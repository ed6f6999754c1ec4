"""Events from tests/events/, a minimal HTTP API event built in code, and the part of a scope an
event source maps."""

from __future__ import annotations

import copy
import json
from typing import Any

from .paths import EVENTS

# The scope keys an event source maps; `aws.event` and `aws.context` are checked on their own.
MAPPED_KEYS = (
    "type",
    "asgi",
    "http_version",
    "method",
    "scheme",
    "path",
    "raw_path",
    "root_path",
    "query_string",
    "headers",
    "client",
    "server",
)


def load_event(name: str) -> dict[str, Any]:
    """A fresh copy of tests/events/<name>.json, safe to modify in a test."""
    return copy.deepcopy(_load(name))


_cache: dict[str, dict[str, Any]] = {}


def _load(name: str) -> dict[str, Any]:
    if name not in _cache:
        _cache[name] = json.loads((EVENTS / f"{name}.json").read_text())
    return _cache[name]


def mapped(scope: dict[str, Any]) -> dict[str, Any]:
    return {key: scope[key] for key in MAPPED_KEYS}


def http_api_event(path: str, method: str = "GET") -> dict[str, Any]:
    """A minimal HTTP API (payload 2.0) event for `method path`, on API a1b2c3d4e5 in eu-west-1."""
    return {
        "version": "2.0",
        "routeKey": "$default",
        "rawPath": path,
        "rawQueryString": "",
        "headers": {"host": "a1b2c3d4e5.execute-api.eu-west-1.amazonaws.com"},
        "requestContext": {
            "accountId": "123456789012",
            "apiId": "a1b2c3d4e5",
            "domainName": "a1b2c3d4e5.execute-api.eu-west-1.amazonaws.com",
            "http": {"method": method, "path": path, "protocol": "HTTP/1.1", "sourceIp": "203.0.113.9", "userAgent": "x"},
            "requestId": "r",
            "routeKey": "$default",
            "stage": "$default",
            "time": "25/Nov/2026:10:00:00 +0000",
            "timeEpoch": 1795600800000,
        },
        "isBase64Encoded": False,
    }
