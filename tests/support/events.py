"""Events from tests/events/, and the part of a scope an event source maps."""

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
