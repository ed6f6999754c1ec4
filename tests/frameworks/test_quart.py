"""A real Quart app through the adapter. Quart refuses a `path` that does not start with
`root_path`, so this pins the ASGI convention we follow."""

from __future__ import annotations

import json

from quart import Quart, request, url_for

from asgi_lambda import Adapter

from ..conftest import load_event

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
