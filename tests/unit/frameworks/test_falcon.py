"""Falcon (ASGI) through the adapter, beyond the matrix (test_matrix.py): what its notes in
README's compatibility table rest on."""

from __future__ import annotations

import json
from collections.abc import Iterator

import falcon.asgi
import pytest

from asgi_lambda import Adapter
from tests.support.events import load_event
from tests.support.frameworks.apps.falcon_app import Echo, Item, app
from tests.support.frameworks.matrix import item_request
from tests.support.management_api import ManagementAPIStub


@pytest.mark.parametrize("base", ["stage", "domain"])
def test_without_strip_root_path_falcon_answers_404_under_a_stage_or_base_path(base: str) -> None:
    # Falcon routes on scope["path"], which keeps the mount point by default (the ASGI convention).
    response = Adapter(app, api_gateway_base_path="/v1")(item_request(base), None)

    assert (response["statusCode"], json.loads(response["body"])) == (404, {"title": "404 Not Found"})


def test_with_strip_root_path_falcons_prefix_and_uri_carry_the_stage() -> None:
    class Where:
        async def on_get(self, req: falcon.asgi.Request, resp: falcon.asgi.Response, item_id: str) -> None:
            resp.media = {"prefix": req.prefix, "uri": req.uri, "path": req.path, "root_path": req.root_path}

    where = falcon.asgi.App()
    where.add_route("/items/{item_id}", Where())

    response = Adapter(where, strip_root_path=True)(item_request("stage"), None)

    assert json.loads(response["body"]) == {
        "prefix": "https://a1b2c3d4e5.execute-api.us-east-1.amazonaws.com/prod",
        "uri": "https://a1b2c3d4e5.execute-api.us-east-1.amazonaws.com/prod/items/42?tag=a&tag=b",
        "path": "/items/42",
        "root_path": "/prod",
    }


@pytest.fixture
def stub(monkeypatch: pytest.MonkeyPatch) -> Iterator[ManagementAPIStub]:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("WS_PATH", "/ws")
    server = ManagementAPIStub()
    yield server
    server.close()


@pytest.mark.parametrize("max_receive_queue", [0, 4], ids=["queue-0", "default-4"])
def test_falcon_websockets_answer_whether_or_not_falcon_reads_ahead(stub: ManagementAPIStub, max_receive_queue: int) -> None:
    # By default Falcon reads the next message ahead of the app, in a task of its own: the
    # invocation still waits for the app's answer (websocket_cycle.py, `settle`).
    posts = [b"echo: hello, world"]
    echo = falcon.asgi.App()
    echo.ws_options.max_receive_queue = max_receive_queue
    echo.add_route("/ws", Echo())
    echo.add_route("/items/{item_id:int}", Item())
    handler = Adapter(echo, ws_config={"backend": "memory", "params": {"management_endpoint_url": stub.endpoint}})

    outcomes = [handler(load_event(name), None) for name in ("ws_connect", "ws_message")]

    assert (outcomes, [body for _, body in stub.posts()]) == ([{"statusCode": 200}] * 2, posts)
