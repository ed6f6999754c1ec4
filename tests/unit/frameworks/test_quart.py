"""A real Quart app through the adapter. Quart refuses a `path` that does not start with
`root_path`, so this pins the ASGI convention we follow."""

from __future__ import annotations

import contextlib
import importlib
import json
from typing import Any

import pytest
from quart import Quart, request, url_for

from asgi_lambda import Adapter
from tests.support.events import load_event

app = Quart(__name__)


@app.route("/items/<int:item_id>", methods=["GET", "POST"])
async def item(item_id: int) -> dict[str, object]:
    return {
        "item_id": item_id,
        "method": request.method,
        "tags": request.args.getlist("tag"),
        "url": url_for("item", item_id=item_id, _external=True),
        "json": await request.get_json(silent=True),
    }


def test_quart_routes_under_a_named_stage() -> None:
    response = Adapter(app)(load_event("http_api_v2_named_stage"), None)

    assert (response["statusCode"], json.loads(response["body"])) == (
        200,
        {
            "item_id": 42,
            "method": "GET",
            "tags": ["a", "b"],
            "url": "https://a1b2c3d4e5.execute-api.us-east-1.amazonaws.com/dev/items/42",
            "json": None,
        },
    )


def test_quart_reads_a_json_body_on_payload_v1() -> None:
    event = load_event("http_api_v1_get")
    event["httpMethod"] = "POST"
    event["body"] = '{"n": 1}'
    event["multiValueHeaders"]["content-type"] = ["application/json"]

    response = Adapter(app)(event, None)

    assert json.loads(response["body"])["json"] == {"n": 1}


async def _no_lifespan(scope: Any, receive: Any, send: Any) -> None:
    raise RuntimeError("no lifespan here")


# Quart's handler task is still waiting when the invocation ends, and is destroyed later.
@pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")
@pytest.mark.parametrize(
    ("module", "next_step"),
    [("quart_app", "asks for a message"), ("starlette_app", "sends websocket.send")],
    ids=["quart-reads-ahead", "starlette-answers-first"],
)
def test_quart_asks_for_the_next_websocket_message_before_answering_this_one(
    module: str, next_step: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Quart's receiving task asks for the next message at once, before its handler has answered:
    # why the cycle settles before it ends an invocation (websocket_cycle.py; the answer itself
    # is checked in test_matrix.py).
    monkeypatch.setenv("WS_PATH", "/ws")
    framework_app = importlib.import_module(f"tests.support.frameworks.apps.{module}").app
    seen: list[str] = []

    async def recording(scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "websocket":
            return await _no_lifespan(scope, receive, send)

        async def asked() -> Any:
            seen.append("asks for a message")
            message = await receive()
            seen.append(f"gets {message['type']}")
            return message

        async def sent(message: Any) -> None:
            seen.append(f"sends {message['type']}")
            await send(message)

        await framework_app(scope, asked, sent)

    handler = Adapter(recording, ws_config={"backend": "memory", "params": {"management_endpoint_url": "http://127.0.0.1:9/prod"}})
    handler(load_event("ws_connect"), None)
    seen.clear()
    with contextlib.suppress(Exception):
        handler(load_event("ws_message"), None)

    assert seen[seen.index("gets websocket.receive") + 1] == next_step
