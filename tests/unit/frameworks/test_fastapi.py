"""A real FastAPI app through the adapter."""

from __future__ import annotations

import base64
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Annotated, Any

from fastapi import FastAPI, Query, Request, Response
from fastapi.responses import StreamingResponse
from pydantic import BaseModel

from asgi_lambda import Adapter
from tests.support.events import load_event


class Item(BaseModel):
    name: str
    price: float


def make_app() -> FastAPI:
    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[dict[str, Any]]:
        yield {"greeting": "hello from startup"}

    app = FastAPI(lifespan=lifespan)

    @app.get("/items/{item_id}", name="item")
    async def read_item(item_id: int, request: Request, tag: Annotated[list[str] | None, Query()] = None) -> dict[str, Any]:
        return {
            "item_id": item_id,
            "tags": tag,
            "url": str(request.url),
            "self": str(request.url_for("item", item_id=item_id)),
            "session": request.cookies.get("session"),
            "greeting": request.state.greeting,
        }

    @app.post("/items")
    async def create_item(item: Item, response: Response) -> Item:
        response.status_code = 201
        response.set_cookie("last", item.name)
        response.set_cookie("seen", "1")
        return item

    @app.get("/stream")
    async def stream() -> StreamingResponse:
        async def chunks() -> AsyncIterator[bytes]:
            for part in (b"a", b"b", b"c"):
                yield part

        return StreamingResponse(chunks(), media_type="text/plain")

    return app


def test_fastapi_route_sees_path_query_cookies_and_lifespan_state() -> None:
    response = Adapter(make_app())(load_event("http_api_v2_get"), None)

    assert response["statusCode"] == 200
    assert json.loads(response["body"]) == {
        "item_id": 42,
        "tags": ["a", "b"],
        "url": "https://a1b2c3d4e5.execute-api.us-east-1.amazonaws.com/items/42?tag=a&tag=b&q=a+b&plus=1%2B1&empty=",
        "self": "https://a1b2c3d4e5.execute-api.us-east-1.amazonaws.com/items/42",
        "session": "abc123",
        "greeting": "hello from startup",
    }


def test_fastapi_urls_keep_the_stage_prefix() -> None:
    response = Adapter(make_app())(load_event("http_api_v2_named_stage"), None)

    body = json.loads(response["body"])
    assert (body["url"].split("?")[0], body["self"]) == (
        "https://a1b2c3d4e5.execute-api.us-east-1.amazonaws.com/dev/items/42",
        "https://a1b2c3d4e5.execute-api.us-east-1.amazonaws.com/dev/items/42",
    )


def test_fastapi_docs_point_at_the_openapi_schema_under_the_stage() -> None:
    event = load_event("apigw_rest_get")
    event["path"], event["requestContext"]["path"] = "/docs", "/prod/docs"

    response = Adapter(make_app())(event, None)

    assert response["statusCode"] == 200
    assert "url: '/prod/openapi.json'" in response["body"]


def test_fastapi_json_post_sets_status_and_every_cookie() -> None:
    event = load_event("apigw_rest_post_base64")
    event["path"], event["requestContext"]["path"] = "/items", "/prod/items"
    event["body"] = base64.b64encode(b'{"name": "widget", "price": 9.5}').decode()
    event["multiValueHeaders"]["Content-Type"] = ["application/json"]

    response = Adapter(make_app())(event, None)

    assert (response["statusCode"], json.loads(response["body"])) == (201, {"name": "widget", "price": 9.5})
    assert response["multiValueHeaders"]["set-cookie"] == [
        "last=widget; Path=/; SameSite=lax",
        "seen=1; Path=/; SameSite=lax",
    ]


def test_fastapi_streaming_response_is_collected() -> None:
    event = load_event("function_url_get")
    event["rawPath"] = "/stream"

    response = Adapter(make_app())(event, None)

    assert (response["statusCode"], response["body"], response["isBase64Encoded"]) == (200, "abc", False)


def test_fastapi_unknown_route_is_a_404() -> None:
    event = load_event("alb_single_value")
    event["path"] = "/nope"

    response = Adapter(make_app())(event, None)

    assert (response["statusCode"], response["statusDescription"], json.loads(response["body"])) == (
        404,
        "404 Not Found",
        {"detail": "Not Found"},
    )
