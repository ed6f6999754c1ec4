"""The zero-code layer's environment variables: each read, checked, and named when wrong."""

from __future__ import annotations

import logging

import pytest

from asgi_lambda.config import Config
from asgi_lambda.exceptions import ConfigError


def test_defaults_with_only_asgi_app_set() -> None:
    config = Config.from_environ({"ASGI_APP": "main:app"})

    assert (config.app, config.lifespan, config.base_path, config.text_mime_types, config.exclude_headers) == (
        "main:app",
        "auto",
        "/",
        (),
        (),
    )


def test_every_variable_is_read() -> None:
    config = Config.from_environ(
        {
            "ASGI_APP": " pkg.main:api.app ",
            "ASGI_LIFESPAN": "ON",
            "ASGI_BASE_PATH": "v1/",
            "ASGI_TEXT_MIME_TYPES": "application/vnd.custom, +yaml,",
            "ASGI_EXCLUDE_HEADERS": "Server, x-powered-by",
        }
    )

    assert (config.app, config.lifespan, config.base_path, config.text_mime_types, config.exclude_headers) == (
        "pkg.main:api.app",
        "on",
        "/v1",
        ("application/vnd.custom", "+yaml"),
        ("Server", "x-powered-by"),
    )


@pytest.mark.parametrize(
    ("environ", "message"),
    [
        ({}, "ASGI_APP is not set: set it to your ASGI app as module:attribute, for example main:app."),
        ({"ASGI_APP": "  "}, "ASGI_APP is not set: set it to your ASGI app as module:attribute, for example main:app."),
        ({"ASGI_APP": "main:app", "ASGI_LIFESPAN": "maybe"}, "ASGI_LIFESPAN='maybe': expected one of auto, on, off."),
        (
            {"ASGI_APP": "main:app", "ASGI_BASE_PATH": "/v1?x=1"},
            "ASGI_BASE_PATH='/v1?x=1': expected a path such as /v1 or /api/v2, without query, fragment or spaces.",
        ),
        (
            {"ASGI_APP": "main:app", "ASGI_TEXT_MIME_TYPES": "json"},
            "ASGI_TEXT_MIME_TYPES='json': 'json' is not a media type; expected entries such as "
            "application/vnd.api+json, text/ or +yaml, separated by commas.",
        ),
        (
            {"ASGI_APP": "main:app", "ASGI_EXCLUDE_HEADERS": "server; x-a"},
            "ASGI_EXCLUDE_HEADERS='server; x-a': 'server; x-a' is not a header name; expected names such as "
            "server,x-powered-by, separated by commas.",
        ),
    ],
    ids=["asgi-app-missing", "asgi-app-blank", "lifespan", "base-path", "text-mime-types", "exclude-headers"],
)
def test_invalid_setting_names_the_variable_the_value_and_the_fix(environ: dict[str, str], message: str) -> None:
    with pytest.raises(ConfigError) as error:
        Config.from_environ(environ)

    assert str(error.value) == message


def test_unknown_asgi_variable_is_warned_about_not_ignored_silently(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="asgi_lambda"):
        Config.from_environ({"ASGI_APP": "main:app", "ASGI_LIFESPAM": "off"})

    assert [record.getMessage() for record in caplog.records] == [
        "ASGI_LIFESPAM is not a variable asgi_lambda reads; ignored (did you mean ASGI_LIFESPAN?)"
    ]
