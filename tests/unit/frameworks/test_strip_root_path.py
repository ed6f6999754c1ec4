"""`strip_root_path=True` (ASGI_STRIP_ROOT_PATH=1): `path` and `raw_path` without the mount point
(the stage and the base path), `root_path` still set. By default `path` keeps the whole path, the
ASGI convention uvicorn follows; Falcon and Sanic route on the whole path, so they need this
(tests/unit/frameworks/test_falcon.py and test_sanic.py show their 404 without it)."""

from __future__ import annotations

import pytest

from asgi_lambda import Adapter
from asgi_lambda.settings import Settings
from tests.support.apps import RecordingApp
from tests.support.events import load_event


def paths(app: RecordingApp) -> tuple[str, bytes, str]:
    return app.scope["path"], app.scope["raw_path"], app.scope["root_path"]


@pytest.mark.parametrize(
    ("event_name", "base_path", "default", "stripped"),
    [
        (
            "apigw_rest_get",
            "/",
            ("/prod/items/42", b"/prod/items/42", "/prod"),
            ("/items/42", b"/items/42", "/prod"),
        ),
        (
            "apigw_rest_custom_domain",
            "/v1",
            ("/v1/items/42", b"/v1/items/42", "/v1"),
            ("/items/42", b"/items/42", "/v1"),
        ),
        (
            "http_api_v2_named_stage",
            "/",
            ("/dev/items/42", b"/dev/items/42", "/dev"),
            ("/items/42", b"/items/42", "/dev"),
        ),
        (
            "http_api_v2_custom_domain",
            "/v1",
            ("/v1/items/42", b"/v1/items/42", "/v1"),
            ("/items/42", b"/items/42", "/v1"),
        ),
    ],
    ids=["rest-stage", "rest-custom-domain", "http-api-stage", "http-api-custom-domain"],
)
def test_strip_root_path_removes_the_mount_point_from_path_and_raw_path_and_keeps_root_path(
    event_name: str, base_path: str, default: tuple[str, bytes, str], stripped: tuple[str, bytes, str]
) -> None:
    as_is, strips = RecordingApp(), RecordingApp()

    Adapter(as_is, api_gateway_base_path=base_path)(load_event(event_name), None)
    Adapter(strips, api_gateway_base_path=base_path, strip_root_path=True)(load_event(event_name), None)

    assert (paths(as_is), paths(strips)) == (default, stripped)


def test_strip_root_path_keeps_the_clients_encoding_after_the_mount_point() -> None:
    app = RecordingApp()

    Adapter(app, strip_root_path=True)(load_event("apigw_rest_encoded_path"), None)

    # raw_path stays as the client encoded it (an encoded %2F is not a separator); path is decoded.
    assert paths(app) == ("/files/a/b/café", b"/files/a%2Fb/caf%C3%A9", "/prod")


def test_strip_root_path_removes_the_mount_point_as_the_client_encoded_it() -> None:
    app = RecordingApp()
    event = load_event("apigw_rest_get")
    # The client wrote the stage's "o" as %6F: the segment still decodes to the stage.
    event["requestContext"]["path"] = event["path"] = "/pr%6Fd/items/a%2Fb"

    Adapter(app, strip_root_path=True)(event, None)

    assert paths(app) == ("/items/a/b", b"/items/a%2Fb", "/prod")


def test_strip_root_path_reencodes_the_path_when_a_slash_inside_the_mount_point_was_encoded() -> None:
    app = RecordingApp()
    event = load_event("apigw_rest_custom_domain")
    # "/v1%2Fapi" is one segment as sent, two once decoded: the raw mount point cannot be cut off.
    event["requestContext"]["path"] = event["path"] = "/v1%2Fapi/items/42"

    Adapter(app, api_gateway_base_path="/v1/api", strip_root_path=True)(event, None)

    assert paths(app) == ("/items/42", b"/items/42", "/v1/api")


def test_strip_root_path_makes_the_mount_point_itself_the_root() -> None:
    app = RecordingApp()
    event = load_event("apigw_rest_get")
    event["path"], event["requestContext"]["path"] = "/", "/prod/"

    Adapter(app, strip_root_path=True)(event, None)

    assert paths(app) == ("/", b"/", "/prod")


def test_strip_root_path_leaves_a_path_with_no_mount_point_alone() -> None:
    app = RecordingApp()

    Adapter(app, strip_root_path=True)(load_event("http_api_v2_get"), None)  # the $default stage

    assert paths(app) == ("/items/42", b"/items/42", "")


def test_asgi_strip_root_path_in_the_environment_does_the_same() -> None:
    app = RecordingApp()
    settings = Settings.from_environ({"ASGI_APP": "main:app", "ASGI_STRIP_ROOT_PATH": "1"})

    Adapter(app, settings=settings)(load_event("apigw_rest_get"), None)

    assert paths(app) == ("/items/42", b"/items/42", "/prod")
