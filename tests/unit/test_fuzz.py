"""Every fixture in tests/events/, mutated one field at a time as a hostile caller would, through
the adapter: the result is an answer in the shape of the event's source, or the documented
exception (MalformedEvent, UnknownEventError); never anything else. A valid event right after
is still answered.

The normal suite runs FUZZ_EXAMPLES examples (default 300); `make fuzz` runs 10,000 and prints
how many ended in each outcome.
"""

from __future__ import annotations

import copy
import json
import os
from collections import Counter
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from asgi_lambda import Adapter, UnknownEventError
from asgi_lambda.exceptions import MalformedEvent
from asgi_lambda.protocols import loop
from asgi_lambda.settings.websocket import WebSocketSettings
from asgi_lambda.stores.memory import MemoryStore
from asgi_lambda.websocket.hub import ConnectionHub, install_default
from tests.support import adapter
from tests.support.events import load_event
from tests.support.net import closed_port
from tests.support.paths import EVENTS

EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "300"))
FIXTURES = sorted(path.stem for path in EVENTS.glob("*.json"))
MISSING = object()

# What a hostile caller puts in a field (a function of what was there).
MUTATIONS: dict[str, Any] = {
    "null": lambda value: None,
    "list": lambda value: [],
    "list of int": lambda value: [1],
    "object": lambda value: {},
    "int": lambda value: 7,
    "bool": lambda value: True,
    "not UTF-8": lambda value: "caf\udce9",
    "missing": lambda value: MISSING,
    "bad base64": lambda value: "not*base64==",
    "bad percent escapes": lambda value: "/a%zz%2/%E9%",
    "7 MB": lambda value: "x" * (7 * 1024 * 1024),
    "lowercase": lambda value: value.lower() if isinstance(value, str) else value,
    "garbage": lambda value: "G E T\r\n\x00",
}


async def app(scope: Any, receive: Any, send: Any) -> None:
    """Answers whatever it is given, as an ordinary app would."""
    if scope["type"] == "websocket":
        await receive()
        await send({"type": "websocket.accept"})
        while (await receive())["type"] == "websocket.receive":
            await send({"type": "websocket.send", "text": "echo"})
        return
    await receive()
    await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"text/plain"), (b"set-cookie", b"a=1")]})
    await send({"type": "http.response.body", "body": b"ok"})


def paths(node: Any, prefix: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    """Every field of an event, nested ones and list items included."""
    children = node.items() if isinstance(node, dict) else enumerate(node) if isinstance(node, list) else ()
    for key, child in children:
        yield (*prefix, key)
        yield from paths(child, (*prefix, key))


def mutated(event: dict[str, Any], path: tuple[Any, ...], mutation: str) -> dict[str, Any]:
    event = copy.deepcopy(event)
    parent = event
    for key in path[:-1]:
        parent = parent[key]
    value = MUTATIONS[mutation](parent[path[-1]])
    if value is MISSING:
        del parent[path[-1]]
    else:
        parent[path[-1]] = value
    return event


def text_map(value: Any, item: type = str) -> bool:
    return isinstance(value, dict) and all(isinstance(key, str) and isinstance(entry, item) for key, entry in value.items())


def answer_fits(source: str, response: Any) -> bool:
    """Whether the answer has the shape the event's source documents."""
    if source == "WebSocketEvent":
        return isinstance(response, dict) and response.get("statusCode") in (200, 403, 500)
    if source.endswith("StreamEvent") or source in ("SqsEvent", "SnsEvent", "EventBridgeEvent", "S3NotificationEvent"):
        return response == "ok"
    if not isinstance(response, dict) or not isinstance(response.get("body"), str):
        return False
    if source == "LambdaEdgeEvent":
        entries = response["headers"]
        return (
            set(response) == {"status", "statusDescription", "headers", "bodyEncoding", "body"}
            and isinstance(response["status"], str)
            and response["status"].isdigit()
            and response["bodyEncoding"] in ("text", "base64")
            and all(isinstance(entry, list) and all(set(item) == {"key", "value"} for item in entry) for entry in entries.values())
        )
    status_ok = type(response.get("statusCode")) is int and 100 <= response["statusCode"] <= 599
    base = status_ok and type(response.get("isBase64Encoded")) is bool
    if source == "HttpApiEvent":
        return base and text_map(response["headers"]) and set(response) <= {"statusCode", "headers", "cookies", "body", "isBase64Encoded"}
    if source == "RestApiEvent":
        # Mangum's shape: names sent once in `headers`, repeated ones only in `multiValueHeaders`.
        single, multi = response.get("headers"), response.get("multiValueHeaders")
        return base and text_map(single) and text_map(multi, list) and not set(single) & set(multi)
    if source == "AlbEvent":
        headers = response.get("headers", response.get("multiValueHeaders"))
        return base and isinstance(response.get("statusDescription"), str) and isinstance(headers, dict)
    if source.startswith("VpcLattice"):
        return base and text_map(response["headers"])
    return False


@pytest.fixture
def handler(monkeypatch: pytest.MonkeyPatch) -> Iterator[Adapter]:
    # WebSocket events keep their connections in memory; replies go to a port nothing listens on.
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    hub = ConnectionHub(WebSocketSettings("memory", {}, endpoint_url=f"http://127.0.0.1:{closed_port()}/prod"), store=MemoryStore())
    install_default(hub)
    yield adapter(app, events_path="/events")
    loop.run(hub.close())
    install_default(None)


def test_no_mutated_event_escapes_as_anything_but_an_answer_or_the_documented_exception(
    handler: Adapter, capsys: pytest.CaptureFixture[str]
) -> None:
    outcomes: Counter[str] = Counter()
    valid = load_event("http_api_v2_get")

    @settings(max_examples=EXAMPLES, deadline=None, database=None, suppress_health_check=list(HealthCheck))
    @given(st.data())
    def mutate_and_invoke(data: st.DataObject) -> None:
        fixture = data.draw(st.sampled_from(FIXTURES), label="fixture")
        original = load_event(fixture)
        path = data.draw(st.sampled_from(list(paths(original))), label="field")
        event = mutated(original, path, data.draw(st.sampled_from(list(MUTATIONS)), label="mutation"))
        source = handler.sources.find(event)
        try:
            response = handler(event, None)
        except MalformedEvent:
            outcomes["MalformedEvent"] += 1
        except UnknownEventError:
            assert source is None or source.__name__ == "AuthorizerEvent", f"{source} took the event, yet it was refused as unknown"
            outcomes["UnknownEventError"] += 1
        else:
            assert source is not None and answer_fits(source.__name__, response), f"{source}: {str(response)[:300]}"
            json.dumps(response)  # the runtime must be able to send it
            outcomes["answer"] += 1
        assert handler(copy.deepcopy(valid), None)["statusCode"] == 200

    mutate_and_invoke()
    with capsys.disabled():
        total = sum(outcomes.values())
        print(
            f"\nfuzz: {total} mutated events: "
            + ", ".join(f"{name} {count}" for name, count in sorted(outcomes.items()))
            + "; 0 outside them"
        )
