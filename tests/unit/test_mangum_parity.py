"""Against the anchor: Mangum 0.22 and asgi_lambda run the same app on the same events.

They must agree on what the app sees and answers, except where we differ on purpose
(docs/differences.md, "Differences from Mangum"): the stage and base path stay in `path`, with
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
from tests.support.events import load_event
from tests.support.paths import EVENTS


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

# The HTTP sources both adapters serve alike; Lambda@Edge is compared in tests/unit/sources/test_lambda_edge.py.
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


def header_fields(response: dict[str, Any]) -> dict[str, Any]:
    return {key: response[key] for key in ("headers", "multiValueHeaders", "cookies") if key in response}


@pytest.mark.parametrize("fixture", FIXTURES)
def test_same_answer_as_mangum(fixture: str) -> None:
    ours = Adapter(app, lifespan="off")(load_event(fixture), None)
    theirs = Mangum(app, lifespan="off")(load_event(fixture), None)

    assert ours["statusCode"] == theirs["statusCode"] == 207
    assert ours["body"] == theirs["body"]
    assert json.loads(ours["body"])["method"] in ("GET", "POST")
    assert sorted(set_cookies(ours)) == sorted(set_cookies(theirs)) == ["a=1; Path=/; SameSite=lax", "b=2; Path=/; SameSite=lax"]
    # The same header keys and values: payload 1.0's `headers` (names sent once) and
    # `multiValueHeaders` (repeated ones), ALB's one or the other, payload 2.0's `headers` and `cookies`.
    assert header_fields(ours) == header_fields(theirs)


REPEATS = [
    (b"Content-Type", b"text/plain"),
    (b"set-cookie", b"a=1"),
    (b"Vary", b"Accept"),
    (b"Set-Cookie", b"b=2"),
    (b"vary", b"Cookie"),
    (b"X-Secret", b"s1"),
    (b"set-cookie", b"c=3"),
    (b"x-secret", b"s2"),
    (b"X-Once", b"1"),
]


@pytest.mark.parametrize("fixture", ["apigw_rest_get", "http_api_v1_get", "alb_multi_value"])
def test_same_header_shape_as_mangum_for_repeats_mixed_case_and_excluded_names(fixture: str) -> None:
    async def raw_app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": REPEATS})
        await send({"type": "http.response.body", "body": b"ok"})

    # Mangum ignores exclude_headers on HTTP API events (docs/differences.md, Differences from Mangum).
    exclude = [] if fixture.startswith("http_api_") else ["x-secret"]
    ours = Adapter(raw_app, lifespan="off", exclude_headers=exclude)(load_event(fixture), None)
    theirs = Mangum(raw_app, lifespan="off", exclude_headers=exclude)(load_event(fixture), None)

    assert header_fields(ours) == header_fields(theirs)


def test_single_value_alb_joins_a_repeated_header_where_mangum_sends_each_under_its_own_casing() -> None:
    async def raw_app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": REPEATS})
        await send({"type": "http.response.body", "body": b"ok"})

    ours = Adapter(raw_app, lifespan="off")(load_event("alb_single_value"), None)
    theirs = Mangum(raw_app, lifespan="off")(load_event("alb_single_value"), None)

    # Cookies alike, each under its own casing of Set-Cookie; other repeats comma-joined (docs/differences.md,
    # Differences from Mangum), where Mangum cases them apart too.
    cookies = {"set-cookie": "a=1", "Set-cookie": "b=2", "sEt-cookie": "c=3"}
    assert ours["headers"] == {"content-type": "text/plain", "vary": "Accept, Cookie", "x-secret": "s1, s2", "x-once": "1", **cookies}
    assert theirs["headers"] == {
        "content-type": "text/plain",
        "vary": "Accept",
        "Vary": "Cookie",
        "x-secret": "s1",
        "X-secret": "s2",
        "x-once": "1",
        **cookies,
    }


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
