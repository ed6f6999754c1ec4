"""The framework matrix through the built layer: each framework's app (tests/support/frameworks/apps/) as a
zero-code function, the layer unpacked as /opt, run by the real awslambdaric. The in-process checks
of every behaviour are tests/unit/frameworks/test_matrix.py; here each app answers, in one function
process, a GET under the stage, a multipart upload, its own 500 page and, where it has them,
WebSocket messages on an SQLite store."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.events import load_event
from tests.support.frameworks.matrix import (
    BY_NAME,
    EXPECTED_UPLOAD,
    FRAMEWORKS,
    Framework,
    body_of,
    expected_item,
    item_request,
    json_of,
    request,
    upload_request,
)
from tests.support.management_api import ManagementAPIStub
from tests.support.paths import directory_outside_tmp
from tests.support.runtime.layer import answer, function

CONNECTION_ID = "L0SM9cOFvHcCIhw="  # tests/events/ws_*.json


@pytest.mark.parametrize("framework", FRAMEWORKS, ids=repr)
def test_each_framework_is_served_through_the_layer_with_no_handler_code(tmp_path: Path, layer_zip: Path, framework: Framework) -> None:
    stub = ManagementAPIStub()
    try:
        with directory_outside_tmp() as state:
            env = {
                "ASGI_APP": f"main:{framework.attribute}",
                **framework.environ,
                "WS_BACKEND": "sqlite",
                "WS_SQLITE_PATH": str(state / "connections.sqlite3"),
                "WS_ENDPOINT_URL": stub.endpoint,
                "WS_PATH": "/ws",
            }
            with function(tmp_path, layer_zip, source=framework.source(), env=env) as fn:
                item = answer(fn, item_request("stage"))
                upload = answer(fn, upload_request())
                boom = answer(fn, request(path="/boom"))
                websocket = None if framework.websocket else [answer(fn, load_event(name)) for name in ("ws_connect", "ws_message")]
    finally:
        stub.close()

    assert (item["statusCode"], json_of(item)) == (200, expected_item(framework, "stage"))
    assert (upload["statusCode"], json_of(upload)) == (200, EXPECTED_UPLOAD)
    assert (boom["statusCode"], framework.error_page[1] in body_of(boom)) == (500, True)
    if websocket is not None:
        assert (websocket, stub.posts()) == ([{"statusCode": 200}] * 2, [(CONNECTION_ID, b"echo: hello, world")])


@pytest.mark.parametrize("name", ["falcon", "sanic"])
def test_without_asgi_strip_root_path_falcon_and_sanic_answer_404_under_a_stage(tmp_path: Path, layer_zip: Path, name: str) -> None:
    framework = BY_NAME[name]
    with function(tmp_path, layer_zip, source=framework.source()) as fn:
        response = answer(fn, item_request("stage"))

    assert response["statusCode"] == 404
