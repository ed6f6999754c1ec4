"""The opt-in access log (ASGI_ACCESS_LOG=1, access_log=True): one line per request on the
`asgi_lambda.access` logger, and nothing at all, not even a clock read, when it is off."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Any

import pytest

from asgi_lambda import Adapter, ConfigError
from asgi_lambda import adapter as adapter_module
from asgi_lambda.docs import fix
from asgi_lambda.settings import Settings
from asgi_lambda.stores.memory import MemoryStore
from tests.support import adapter
from tests.support.apps import RecordingApp
from tests.support.events import load_event
from tests.support.management_api import ManagementAPIStub
from tests.support.websocket import websocket_runtime

REQUEST_ID = "c6af9ac6-7b61-11e6-9a41-93e8deadbeef"


class Context:
    """The one field of the Lambda context the access log reads."""

    aws_request_id = REQUEST_ID


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> None:
    """perf_counter as the adapter sees it: 10.0 when a request starts, 10.0625 (62.5 ms on) when it ends."""
    readings = iter([10.0, 10.0625])
    monkeypatch.setattr(adapter_module, "perf_counter", lambda: next(readings))


@pytest.fixture(autouse=True)
def access_logger_level() -> Iterator[logging.Logger]:
    """The access logger's level, put back after each test (Adapter(access_log=True) may set it)."""
    logger = logging.getLogger("asgi_lambda.access")
    level = logger.level
    logger.setLevel(logging.NOTSET)
    yield logger
    logger.setLevel(level)


def access_records(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [record for record in caplog.records if record.name == "asgi_lambda.access"]


# --- the setting -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [("1", True), ("true", True), ("on", True), ("TRUE", True), ("0", False), ("false", False), ("off", False), ("", False)],
)
def test_asgi_access_log_takes_the_usual_switch_words(value: str, expected: bool) -> None:
    assert Settings.from_environ({"ASGI_APP": "main:app", "ASGI_ACCESS_LOG": value}).access_log is expected


def test_the_access_log_is_off_unless_asked_for() -> None:
    assert (Settings.from_environ({"ASGI_APP": "main:app"}).access_log, Settings.from_arguments().access_log) == (False, False)


def test_asgi_access_log_and_access_log_give_the_same_settings() -> None:
    from_environ = Settings.from_environ({"ASGI_APP": "main:app", "ASGI_ACCESS_LOG": "1"})

    assert from_environ == Settings.from_arguments(access_log=True).replace(app="main:app")


@pytest.mark.parametrize(
    ("spelling", "value", "message"),
    [
        ("ASGI_ACCESS_LOG", "verbose", "ASGI_ACCESS_LOG='verbose': expected 1 or 0 (or true/false, yes/no, on/off)."),
        ("access_log", "false", "access_log='false': expected True or False."),
        ("access_log", 1, "access_log=1: expected True or False."),
    ],
)
def test_a_bad_access_log_value_names_the_spelling_and_the_fix(spelling: str, value: object, message: str) -> None:
    with pytest.raises(ConfigError) as raised:
        if spelling.isupper():
            Settings.from_environ({"ASGI_APP": "main:app", spelling: str(value)})
        else:
            adapter(RecordingApp(), access_log=value)  # type: ignore[arg-type]

    assert str(raised.value) == message + fix("invalid-value")


def test_settings_and_the_access_log_keyword_together_are_refused() -> None:
    settings = Settings.from_arguments(access_log=True)

    with pytest.raises(ConfigError, match="^settings= and access_log both configure the adapter"):
        Adapter(RecordingApp(), settings=settings, access_log=True)


# --- HTTP ----------------------------------------------------------------------------------


def test_one_line_per_http_request_with_method_path_status_duration_and_request_id(clock: None, caplog: pytest.LogCaptureFixture) -> None:
    handler = adapter(RecordingApp(status=201), access_log=True)

    with caplog.at_level(logging.INFO):
        handler(load_event("http_api_v2_named_stage"), Context())

    [record] = access_records(caplog)
    assert (record.levelname, record.getMessage()) == ("INFO", f"GET /dev/items/42 201 62.5ms {REQUEST_ID}")
    # The same fields, each its own key in a JSON log line (AWS_LAMBDA_LOG_FORMAT=JSON).
    fields: dict[str, Any] = {key: getattr(record, key) for key in ("method", "path", "status", "durationMs")}
    assert fields == {"method": "GET", "path": "/dev/items/42", "status": 201, "durationMs": 62.5}


def test_the_logged_path_leaves_out_the_query_string(clock: None, caplog: pytest.LogCaptureFixture) -> None:
    event = load_event("http_api_v2_get")
    assert event["rawQueryString"]  # tag=a&tag=b&q=a+b...: values a client may put secrets in

    with caplog.at_level(logging.INFO):
        adapter(RecordingApp(), access_log=True)(event, Context())

    assert [record.getMessage() for record in access_records(caplog)] == [f"GET /items/42 200 62.5ms {REQUEST_ID}"]


def test_the_logged_path_is_the_clients_whole_path_under_strip_root_path(clock: None, caplog: pytest.LogCaptureFixture) -> None:
    app = RecordingApp()

    with caplog.at_level(logging.INFO):
        adapter(app, access_log=True, strip_root_path=True)(load_event("http_api_v2_named_stage"), Context())

    assert app.scope["path"] == "/items/42"
    assert [record.getMessage() for record in access_records(caplog)] == [f"GET /dev/items/42 200 62.5ms {REQUEST_ID}"]


def test_the_logged_status_is_the_500_the_client_got_when_the_app_raises(clock: None, caplog: pytest.LogCaptureFixture) -> None:
    async def raises(scope: Any, receive: Any, send: Any) -> None:
        raise RuntimeError("boom")

    with caplog.at_level(logging.INFO):
        response = adapter(raises, access_log=True)(load_event("http_api_v2_get"), Context())

    assert response["statusCode"] == 500
    assert [record.getMessage() for record in access_records(caplog)] == [f"GET /items/42 500 62.5ms {REQUEST_ID}"]


def test_the_logged_status_is_the_500_that_replaces_an_oversized_response(clock: None, caplog: pytest.LogCaptureFixture) -> None:
    app = RecordingApp(body=b"x" * (6 * 1024 * 1024 + 1))

    with caplog.at_level(logging.INFO):
        response = adapter(app, access_log=True)(load_event("http_api_v2_get"), Context())

    assert response["statusCode"] == 500
    assert [record.getMessage() for record in access_records(caplog)] == [f"GET /items/42 500 62.5ms {REQUEST_ID}"]


def test_without_a_lambda_context_the_request_id_is_a_dash(clock: None, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.INFO):
        adapter(RecordingApp(), access_log=True)(load_event("http_api_v2_get"), None)

    assert [record.getMessage() for record in access_records(caplog)] == ["GET /items/42 200 62.5ms -"]


def test_the_access_log_is_off_by_default_and_reads_no_clock(monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture) -> None:
    def no_clock() -> float:
        raise AssertionError("the access log is off: the request path must not read the clock")

    monkeypatch.setattr(adapter_module, "perf_counter", no_clock)
    handler = adapter(RecordingApp())

    with caplog.at_level(logging.DEBUG):
        response = handler(load_event("http_api_v2_get"), Context())

    assert response["statusCode"] == 200
    assert access_records(caplog) == []


def test_turning_it_on_makes_info_lines_pass_a_root_logger_left_at_warning(access_logger_level: logging.Logger) -> None:
    # The managed runtime leaves the root logger at WARNING unless AWS_LAMBDA_LOG_LEVEL is set.
    adapter(RecordingApp(), access_log=True)

    assert access_logger_level.level == logging.INFO


def test_a_level_the_user_set_on_the_access_logger_stands(access_logger_level: logging.Logger) -> None:
    access_logger_level.setLevel(logging.WARNING)

    adapter(RecordingApp(), access_log=True)

    assert access_logger_level.level == logging.WARNING


# --- WebSocket -----------------------------------------------------------------------------


class Echo:
    """Accepts, except the connections it is told to refuse; echoes each text message."""

    def __init__(self, *, refuse: bool = False) -> None:
        self.refuse = refuse

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        await receive()
        if self.refuse:
            await send({"type": "websocket.close", "code": 4003})
            return
        await send({"type": "websocket.accept"})
        while (message := await receive())["type"] == "websocket.receive":
            await send({"type": "websocket.send", "text": message["text"]})


@pytest.fixture
def memory_hub(stub: ManagementAPIStub) -> Iterator[None]:
    with websocket_runtime(MemoryStore(), endpoint=stub.endpoint):
        yield


def test_one_line_per_websocket_event_with_its_type_connection_and_status(
    monkeypatch: pytest.MonkeyPatch, memory_hub: None, caplog: pytest.LogCaptureFixture
) -> None:
    readings = iter([1.0, 1.0625, 2.0, 2.25, 3.0, 3.5])
    monkeypatch.setattr(adapter_module, "perf_counter", lambda: next(readings))
    handler = adapter(Echo(), access_log=True)

    with caplog.at_level(logging.INFO):
        for name in ("ws_connect", "ws_message", "ws_disconnect"):
            handler(load_event(name), Context())

    connection = "L0SM9cOFvHcCIhw="
    assert [record.getMessage() for record in access_records(caplog)] == [
        f"WebSocket CONNECT {connection} 200 62.5ms {REQUEST_ID}",
        f"WebSocket MESSAGE {connection} 200 250.0ms {REQUEST_ID}",
        f"WebSocket DISCONNECT {connection} 200 500.0ms {REQUEST_ID}",
    ]
    first = access_records(caplog)[0]
    fields = {key: getattr(first, key) for key in ("eventType", "connectionId", "status", "durationMs")}
    assert fields == {"eventType": "CONNECT", "connectionId": connection, "status": 200, "durationMs": 62.5}


def test_a_refused_websocket_connection_is_logged_with_its_403(clock: None, memory_hub: None, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.INFO):
        response = adapter(Echo(refuse=True), access_log=True)(load_event("ws_connect"), Context())

    assert response == {"statusCode": 403}
    assert [record.getMessage() for record in access_records(caplog)] == [f"WebSocket CONNECT L0SM9cOFvHcCIhw= 403 62.5ms {REQUEST_ID}"]


def test_websocket_events_log_nothing_when_the_access_log_is_off(memory_hub: None, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.DEBUG):
        adapter(Echo())(load_event("ws_connect"), Context())

    assert access_records(caplog) == []
