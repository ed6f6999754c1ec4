"""Against the anchor: Mangum 0.22 and asgi_lambda run the same app on the same events.

They must agree on what the app sees and answers, except where we differ on purpose
(README, "Differences from Mangum"): the stage and base path stay in `path`, with
`root_path` naming them, so the catch-all route here ignores the path.
"""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest
from mangum import Mangum
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from asgi_lambda import Adapter

from .conftest import EVENTS, load_event


async def echo(request: Request) -> JSONResponse:
    response = JSONResponse(
        {
            "method": request.method,
            "query": sorted(request.query_params.multi_items()),
            "cookies": request.cookies,
            "body": base64.b64encode(await request.body()).decode(),
            "accept": request.headers.get("accept"),
        },
        status_code=207,
    )
    response.set_cookie("a", "1")
    response.set_cookie("b", "2")
    return response


app = Starlette(routes=[Route("/{rest:path}", echo, methods=["GET", "POST", "HEAD"])])

# The HTTP sources both adapters serve alike; Lambda@Edge is compared in tests/sources/test_lambda_edge.py.
FIXTURES = sorted(
    path.stem
    for path in EVENTS.glob("*.json")
    if path.stem.startswith(("apigw_rest_", "http_api_", "function_url_", "alb_")) and not path.stem.endswith("_head")
)


def set_cookies(response: dict[str, Any]) -> list[str]:
    if "cookies" in response:
        return response["cookies"]
    if "multiValueHeaders" in response:
        return response["multiValueHeaders"].get("set-cookie", [])
    return [value for name, value in response["headers"].items() if name.lower() == "set-cookie"]


@pytest.mark.parametrize("fixture", FIXTURES)
def test_same_answer_as_mangum(fixture: str) -> None:
    ours = Adapter(app, lifespan="off")(load_event(fixture), None)
    theirs = Mangum(app, lifespan="off")(load_event(fixture), None)

    assert ours["statusCode"] == theirs["statusCode"] == 207
    assert ours["body"] == theirs["body"]
    assert json.loads(ours["body"])["method"] in ("GET", "POST")
    assert sorted(set_cookies(ours)) == sorted(set_cookies(theirs)) == ["a=1; Path=/; SameSite=lax", "b=2; Path=/; SameSite=lax"]


@pytest.mark.parametrize("fixture", ["apigw_rest_head", "http_api_v2_head"])
def test_head_body_is_dropped_where_mangum_passes_it_on(fixture: str) -> None:
    # Starlette leaves HEAD bodies to the server to drop, as uvicorn does; Mangum does not.
    ours = Adapter(app, lifespan="off")(load_event(fixture), None)
    theirs = Mangum(app, lifespan="off")(load_event(fixture), None)

    assert (ours["statusCode"], ours["body"]) == (207, "")
    assert json.loads(theirs["body"])["method"] == "HEAD"


def test_migrating_from_mangum_is_an_import_line() -> None:
    from asgi_lambda import Adapter as Mangum  # noqa: F811  (the migration, as users write it)

    handler = Mangum(app, lifespan="off", api_gateway_base_path="/", text_mime_types=None, exclude_headers=None)

    assert handler(load_event("http_api_v2_get"), None)["statusCode"] == 207
