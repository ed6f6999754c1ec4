"""A store whose server fails: outages, connections cut while the function sits idle, and
failures of any kind in the client library.

Each network store (PostgreSQL, Redis, DynamoDB, S3) reaches its server through a FaultProxy
(fault_proxy.py). One Adapter serves every event of a test, as one execution environment would:
tests/events/ws_*.json, the chat app of test_cycle.py, replies to the loopback Management API.
"""

from __future__ import annotations

import errno
import importlib
import inspect
import logging
import re
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest

from asgi_lambda.protocols import loop
from asgi_lambda.stores import Store
from asgi_lambda.stores.record import ConnectionRecord
from tests.support import adapter
from tests.support.apps import CONNECTION_ID, ChatApp
from tests.support.events import load_event
from tests.support.fault_proxy import PASSWORD, Proxied, proxied_dynamodb, proxied_postgresql, proxied_redis, proxied_s3  # noqa: F401
from tests.support.management_api import ManagementAPIStub
from tests.support.websocket import websocket_runtime

NETWORK_STORES = ["postgresql", "redis", "dynamodb", "s3"]

# The call every operation of the store goes through in its client library: where a test makes it fail.
LIBRARY_CALL = {
    "postgresql": ("asyncpg.connection", "Connection", "execute"),
    "redis": ("redis.asyncio.client", "Redis", "execute_command"),
    "dynamodb": ("botocore.client", "BaseClient", "_make_api_call"),
    "s3": ("botocore.client", "BaseClient", "_make_api_call"),
}

# How each client library words a connection the server reset, as it was being made or just after:
# the cause in an outage's log line.
RESET = errno.ECONNRESET
OUTAGE_CAUSE = {
    "postgresql": rf"ConnectionResetError: \[Errno {RESET}\] .+",
    # redis-py words a reset by its errno, or (when the reset meets a write) "Error UNKNOWN while writing".
    "redis": rf"ConnectionError: Error (.*\b{RESET}\b.*|UNKNOWN while writing to socket\. Connection lost\.)",
    "dynamodb": r"(ConnectionClosedError|EndpointConnectionError): .+",
    "s3": r"(ConnectionClosedError|EndpointConnectionError): .+",
}

CONNECTED = {"statusCode": 200, "headers": {"Sec-WebSocket-Protocol": "chat.v2"}}

# What the client library raises on a transport the server reset, on Python 3.12 (CPython's bug).
ADD_WRITER = "'NoneType' object has no attribute '_add_writer'"


@pytest.fixture(params=NETWORK_STORES)
def proxied(request: pytest.FixtureRequest) -> Proxied:
    both: Proxied = request.getfixturevalue(f"proxied_{request.param}")
    return both


class Function:
    """One execution environment: one Adapter and its app, the store behind a proxy."""

    def __init__(self, proxied: Proxied) -> None:
        self.app = ChatApp()
        self.adapter = adapter(self.run_app)
        self.store: Store = proxied.store
        self.proxy = proxied.proxy
        self.named = proxied.named
        self.outage_cause = OUTAGE_CAUSE[proxied.store.name]
        self.cut_as_the_app_starts: bool | None = None  # for the next event: cut with a reset (True) or a close

    async def run_app(self, scope: Any, receive: Any, send: Any) -> None:
        if self.cut_as_the_app_starts is not None:
            # Mid-run: after the event's first store operation (if any), before the app's end.
            self.proxy.cut(reset=self.cut_as_the_app_starts)
            self.cut_as_the_app_starts = None
        await self.app(scope, receive, send)

    def invoke(self, name: str, **changes: Any) -> dict[str, Any]:
        event = load_event(name)
        event.update(changes)
        response: dict[str, Any] = self.adapter(event, None)
        return response

    def stored(self, connection_id: str = CONNECTION_ID) -> ConnectionRecord | None:
        return loop.run(self.store.load(connection_id))


@pytest.fixture
def function(proxied: Proxied, stub: ManagementAPIStub) -> Iterator[Function]:
    with websocket_runtime(proxied.store, endpoint=stub.endpoint):
        yield Function(proxied)


@contextmanager
def logged(caplog: pytest.LogCaptureFixture) -> Iterator[list[str]]:
    """What asgi_lambda logs in the block, INFO and up (the client libraries' own lines left out)."""
    lines: list[str] = []
    caplog.clear()
    with caplog.at_level(logging.INFO, logger="asgi_lambda"):
        yield lines
    lines.extend(record.getMessage() for record in caplog.records if record.name.startswith("asgi_lambda"))


@pytest.fixture
def library_call(proxied: Proxied) -> Iterator[LibraryCall]:
    module, owner, name = LIBRARY_CALL[proxied.store.name]
    with pytest.MonkeyPatch.context() as patch:  # undone before the fixtures' own clients clean up
        yield LibraryCall(getattr(importlib.import_module(module), owner), name, patch)


class LibraryCall:
    """The store's client-library call, made to fail on demand; counts the calls made once armed."""

    def __init__(self, owner: type, name: str, patch: pytest.MonkeyPatch) -> None:
        self.owner, self.name, self.patch = owner, name, patch
        self.calls = 0

    def fail(self, error: BaseException, *, times: int) -> None:
        """Raise `error` on each of the next `times` calls; let the others through."""
        original = getattr(self.owner, self.name)

        def check() -> None:
            self.calls += 1
            if self.calls <= times:
                raise error

        if inspect.iscoroutinefunction(original):

            async def failing_async(*args: Any, **kwargs: Any) -> Any:
                check()
                return await original(*args, **kwargs)

            self.patch.setattr(self.owner, self.name, failing_async)
        else:

            def failing(*args: Any, **kwargs: Any) -> Any:
                check()
                return original(*args, **kwargs)

            self.patch.setattr(self.owner, self.name, failing)


# --- an outage -----------------------------------------------------------------------


def test_a_connect_during_an_outage_is_refused_with_500_and_leaves_nothing_in_the_store(
    function: Function, caplog: pytest.LogCaptureFixture
) -> None:
    assert function.invoke("ws_message") == {"statusCode": 200}  # warm: the store's connection is open

    with function.proxy.outage(), logged(caplog) as lines:
        assert function.invoke("ws_connect") == {"statusCode": 500}

    [line] = lines
    assert re.fullmatch(re.escape(f"WebSocket connection {CONNECTION_ID} refused: {function.named}: ") + function.outage_cause, line)
    assert PASSWORD not in line
    assert function.stored() is None  # asked after the server is back


def test_a_message_during_an_outage_is_dropped_and_logged_once_naming_the_connection(
    function: Function, stub: ManagementAPIStub, caplog: pytest.LogCaptureFixture
) -> None:
    assert function.invoke("ws_connect") == CONNECTED

    with function.proxy.outage(), logged(caplog) as lines:
        assert function.invoke("ws_message") == {"statusCode": 500}

    [line] = lines
    assert re.fullmatch(re.escape(f"WebSocket message on {CONNECTION_ID} dropped: {function.named}: ") + function.outage_cause, line)
    assert function.app.received == []
    assert stub.posts() == []


def test_when_the_server_is_back_the_next_events_work_on_the_same_adapter(function: Function, stub: ManagementAPIStub) -> None:
    assert function.invoke("ws_connect") == CONNECTED
    with function.proxy.outage():
        assert function.invoke("ws_message", body="lost") == {"statusCode": 500}

    assert function.invoke("ws_message") == {"statusCode": 200}
    assert function.invoke("ws_disconnect") == {"statusCode": 200}

    assert [message["text"] for message in function.app.received] == ["hello, world"]
    assert stub.posts() == [(CONNECTION_ID, b"echo: hello, world")]
    assert function.app.disconnects == [{"type": "websocket.disconnect", "code": 1001, "reason": "Going away"}]
    assert function.stored() is None


# --- connections cut while the function sits idle, or runs ---------------------------


@pytest.mark.parametrize("reset", [True, False], ids=["reset", "closed"])
def test_a_connect_after_the_connections_were_cut_while_idle_is_stored(function: Function, reset: bool) -> None:
    # On Python 3.12, the Redis store's next command used to escape as asyncio's AttributeError
    # (a write on the transport the reset closed): the connect answered nothing, Lambda an error.
    assert function.invoke("ws_message") == {"statusCode": 200}  # the store's connection is open
    function.proxy.cut(reset=reset)  # moto's server closes each connection itself: none may be left

    assert function.invoke("ws_connect") == CONNECTED

    record = function.stored()
    assert record is not None and record.scope["subprotocol"] == "chat.v2"


@pytest.mark.parametrize("reset", [True, False], ids=["reset", "closed"])
def test_a_connect_whose_store_connections_are_cut_while_the_app_runs_is_stored(function: Function, reset: bool) -> None:
    assert function.invoke("ws_message") == {"statusCode": 200}  # the store's connection is open
    function.cut_as_the_app_starts = reset

    assert function.invoke("ws_connect") == CONNECTED

    assert function.stored() is not None


@pytest.mark.parametrize("reset", [True, False], ids=["reset", "closed"])
def test_a_message_after_the_connections_were_cut_while_idle_is_answered(function: Function, stub: ManagementAPIStub, reset: bool) -> None:
    assert function.invoke("ws_connect") == CONNECTED
    function.proxy.cut(reset=reset)

    assert function.invoke("ws_message") == {"statusCode": 200}

    assert stub.posts() == [(CONNECTION_ID, b"echo: hello, world")]


# --- failures of any kind in the client library --------------------------------------


def test_a_client_library_failure_of_any_kind_is_tried_once_more_on_a_fresh_connection(
    function: Function, library_call: LibraryCall
) -> None:
    assert function.invoke("ws_message") == {"statusCode": 200}  # the store's connection is open
    opened = function.proxy.accepted
    library_call.fail(AttributeError(ADD_WRITER), times=1)

    assert function.invoke("ws_connect") == CONNECTED

    assert library_call.calls == 2
    assert function.proxy.accepted == opened + 1  # the second try went out on a new connection
    assert function.stored() is not None


def test_a_client_library_failure_that_persists_is_refused_after_one_more_try_naming_the_store_and_the_cause(
    function: Function, library_call: LibraryCall, caplog: pytest.LogCaptureFixture
) -> None:
    assert function.invoke("ws_message") == {"statusCode": 200}
    library_call.fail(AttributeError(ADD_WRITER), times=99)

    with logged(caplog) as lines:
        assert function.invoke("ws_connect") == {"statusCode": 500}

    assert library_call.calls == 2
    assert lines == [f"WebSocket connection {CONNECTION_ID} refused: {function.named}: AttributeError: {ADD_WRITER}"]


def test_a_timeout_is_refused_without_a_second_wait(
    function: Function, library_call: LibraryCall, caplog: pytest.LogCaptureFixture
) -> None:
    assert function.invoke("ws_message") == {"statusCode": 200}
    error, cause = timeout(function.store.name)
    library_call.fail(error, times=99)

    with logged(caplog) as lines:
        assert function.invoke("ws_connect") == {"statusCode": 500}

    assert library_call.calls == 1
    assert lines == [f"WebSocket connection {CONNECTION_ID} refused: {function.named}: {cause}"]


def timeout(store: str) -> tuple[Exception, str]:
    """The timeout the store's client library raises, and the cause the store's error gives."""
    if store == "redis":
        from redis.exceptions import TimeoutError as RedisTimeoutError

        return RedisTimeoutError("Timeout reading from socket"), "timed out (Timeout reading from socket)"
    if store in ("dynamodb", "s3"):
        from botocore.exceptions import ReadTimeoutError

        return ReadTimeoutError(endpoint_url="http://127.0.0.1"), 'ReadTimeoutError: Read timeout on endpoint URL: "http://127.0.0.1"'
    return TimeoutError(), "timed out (no answer within 5 s)"


def test_an_error_in_our_own_code_is_not_disguised_as_a_store_failure(function: Function, library_call: LibraryCall) -> None:
    library_call.fail(AssertionError("the client library was called"), times=99)
    unserialisable = ConnectionRecord(
        CONNECTION_ID, endpoint="https://example.com", scope={"x": object()}, expires_at=int(time.time()) + 60
    )

    with pytest.raises(TypeError, match="not JSON serializable"):
        loop.run(function.store.save(unserialisable))

    assert library_call.calls == 0
