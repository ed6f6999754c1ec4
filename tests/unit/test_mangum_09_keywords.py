"""Mangum's WebSocket-era releases (0.9) took enable_lifespan, log_level, api_gateway_endpoint_url
and api_gateway_region_name: each is taken with its old meaning, with a DeprecationWarning that
names what replaces it, so a function written against those releases migrates by its import line."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest

from asgi_lambda import Adapter, ConfigError
from asgi_lambda.docs import fix
from asgi_lambda.protocols import loop
from tests.support.apps import LifespanApp, RecordingApp
from tests.support.events import load_event


@pytest.fixture(autouse=True)
def asgi_lambda_log_level() -> Iterator[None]:
    logger = logging.getLogger("asgi_lambda")
    level = logger.level
    yield
    logger.setLevel(level)


@pytest.mark.parametrize(("enable_lifespan", "lifespans", "instead"), [(False, 0, "lifespan='off'"), (True, 1, "lifespan='auto'")])
def test_enable_lifespan_keeps_its_meaning(enable_lifespan: bool, lifespans: int, instead: str) -> None:
    app = LifespanApp()

    with pytest.warns(DeprecationWarning) as warned:
        handler = Adapter(app, enable_lifespan=enable_lifespan)

    assert str(warned[0].message) == f"enable_lifespan is Mangum 0.9's keyword, taken with its old meaning; use {instead} instead."
    assert warned[0].filename == __file__  # it points at the Adapter(...) line
    assert app.startups == lifespans
    assert handler(load_event("http_api_v2_get"), None)["statusCode"] == 200
    handler.close()


def test_enable_lifespan_beside_lifespan_is_a_config_error() -> None:
    with pytest.raises(ConfigError) as error:
        Adapter(RecordingApp(), lifespan="on", enable_lifespan=False)

    assert str(error.value) == "lifespan='on' and enable_lifespan=False both set the lifespan: give lifespan only." + fix(
        "conflicting-settings"
    )


def test_log_level_sets_the_packages_logger() -> None:
    with pytest.warns(DeprecationWarning, match="^log_level is Mangum 0.9's keyword"):
        Adapter(RecordingApp(), lifespan="off", log_level="debug")

    assert logging.getLogger("asgi_lambda").level == logging.DEBUG


def test_an_unknown_log_level_is_a_config_error() -> None:
    with pytest.raises(ConfigError) as error, pytest.warns(DeprecationWarning):
        Adapter(RecordingApp(), lifespan="off", log_level="verbose")

    assert str(error.value) == "log_level='verbose': expected one of critical, error, warning, info, debug." + fix("invalid-value")


def test_the_management_api_endpoint_and_region_apply_to_the_adapters_store() -> None:
    with pytest.warns(DeprecationWarning) as warned:
        handler = Adapter(
            RecordingApp(),
            lifespan="off",
            dsn="memory://",
            api_gateway_endpoint_url="http://127.0.0.1:9/dev",
            api_gateway_region_name="eu-west-1",
        )

    assert handler.hub is not None
    assert (handler.hub.settings.endpoint_url, handler.hub.settings.region) == ("http://127.0.0.1:9/dev", "eu-west-1")
    assert [str(warning.message).split(" is ")[0] for warning in warned] == ["api_gateway_endpoint_url", "api_gateway_region_name"]
    assert {warning.filename for warning in warned} == {__file__}
    loop.run(handler.hub.close())


def test_with_ws_backend_set_the_endpoint_applies_to_the_store_it_names(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WS_BACKEND", "memory")

    with pytest.warns(DeprecationWarning):
        handler = Adapter(RecordingApp(), lifespan="off", api_gateway_endpoint_url="http://127.0.0.1:9/dev")

    assert handler.hub is not None
    assert (handler.hub.settings.backend, handler.hub.settings.endpoint_url) == ("memory", "http://127.0.0.1:9/dev")


def test_the_endpoint_without_any_store_is_a_config_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("WS_BACKEND", raising=False)

    with pytest.raises(ConfigError) as error:
        Adapter(RecordingApp(), lifespan="off", api_gateway_endpoint_url="http://127.0.0.1:9/dev")

    assert str(error.value) == (
        "api_gateway_endpoint_url and api_gateway_region_name configure WebSocket replies, but no store is configured: "
        "give ws_config or dsn, or set WS_BACKEND."
    ) + fix("ws-backend-not-set")
