"""A real Starlette app through the adapter."""

from __future__ import annotations

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse
from starlette.routing import Route

from asgi_lambda import Adapter
from tests.support.events import load_event


async def echo(request: Request) -> JSONResponse:
    return JSONResponse(
        {
            "path_param": request.path_params["rest"],
            "query": sorted(request.query_params.multi_items()),
            "client": request.client.host if request.client else None,
            "url": str(request.url),
            "body": (await request.body()).decode(),
        }
    )


async def teapot(request: Request) -> PlainTextResponse:
    return PlainTextResponse("short and stout", status_code=418, headers={"x-pot": "1"})


app = Starlette(routes=[Route("/items/{rest:path}", echo, methods=["GET", "POST"]), Route("/teapot", teapot)])


def test_starlette_route_under_a_custom_domain_base_path() -> None:
    handler = Adapter(app, api_gateway_base_path="/v1")

    response = handler(load_event("apigw_rest_custom_domain"), None)

    assert response["statusCode"] == 200
    assert response["body"] == (
        '{"path_param":"42","query":[["empty",""],["plus","1+1"],["q","a b"],["tag","a"],["tag","b"]],'
        '"client":"203.0.113.9","url":"https://api.example.com/v1/items/42?tag=a&tag=b&q=a+b&plus=1%2B1&empty=","body":""}'
    )


def test_starlette_decodes_alb_query_values_sent_as_is() -> None:
    response = Adapter(app)(load_event("alb_multi_value"), None)

    assert '"query":[["plus","1 1"],["q","a b"],["tag","a"],["tag","b"]]' in response["body"]


def test_starlette_response_status_and_headers_reach_the_alb_shape() -> None:
    event = load_event("alb_single_value")
    event["path"] = "/teapot"

    response = Adapter(app)(event, None)

    assert response == {
        "statusCode": 418,
        "statusDescription": "418 I'm a Teapot",
        "body": "short and stout",
        "isBase64Encoded": False,
        "headers": {"x-pot": "1", "content-length": "15", "content-type": "text/plain; charset=utf-8"},
    }
