"""WSGI apps (Flask, Django, Bottle) through the same sources as ASGI apps: found by their shape or
by ASGI_INTERFACE, SCRIPT_NAME the stage and base path, the response as the source shapes any other,
streamed chunk by chunk, inline with one invocation at a time and in threads with several."""

from __future__ import annotations

import asyncio
import base64
import json
import logging
import threading
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from asgi_lambda import Adapter
from asgi_lambda.docs import fix
from asgi_lambda.exceptions import AppImportError, ConfigError, UnknownEventError
from asgi_lambda.protocols import loop
from asgi_lambda.protocols.http_cycle import HTTPCycle
from asgi_lambda.settings import Settings
from tests.support.events import load_event
from tests.support.frameworks.apps import bottle_app, django_app, flask_app
from tests.support.frameworks.matrix import request

StartResponse = Callable[..., Any]


def hello(environ: dict[str, Any], start_response: StartResponse) -> list[bytes]:
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [b"hello"]


async def asgi_app(scope: Any, receive: Any, send: Any) -> None:
    await send({"type": "http.response.start", "status": 204, "headers": []})
    await send({"type": "http.response.body", "body": b""})


def http_api(path: str, event: str = "http_api_v2_get") -> dict[str, Any]:
    loaded = load_event(event)
    loaded["rawPath"] = loaded["requestContext"]["http"]["path"] = path
    loaded["rawQueryString"] = ""
    return loaded


# --- what the app is ------------------------------------------------------------------------------


@pytest.mark.parametrize("app", [flask_app.app, django_app.wsgi_app, bottle_app.app, hello], ids=["flask", "django", "bottle", "function"])
def test_a_wsgi_callable_is_found_to_be_wsgi(app: Any) -> None:
    assert Adapter(app).interface == "wsgi"


@pytest.mark.parametrize("app", [asgi_app, django_app.app], ids=["function", "django-asgi"])
def test_an_asgi_app_stays_asgi(app: Any) -> None:
    adapter = Adapter(app, lifespan="off")

    assert (adapter.interface, adapter.app) == ("asgi3", app)


def test_a_bad_asgi_interface_is_a_config_error_naming_it() -> None:
    with pytest.raises(ConfigError) as error:
        Settings.from_environ({"ASGI_APP": "main:app", "ASGI_INTERFACE": "wsgi2"})

    assert str(error.value) == (
        "ASGI_INTERFACE='wsgi2': expected one of auto, asgi3, asgi2, wsgi (auto finds it from the app: an async callable "
        "taking scope, receive and send is ASGI 3, a callable taking environ and start_response is WSGI)."
    ) + fix("invalid-value")


def test_interface_wsgi_given_an_asgi_app_fails_at_init_saying_what_was_found() -> None:
    with pytest.raises(ConfigError) as error:
        Adapter(asgi_app, interface="wsgi")

    assert str(error.value) == (
        "interface='wsgi', but the app is an ASGI app (an async callable taking scope, receive and send), not a WSGI app "
        "(a callable taking environ and start_response): give interface='asgi3', or leave it out."
    ) + fix("interface-mismatch")


def test_asgi_interface_asgi3_given_a_wsgi_app_fails_at_init_saying_what_was_found(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(flask_app, "hello", hello, raising=False)

    with pytest.raises(ConfigError) as error:
        Adapter.from_environ({"ASGI_APP": "tests.support.frameworks.apps.flask_app:hello", "ASGI_INTERFACE": "asgi3"})

    assert str(error.value) == (
        "ASGI_INTERFACE='asgi3', but ASGI_APP='tests.support.frameworks.apps.flask_app:hello': "
        "tests.support.frameworks.apps.flask_app.hello is a WSGI app (a callable taking environ and start_response), "
        "not an ASGI app (an async callable taking scope, receive and send): set ASGI_INTERFACE to wsgi, or unset it (auto)."
    ) + fix("interface-mismatch")


class Legacy:
    """An ASGI 2 app: made with the scope, then called with receive and send."""

    def __init__(self, scope: Any) -> None:
        self.scope = scope

    async def __call__(self, receive: Any, send: Any) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"text/plain")]})
        await send({"type": "http.response.body", "body": self.scope["path"].encode()})


@pytest.mark.parametrize("interface", ["auto", "asgi2"])
def test_an_asgi2_class_is_served_as_asgi3_in_code(interface: str) -> None:
    adapter = Adapter(Legacy, lifespan="off", interface=interface)

    assert (adapter.interface, adapter(http_api("/legacy"), None)["body"]) == ("asgi3", "/legacy")


def test_asgi_interface_asgi2_serves_an_asgi2_class_named_by_asgi_app(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(flask_app, "Legacy", Legacy, raising=False)

    adapter = Adapter.from_environ(
        {"ASGI_APP": "tests.support.frameworks.apps.flask_app:Legacy", "ASGI_INTERFACE": "asgi2", "ASGI_LIFESPAN": "off"}
    )

    assert adapter(http_api("/legacy"), None)["body"] == "/legacy"


def test_interface_asgi2_given_a_wsgi_app_fails_at_init_saying_what_was_found() -> None:
    with pytest.raises(ConfigError) as error:
        Adapter(hello, interface="asgi2")

    assert str(error.value) == (
        "interface='asgi2', but the app is a WSGI app (a callable taking environ and start_response), not an ASGI 2 app "
        "(a class taking the scope, whose instances take receive and send): give interface='wsgi', or leave it out."
    ) + fix("interface-mismatch")


def test_a_lambda_handler_named_by_asgi_app_is_refused_at_init_not_taken_for_wsgi(monkeypatch: pytest.MonkeyPatch) -> None:
    def handler(event: Any, context: Any) -> dict[str, Any]:
        return {"statusCode": 200}

    monkeypatch.setattr(flask_app, "handler", handler, raising=False)

    with pytest.raises(AppImportError) as error:
        Adapter.from_environ({"ASGI_APP": "tests.support.frameworks.apps.flask_app:handler"})

    assert str(error.value) == (
        "ASGI_APP='tests.support.frameworks.apps.flask_app:handler': tests.support.frameworks.apps.flask_app.handler is a "
        "function taking 2 arguments, not an ASGI app (an async callable taking scope, receive and send) or a WSGI app "
        "(a callable taking environ and start_response); ASGI_APP must name the app itself, e.g. main:app."
    ) + fix("not-an-asgi-app")


def test_the_zero_code_layer_finds_a_flask_app_by_its_shape() -> None:
    adapter = Adapter.from_environ({"ASGI_APP": "tests.support.frameworks.apps.flask_app:app"})

    assert (adapter.interface, adapter(request(path="/where"), None)["statusCode"]) == ("wsgi", 200)


def test_asgi_interface_wsgi_serves_a_callable_whose_arguments_cannot_be_told(monkeypatch: pytest.MonkeyPatch) -> None:
    def wrapped(*args: Any) -> list[bytes]:  # a decorator's wrapper: ASGI 3 by its shape
        return hello(*args)

    monkeypatch.setattr(flask_app, "wrapped", wrapped, raising=False)

    adapter = Adapter.from_environ({"ASGI_APP": "tests.support.frameworks.apps.flask_app:wrapped", "ASGI_INTERFACE": "wsgi"})

    assert adapter(http_api("/"), None)["body"] == "hello"


# --- paths: SCRIPT_NAME is the stage and base path ------------------------------------------------


@pytest.mark.parametrize(
    ("event", "adapter_options", "script_root", "url"),
    [
        (request(path="/where", base="stage"), {}, "/prod", "/prod/where"),
        (request(path="/where", base="domain"), {"api_gateway_base_path": "/v1"}, "/v1", "/v1/where"),
        (http_api("/dev/where", "http_api_v2_named_stage"), {}, "/dev", "/dev/where"),
        (http_api("/where"), {}, "", "/where"),
    ],
    ids=["rest-stage", "rest-custom-domain", "http-api-named-stage", "http-api-default-stage"],
)
def test_flask_gets_the_stage_and_base_path_as_script_root_and_routes_on_the_rest(
    event: dict[str, Any], adapter_options: dict[str, Any], script_root: str, url: str
) -> None:
    response = Adapter(flask_app.app, **adapter_options)(event, None)

    assert json.loads(response["body"]) == {"script_root": script_root, "path": "/where", "url": url}


@pytest.mark.parametrize(
    ("event", "adapter_options", "script_name"),
    [
        (request(path="/where", base="stage"), {}, "/prod"),
        (request(path="/where", base="domain"), {"api_gateway_base_path": "/v1"}, "/v1"),
        (http_api("/dev/where", "http_api_v2_named_stage"), {}, "/dev"),
    ],
    ids=["rest-stage", "rest-custom-domain", "http-api-named-stage"],
)
def test_django_gets_the_stage_and_base_path_as_script_name_and_path_info_is_the_route(
    event: dict[str, Any], adapter_options: dict[str, Any], script_name: str
) -> None:
    response = Adapter(django_app.wsgi_app, **adapter_options)(event, None)

    assert json.loads(response["body"]) == {"script_name": script_name, "path_info": "/where"}


def test_strip_root_path_leaves_script_name_and_path_info_as_they_are() -> None:
    response = Adapter(flask_app.app, strip_root_path=True)(request(path="/where"), None)

    assert json.loads(response["body"]) == {"script_root": "/prod", "path": "/where", "url": "/prod/where"}


# --- what goes in and out -------------------------------------------------------------------------


def test_every_set_cookie_is_kept_in_a_rest_answer() -> None:
    response = Adapter(flask_app.app)(request(path="/cookies"), None)

    assert response["multiValueHeaders"]["set-cookie"] == ["a=1; Path=/", "b=2; HttpOnly; Path=/"]


def test_every_set_cookie_is_kept_in_an_http_api_answer() -> None:
    response = Adapter(flask_app.app)(http_api("/cookies"), None)

    assert response["cookies"] == ["a=1; Path=/", "b=2; HttpOnly; Path=/"]


def test_a_post_without_content_length_still_has_its_body() -> None:
    event = http_api("/json")
    event["requestContext"]["http"]["method"] = "POST"
    event["headers"] = {key: value for key, value in event["headers"].items() if key != "content-length"}
    event["headers"]["content-type"] = "application/json"
    event["body"], event["isBase64Encoded"] = '{"n": 1}', False

    response = Adapter(flask_app.app)(event, None)

    assert (response["statusCode"], json.loads(response["body"])) == (200, {"received": {"n": 1}})


def test_an_unknown_route_is_the_frameworks_own_404_page() -> None:
    response = Adapter(flask_app.app)(request(path="/nowhere"), None)

    assert (response["statusCode"], "<h1>Not Found</h1>" in response["body"]) == (404, True)


def test_a_non_http_event_under_events_path_reaches_the_wsgi_app() -> None:
    def events(environ: dict[str, Any], start_response: StartResponse) -> list[bytes]:
        body = json.loads(environ["wsgi.input"].read())
        answer = {"path": environ["PATH_INFO"], "records": len(body["Records"]), "batchItemFailures": []}
        start_response("200 OK", [("Content-Type", "application/json")])
        return [json.dumps(answer).encode()]

    result = Adapter(events, events_path="/events")(load_event("sqs_batch"), None)

    assert result == {"path": "/events/sqs", "records": 2, "batchItemFailures": []}


def test_a_websocket_event_to_a_wsgi_app_is_an_error_naming_wsgi() -> None:
    with pytest.raises(UnknownEventError) as error:
        Adapter(hello)(load_event("ws_connect"), None)

    assert str(error.value) == (
        "A WebSocket event (CONNECT on connection L0SM9cOFvHcCIhw=) reached a WSGI app, which has no WebSocket protocol: "
        "serve WebSocket routes with an ASGI app, or route them to another function."
    )


def test_lifespan_on_is_logged_as_off_for_a_wsgi_app(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.INFO, logger="asgi_lambda"):
        adapter = Adapter(hello, lifespan="on")

    assert adapter.lifespan.state is None
    assert [record.getMessage() for record in caplog.records] == [
        "Lifespan is 'on', but a WSGI app has no lifespan: it is off. Run startup code at import."
    ]


def test_the_wsgi_environ_carries_the_event_and_context_and_pep_3333s_keys() -> None:
    seen: dict[str, Any] = {}

    def app(environ: dict[str, Any], start_response: StartResponse) -> list[bytes]:
        seen.update(environ)
        start_response("204 No Content", [])
        return []

    event = http_api("/a b/c")
    event["rawQueryString"] = "x=1&y=%C3%A9"
    Adapter(app)(event, "the context")

    assert {key: seen[key] for key in ("REQUEST_METHOD", "SCRIPT_NAME", "PATH_INFO", "QUERY_STRING", "CONTENT_LENGTH")} == {
        "REQUEST_METHOD": "GET",
        "SCRIPT_NAME": "",
        "PATH_INFO": "/a b/c",
        "QUERY_STRING": "x=1&y=%C3%A9",
        "CONTENT_LENGTH": "0",
    }
    assert (seen["wsgi.url_scheme"], seen["wsgi.multithread"], seen["aws.event"], seen["aws.context"]) == (
        "https",
        False,
        event,
        "the context",
    )


def test_a_header_name_with_an_underscore_is_dropped_so_it_cannot_pass_for_one_with_a_dash() -> None:
    seen: dict[str, Any] = {}

    def app(environ: dict[str, Any], start_response: StartResponse) -> list[bytes]:
        seen.update(environ)
        start_response("204 No Content", [])
        return []

    event = http_api("/")
    event["headers"]["x_user"] = "admin"
    event["headers"]["x-user"] = "guest"
    Adapter(app)(event, None)

    assert seen["HTTP_X_USER"] == "guest"


# --- PEP 3333's response rules ---------------------------------------------------------------------


def test_start_response_with_exc_info_replaces_the_headers_before_the_body() -> None:
    def app(environ: dict[str, Any], start_response: StartResponse) -> list[bytes]:
        start_response("200 OK", [("Content-Type", "text/plain")])
        try:
            raise ValueError("late")
        except ValueError:
            import sys

            start_response("503 Service Unavailable", [("Content-Type", "text/html"), ("Retry-After", "5")], sys.exc_info())
        return [b"later"]

    response = Adapter(app)(http_api("/"), None)

    assert (response["statusCode"], response["headers"], response["body"]) == (
        503,
        {"content-type": "text/html", "retry-after": "5"},
        "later",
    )


def test_write_and_the_iterable_both_reach_the_body_and_close_is_called() -> None:
    closed: list[bool] = []

    class Body:
        def __iter__(self) -> Iterator[bytes]:
            yield b" and "
            yield b"iterable"

        def close(self) -> None:
            closed.append(True)

    def app(environ: dict[str, Any], start_response: StartResponse) -> Body:
        write = start_response("200 OK", [("Content-Type", "text/plain")])
        write(b"write")
        return Body()

    response = Adapter(app)(http_api("/"), None)

    assert (response["body"], closed) == ("write and iterable", [True])


def test_a_str_chunk_is_a_500_and_a_log_line_naming_it(caplog: pytest.LogCaptureFixture) -> None:
    def app(environ: dict[str, Any], start_response: StartResponse) -> list[str]:
        start_response("200 OK", [("Content-Type", "text/plain")])
        return ["text"]

    with caplog.at_level(logging.ERROR, logger="asgi_lambda"):
        response = Adapter(app)(http_api("/"), None)

    assert (response["statusCode"], response["body"]) == (500, "Internal Server Error")
    assert str(caplog.records[-1].exc_info[1]) == "the WSGI app's response yielded str; expected bytes"  # type: ignore[index]


# --- streaming ----------------------------------------------------------------------------------


class RecordingStream:
    """A ResponseStream that notes each write in `log`, in order with what the app notes."""

    def __init__(self, log: list[str]) -> None:
        self.log = log
        self.status = 500
        self.gone = False
        self.ended = False
        self.on_gone: Callable[[], None] = lambda: None

    async def start(self, status: int, headers: Any) -> None:
        self.status = status
        self.log.append(f"start {status}")

    async def write(self, body: bytes, *, last: bool) -> None:
        self.log.append(f"wrote {body.decode()!r}{' last' if last else ''}")
        self.ended = last

    async def conclude(self, cycle: HTTPCycle, response: Any) -> None:
        self.log.append("concluded")


def test_a_wsgi_iterator_is_streamed_chunk_by_chunk() -> None:
    log: list[str] = []

    def tokens(environ: dict[str, Any], start_response: StartResponse) -> Iterator[bytes]:
        start_response("200 OK", [("Content-Type", "text/event-stream")])
        for token in ("one", "two", "three"):
            log.append(f"made {token!r}")
            yield token.encode()

    adapter = Adapter(tokens)
    adapter.http(adapter.map(load_event("function_url_get"), None), RecordingStream(log))

    assert log == [
        "made 'one'",
        "start 200",
        "wrote 'one'",
        "made 'two'",
        "wrote 'two'",
        "made 'three'",
        "wrote 'three'",
        "wrote '' last",
        "concluded",
    ]


def test_a_wsgi_iterator_run_in_a_thread_is_streamed_chunk_by_chunk_too(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_LAMBDA_MAX_CONCURRENCY", "2")
    log: list[str] = []

    def tokens(environ: dict[str, Any], start_response: StartResponse) -> Iterator[bytes]:
        start_response("200 OK", [("Content-Type", "text/event-stream")])
        for token in ("one", "two"):
            log.append(f"made {token!r} in {threading.current_thread().name.split('_')[0]}")
            yield token.encode()

    adapter = Adapter(tokens)
    try:
        adapter.http(adapter.map(load_event("function_url_get"), None), RecordingStream(log))
    finally:
        adapter.close()

    assert log == ["made 'one' in wsgi", "start 200", "wrote 'one'", "made 'two' in wsgi", "wrote 'two'", "wrote '' last", "concluded"]


# --- where the app runs -----------------------------------------------------------------------------


def test_one_invocation_at_a_time_runs_inline_with_no_running_loop_in_sight() -> None:
    seen: list[Any] = []

    def app(environ: dict[str, Any], start_response: StartResponse) -> list[bytes]:
        try:
            asyncio.get_running_loop()
            seen.append("a running loop")
        except RuntimeError:
            seen.append("no running loop")
        seen.append(threading.current_thread() is threading.main_thread())
        start_response("204 No Content", [])
        return []

    adapter = Adapter(app)
    adapter(http_api("/"), None)  # the managed runtime's way
    early = loop.run(adapter.answer_http(adapter.map(http_api("/"), None)))  # the layer's runtime client's way
    # With a WebSocket store of its own (for the send API), the app runs as an ASGI app on the loop.
    with_hub = Adapter(app, ws_config={"backend": "memory", "params": {"management_endpoint_url": "http://127.0.0.1:9"}})
    with_hub(http_api("/"), None)

    assert (seen, early.response["status"] if early.response else None) == (["no running loop", True] * 3, 204)


def test_djangos_async_unsafe_code_runs_in_a_wsgi_app_buffered_and_streamed_under_the_loop() -> None:
    from django.utils.asyncio import async_unsafe  # the guard of Django's ORM: it refuses a running event loop

    @async_unsafe
    def query() -> bytes:
        return b"rows"

    def app(environ: dict[str, Any], start_response: StartResponse) -> Iterator[bytes]:
        start_response("200 OK", [("Content-Type", "text/plain")])
        yield query()
        yield query()

    adapter = Adapter(app)
    early = loop.run(adapter.answer_http(adapter.map(http_api("/"), None)))  # the layer's runtime client's way
    log: list[str] = []
    adapter.http(adapter.map(load_event("function_url_get"), None), RecordingStream(log))  # streamed, on the loop

    assert early.response is not None and (early.response["status"], early.response["body"]) == (200, b"rowsrows")
    assert log == ["start 200", "wrote 'rows'", "wrote 'rows'", "wrote '' last", "concluded"]


def test_concurrent_invocations_run_wsgi_calls_in_threads_at_once(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_LAMBDA_MAX_CONCURRENCY", "2")
    both_in = threading.Barrier(2, timeout=10)  # passes only if the two calls run at the same time
    threads: list[str] = []

    def app(environ: dict[str, Any], start_response: StartResponse) -> list[bytes]:
        both_in.wait()
        threads.append(threading.current_thread().name)
        start_response("200 OK", [("Content-Type", "text/plain")])
        return [b"multithread" if environ["wsgi.multithread"] else b"one at a time"]

    adapter = Adapter(app)

    async def two() -> list[Any]:
        return await asyncio.gather(*(adapter.answer_http(adapter.map(http_api("/"), None)) for _ in range(2)))

    try:
        answers = loop.run(two())
    finally:
        adapter.close()

    assert [early.response["body"] for early in answers if early.response] == [b"multithread"] * 2
    assert sorted(name.split("_")[0] for name in threads) == ["wsgi", "wsgi"]


def test_a_binary_body_in_goes_to_the_app_byte_for_byte() -> None:
    def app(environ: dict[str, Any], start_response: StartResponse) -> list[bytes]:
        body = environ["wsgi.input"].read(int(environ["CONTENT_LENGTH"]))
        start_response("200 OK", [("Content-Type", "application/octet-stream")])
        return [body[::-1]]

    response = Adapter(app)(load_event("http_api_v2_post_base64"), None)
    sent = base64.b64decode(load_event("http_api_v2_post_base64")["body"])

    assert (response["isBase64Encoded"], base64.b64decode(response["body"])) == (True, sent[::-1])
