"""The settings: the zero-code layer's environment variables and the adapter's arguments, each
read, checked, and named when wrong, by one function whatever the spelling."""

from __future__ import annotations

import logging

import pytest

from asgi_lambda.docs import fix
from asgi_lambda.exceptions import ConfigError
from asgi_lambda.settings import DEFAULT_TEXT_MIME_TYPES, Settings
from asgi_lambda.settings.websocket import websocket_from_environ


def test_defaults_with_only_asgi_app_set() -> None:
    settings = Settings.from_environ({"ASGI_APP": "main:app"})

    assert settings == Settings(app="main:app")
    assert (settings.lifespan, settings.base_path, settings.text_mime_types.entries, settings.exclude_headers, settings.events_path) == (
        "auto",
        "",
        DEFAULT_TEXT_MIME_TYPES,
        frozenset(),
        None,
    )


def test_every_variable_is_read() -> None:
    settings = Settings.from_environ(
        {
            "ASGI_APP": " pkg.main:api.app ",
            "ASGI_LIFESPAN": "ON",
            "ASGI_BASE_PATH": "v1/",
            "ASGI_TEXT_MIME_TYPES": "application/vnd.custom, +yaml,",
            "ASGI_EXCLUDE_HEADERS": "Server, x-powered-by",
            "ASGI_EVENTS_PATH": "/events/",
        }
    )

    assert (
        settings.app,
        settings.lifespan,
        settings.base_path,
        settings.text_mime_types.entries,
        settings.exclude_headers,
        settings.events_path,
    ) == (
        "pkg.main:api.app",
        "on",
        "/v1",
        DEFAULT_TEXT_MIME_TYPES + ("application/vnd.custom", "+yaml"),
        frozenset({"server", "x-powered-by"}),
        "/events",
    )


def test_the_environment_and_the_arguments_give_the_same_settings() -> None:
    from_environ = Settings.from_environ(
        {
            "ASGI_APP": "main:app",
            "ASGI_LIFESPAN": "off",
            "ASGI_BASE_PATH": "/v1",
            "ASGI_TEXT_MIME_TYPES": "application/vnd.custom",
            "ASGI_EXCLUDE_HEADERS": "server",
            "ASGI_EVENTS_PATH": "/events",
        }
    )
    from_arguments = Settings.from_arguments(
        lifespan="off",
        api_gateway_base_path="/v1/",
        text_mime_types=["application/vnd.custom"],
        exclude_headers=["Server"],
        events_path="/events",
    )

    assert from_environ == from_arguments.replace(app="main:app")


@pytest.mark.parametrize(
    ("variable", "value", "argument", "fault"),
    [
        ("ASGI_LIFESPAN", "maybe", "lifespan", "expected one of auto, on, off."),
        (
            "ASGI_BASE_PATH",
            "/v1?x=1",
            "api_gateway_base_path",
            "expected a path such as /v1 or /api/v2, without query, fragment or spaces.",
        ),
        ("ASGI_EVENTS_PATH", "/events#x", "events_path", "expected a path such as /v1 or /api/v2, without query, fragment or spaces."),
    ],
)
def test_a_variable_and_its_argument_are_checked_by_one_rule(variable: str, value: str, argument: str, fault: str) -> None:
    with pytest.raises(ConfigError) as from_environ:
        Settings.from_environ({"ASGI_APP": "main:app", variable: value})
    with pytest.raises(ConfigError) as from_arguments:
        Settings.from_arguments(**{argument: value})

    assert str(from_environ.value) == f"{variable}={value!r}: {fault}" + fix("invalid-value")
    assert str(from_arguments.value) == f"{argument}={value!r}: {fault}" + fix("invalid-value")


def test_settings_are_frozen() -> None:
    settings = Settings.from_arguments()

    with pytest.raises(AttributeError):
        settings.lifespan = "off"  # type: ignore[misc]


@pytest.mark.parametrize(
    ("environ", "message"),
    [
        ({}, "ASGI_APP is not set: set it to your ASGI app as module:attribute, for example main:app." + fix("asgi-app-not-set")),
        (
            {"ASGI_APP": "  "},
            "ASGI_APP is not set: set it to your ASGI app as module:attribute, for example main:app." + fix("asgi-app-not-set"),
        ),
        (
            {"ASGI_APP": "main:app", "ASGI_LIFESPAN": "maybe"},
            "ASGI_LIFESPAN='maybe': expected one of auto, on, off." + fix("invalid-value"),
        ),
        (
            {"ASGI_APP": "main:app", "ASGI_BASE_PATH": "/v1?x=1"},
            "ASGI_BASE_PATH='/v1?x=1': expected a path such as /v1 or /api/v2, without query, fragment or spaces." + fix("invalid-value"),
        ),
        (
            {"ASGI_APP": "main:app", "ASGI_TEXT_MIME_TYPES": "json"},
            "ASGI_TEXT_MIME_TYPES='json': 'json' is not a media type; expected entries such as "
            "application/vnd.api+json, text/ or +yaml, separated by commas." + fix("invalid-value"),
        ),
        (
            {"ASGI_APP": "main:app", "ASGI_EXCLUDE_HEADERS": "server; x-a"},
            "ASGI_EXCLUDE_HEADERS='server; x-a': 'server; x-a' is not a header name; expected names such as "
            "server,x-powered-by, separated by commas." + fix("invalid-value"),
        ),
    ],
    ids=["asgi-app-missing", "asgi-app-blank", "lifespan", "base-path", "text-mime-types", "exclude-headers"],
)
def test_invalid_setting_names_the_variable_the_value_and_the_fix(environ: dict[str, str], message: str) -> None:
    with pytest.raises(ConfigError) as error:
        Settings.from_environ(environ)

    assert str(error.value) == message


def test_unknown_asgi_variable_is_warned_about_not_ignored_silently(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="asgi_lambda"):
        Settings.from_environ({"ASGI_APP": "main:app", "ASGI_LIFESPAM": "off"})

    assert [record.getMessage() for record in caplog.records] == [
        "ASGI_LIFESPAM is not a variable asgi_lambda reads; ignored (did you mean ASGI_LIFESPAN?)"
    ]


# --- WebSocket settings --------------------------------------------------------------


@pytest.mark.parametrize(
    ("environ", "backend", "options"),
    [
        ({"WS_BACKEND": "memory"}, "memory", {}),
        ({"WS_BACKEND": "sqlite"}, "sqlite", {"path": "/tmp/asgi-lambda-{uid}/connections.sqlite3"}),
        ({"WS_BACKEND": "DynamoDB", "WS_DYNAMODB_TABLE": "connections"}, "dynamodb", {"table": "connections"}),
        ({"WS_BACKEND": "s3", "WS_S3_BUCKET": "b"}, "s3", {"bucket": "b", "prefix": "asgi-lambda/connections/"}),
        ({"WS_BACKEND": "postgresql", "WS_POSTGRES_DSN": "postgres://u@db/x"}, "postgresql", {"dsn": "postgres://u@db/x"}),
        ({"WS_BACKEND": "redis", "WS_REDIS_URL": "rediss://cache:6380/0"}, "redis", {"url": "rediss://cache:6380/0"}),
    ],
)
def test_each_ws_backend_takes_its_own_variables(environ: dict[str, str], backend: str, options: dict[str, str]) -> None:
    settings = websocket_from_environ(environ)

    assert (settings.backend, dict(settings.store_options)) == (backend, options)


def test_websocket_defaults() -> None:
    settings = websocket_from_environ({"WS_BACKEND": "memory", "AWS_REGION": "eu-west-1"})

    assert (settings.path, settings.ttl_seconds, settings.endpoint_url, settings.region) == ("/", 7260, None, "eu-west-1")


@pytest.mark.parametrize(
    ("environ", "message"),
    [
        (
            {"WS_BACKEND": "mongodb"},
            "WS_BACKEND='mongodb': expected one of dynamodb, s3, postgresql, redis, sqlite, memory (or postgres, sqlite3)."
            + fix("invalid-value"),
        ),
        (
            {"WS_BACKEND": "dynamodb"},
            "WS_BACKEND=dynamodb needs WS_DYNAMODB_TABLE: the dynamodb store's table." + fix("store-variable-missing"),
        ),
        ({"WS_BACKEND": "redis"}, "WS_BACKEND=redis needs WS_REDIS_URL: the redis store's URL." + fix("store-variable-missing")),
        (
            {"WS_BACKEND": "postgresql", "WS_POSTGRES_DSN": "mysql://app:secret@db/x"},
            "WS_POSTGRES_DSN='mysql://app:***@db/x': expected a URL starting with postgresql:// or postgres://." + fix("invalid-value"),
        ),
        ({"WS_BACKEND": "memory", "WS_PATH": "ws"}, "WS_PATH='ws': expected a path starting with /, such as /ws." + fix("invalid-value")),
        (
            {"WS_BACKEND": "memory", "WS_TTL_SECONDS": "2h"},
            "WS_TTL_SECONDS='2h': expected a whole number of seconds above 0, such as 7260." + fix("invalid-value"),
        ),
        (
            {"WS_BACKEND": "memory", "WS_ENDPOINT_URL": "wss://x/prod"},
            "WS_ENDPOINT_URL='wss://x/prod': expected an http(s) URL, such as http://127.0.0.1:8001/prod." + fix("invalid-value"),
        ),
    ],
    ids=["unknown-backend", "dynamodb-table-missing", "redis-url-missing", "dsn-scheme-password-masked", "path", "ttl", "endpoint"],
)
def test_invalid_websocket_setting_names_the_variable_and_the_fix(environ: dict[str, str], message: str) -> None:
    with pytest.raises(ConfigError) as error:
        websocket_from_environ(environ)

    assert str(error.value) == message


def test_websocket_settings_are_checked_at_init_when_ws_backend_is_set() -> None:
    with pytest.raises(ConfigError) as error:
        Settings.from_environ({"ASGI_APP": "main:app", "WS_BACKEND": "redis"})

    assert str(error.value) == "WS_BACKEND=redis needs WS_REDIS_URL: the redis store's URL." + fix("store-variable-missing")


def test_no_websocket_settings_without_ws_backend() -> None:
    assert Settings.from_environ({"ASGI_APP": "main:app"}).websocket is None


# --- ASGI_STRIP_ROOT_PATH / strip_root_path ---------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("1", True),
        ("true", True),
        (" Yes ", True),
        ("ON", True),
        ("0", False),
        ("false", False),
        ("no", False),
        ("off", False),
        ("", False),
    ],
)
def test_asgi_strip_root_path_takes_the_usual_switch_words(value: str, expected: bool) -> None:
    settings = Settings.from_environ({"ASGI_APP": "main:app", "ASGI_STRIP_ROOT_PATH": value})

    assert settings.strip_root_path is expected


def test_strip_root_path_is_off_unless_asked_for() -> None:
    assert (Settings.from_environ({"ASGI_APP": "main:app"}).strip_root_path, Settings.from_arguments().strip_root_path) == (False, False)


def test_asgi_strip_root_path_and_strip_root_path_give_the_same_settings() -> None:
    from_environ = Settings.from_environ({"ASGI_APP": "main:app", "ASGI_STRIP_ROOT_PATH": "1"})

    assert from_environ == Settings.from_arguments(strip_root_path=True).replace(app="main:app")


@pytest.mark.parametrize(
    ("spelling", "value", "message"),
    [
        ("ASGI_STRIP_ROOT_PATH", "maybe", "ASGI_STRIP_ROOT_PATH='maybe': expected 1 or 0 (or true/false, yes/no, on/off)."),
        # In code only a bool: the string "false" would otherwise read as True.
        ("strip_root_path", "false", "strip_root_path='false': expected True or False."),
        ("strip_root_path", 1, "strip_root_path=1: expected True or False."),
    ],
    ids=["variable", "argument-string", "argument-int"],
)
def test_a_bad_strip_root_path_names_the_spelling_and_the_fix(spelling: str, value: object, message: str) -> None:
    with pytest.raises(ConfigError) as error:
        if spelling.isupper():
            Settings.from_environ({"ASGI_APP": "main:app", spelling: str(value)})
        else:
            Settings.from_arguments(strip_root_path=value)  # type: ignore[arg-type]

    assert str(error.value) == message + fix("invalid-value")
