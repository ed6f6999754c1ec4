"""Every framework of the compatibility table (docs/frameworks.md), in-process through the Adapter: one app each
(tests/support/frameworks/apps/), the same requests, the same answers. The same apps run through the
built layer in tests/integration/runtime/test_frameworks_layer.py."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from importlib import metadata

import pytest

from asgi_lambda import Adapter
from tests.support.events import load_event
from tests.support.frameworks.matrix import (
    BINARY,
    EXPECTED_FORM,
    EXPECTED_JSON,
    EXPECTED_UPLOAD,
    FRAMEWORKS,
    Framework,
    body_of,
    expected_item,
    form_request,
    header,
    item_request,
    json_of,
    json_request,
    request,
    upload_request,
)
from tests.support.management_api import ManagementAPIStub
from tests.support.paths import ROOT

CONNECTION_ID = "L0SM9cOFvHcCIhw="  # tests/events/ws_*.json


@pytest.fixture(scope="module")
def websocket_stub() -> Iterator[ManagementAPIStub]:
    """Where the WebSocket replies of every framework's adapter go; WebSocket routes are at /ws."""
    with pytest.MonkeyPatch.context() as environ:
        environ.setenv("AWS_ACCESS_KEY_ID", "testing")  # the Management API client signs its calls
        environ.setenv("AWS_SECRET_ACCESS_KEY", "testing")
        environ.setenv("WS_PATH", "/ws")
        stub = ManagementAPIStub()
        yield stub
        stub.close()


@pytest.fixture(scope="module")
def adapters(websocket_stub: ManagementAPIStub) -> dict[str, Adapter]:
    return {}


@pytest.fixture
def handler(framework: Framework, adapters: dict[str, Adapter], websocket_stub: ManagementAPIStub) -> Adapter:
    """One adapter per framework for the module, as on Lambda: lifespan startup runs once (Sanic
    refuses a second one), with the custom domain's base path and an in-memory WebSocket store."""
    if framework.name not in adapters:
        params = {"management_endpoint_url": websocket_stub.endpoint}
        adapters[framework.name] = Adapter(
            framework.app(), api_gateway_base_path="/v1", ws_config={"backend": "memory", "params": params}, **framework.options
        )
    return adapters[framework.name]


@pytest.fixture(params=FRAMEWORKS, ids=repr)
def framework(request: pytest.FixtureRequest) -> Framework:
    param: Framework = request.param
    return param


@pytest.mark.parametrize("base", ["stage", "domain"])
def test_a_route_under_a_stage_or_base_path_sees_query_and_cookies_and_builds_its_url_with_the_prefix(
    handler: Adapter, framework: Framework, base: str
) -> None:
    response = handler(item_request(base), None)

    assert (response["statusCode"], json_of(response)) == (200, expected_item(framework, base))


def test_a_urlencoded_form_is_read(handler: Adapter, framework: Framework) -> None:
    response = handler(form_request(), None)

    assert (response["statusCode"], json_of(response)) == (200, EXPECTED_FORM)


def test_a_json_body_is_read(handler: Adapter, framework: Framework) -> None:
    response = handler(json_request(), None)

    assert (response["statusCode"], json_of(response)) == (200, EXPECTED_JSON)


def test_a_multipart_file_upload_arrives_byte_for_byte(handler: Adapter, framework: Framework) -> None:
    response = handler(upload_request(), None)

    assert (response["statusCode"], json_of(response)) == (200, EXPECTED_UPLOAD)


def test_a_binary_response_goes_out_base64_encoded(handler: Adapter, framework: Framework) -> None:
    response = handler(request(path="/binary"), None)

    assert (response["statusCode"], response["isBase64Encoded"], body_of(response)) == (200, True, BINARY)
    assert header(response, "content-type") == "application/octet-stream"


def test_an_exception_in_a_route_is_the_frameworks_own_500_page(
    handler: Adapter, framework: Framework, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.ERROR, logger="asgi_lambda"):
        response = handler(request(path="/boom"), None)

    content_type, piece = framework.error_page
    assert (response["statusCode"], header(response, "content-type").startswith(content_type)) == (500, True)
    assert piece in body_of(response)
    # The framework answered: the adapter did not put its own 500 in place of an unstarted response.
    assert "Exception in ASGI application" not in [record.getMessage() for record in caplog.records]


# Every framework that has WebSockets (the compatibility table says which has none, and why).
@pytest.mark.parametrize("framework", [framework for framework in FRAMEWORKS if not framework.websocket], ids=repr)
def test_websocket_messages_are_answered_through_the_management_api(
    handler: Adapter, framework: Framework, websocket_stub: ManagementAPIStub
) -> None:
    websocket_stub.calls.clear()

    outcomes = [handler(load_event(name), None) for name in ("ws_connect", "ws_message", "ws_disconnect")]

    assert outcomes == [{"statusCode": 200}] * 3
    assert websocket_stub.posts() == [(CONNECTION_ID, b"echo: hello, world")]


def readme_rows() -> dict[str, list[str]]:
    """The Frameworks page's compatibility table: the cells of each row, by framework."""
    section = (ROOT / "docs" / "frameworks.md").read_text()
    rows = [line.strip("|").split("|") for line in section.splitlines() if line.startswith("| ") and not line.startswith("| framework")]
    return {cells[0].strip(): [cell.strip() for cell in cells] for cells in rows}


def test_readmes_compatibility_table_has_a_row_for_each_framework_tested_here() -> None:
    assert sorted(readme_rows()) == sorted(framework.title for framework in FRAMEWORKS)


def test_readmes_compatibility_table_says_what_the_tests_show(framework: Framework) -> None:
    _, version, http, websocket, lifespan, _ = readme_rows()[framework.title]
    pins = dict(line.split("==") for line in (ROOT / "requirements-dev.txt").read_text().splitlines() if "==" in line)

    assert version == pins[framework.package] == metadata.version(framework.package)
    assert (http == "with `ASGI_STRIP_ROOT_PATH=1`") == bool(framework.options.get("strip_root_path"))
    assert (websocket.startswith(("yes", "with `")), lifespan != "no") == (not framework.websocket, framework.lifespan)
