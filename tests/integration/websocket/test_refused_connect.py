"""A $connect the app refuses, most often because no route matched the path every WebSocket scope
gets (WS_PATH), answers 403 and logs a warning naming the path and WS_PATH: through the handler
Lambda runs, and through `asgi-lambda serve`'s gateway."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from starlette.applications import Starlette
from starlette.routing import WebSocketRoute
from starlette.websockets import WebSocket
from websockets.exceptions import InvalidStatus
from websockets.sync.client import connect

from asgi_lambda.protocols import loop
from asgi_lambda.stores.memory import MemoryStore
from asgi_lambda.websocket import bookkeeping
from asgi_lambda.websocket.hub import ConnectionHub
from tests.support import adapter
from tests.support.events import load_event
from tests.support.local import serve_gateway
from tests.support.management_api import ManagementAPIStub
from tests.support.paths import directory_outside_tmp
from tests.support.runtime.layer import function
from tests.support.websocket import websocket_runtime

CONNECTION_ID = "L0SM9cOFvHcCIhw="


async def room(websocket: WebSocket) -> None:
    await websocket.accept()
    await websocket.receive_text()


# An endpoint routed at /ws, as README's example and most tutorials route it.
app = Starlette(routes=[WebSocketRoute("/ws", room)])


class Refuses:
    """A raw ASGI app that refuses every connection in one of the ways ASGI allows."""

    def __init__(self, how: str) -> None:
        self.how = how

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        await receive()
        if self.how == "denial":
            await send({"type": "websocket.http.response.start", "status": 404, "headers": []})
            await send({"type": "websocket.http.response.body", "body": b"no route", "more_body": False})
        elif self.how == "close":
            await send({"type": "websocket.close", "code": 4003})


@pytest.fixture(autouse=True)
def first_refusal() -> Iterator[None]:
    bookkeeping.WARNED_PATHS.clear()
    yield
    bookkeeping.WARNED_PATHS.clear()


@pytest.fixture
def runtime(stub: ManagementAPIStub) -> Iterator[ConnectionHub]:
    with websocket_runtime(MemoryStore(), endpoint=stub.endpoint, path="/") as hub:
        yield hub


def connect_event(handler: Any) -> Any:
    return handler(load_event("ws_connect"), None)


def warnings_of(caplog: pytest.LogCaptureFixture) -> list[tuple[int, str]]:
    return [(record.levelno, record.getMessage()) for record in caplog.records if record.name == "asgi_lambda.websocket"]


def test_a_connect_no_route_matched_answers_403_and_warns_naming_the_path_and_ws_path(
    runtime: ConnectionHub, caplog: pytest.LogCaptureFixture
) -> None:
    response = connect_event(adapter(app))

    assert response == {"statusCode": 403}
    assert loop.run(runtime.store.load(CONNECTION_ID)) is None
    assert warnings_of(caplog) == [
        (
            logging.WARNING,
            "$connect refused: the app accepted no WebSocket at path '/' (it sent websocket.close (code 1000) before "
            "websocket.accept); if your endpoint is at another path, set WS_PATH to it, such as WS_PATH=/ws",
        )
    ]


@pytest.mark.parametrize(
    ("how", "said"),
    [
        ("denial", "it answered the handshake with HTTP 404"),
        ("close", "it sent websocket.close (code 4003) before websocket.accept"),
        ("return", "it sent no websocket.accept"),
    ],
)
def test_each_way_of_refusing_answers_403_and_says_how(
    runtime: ConnectionHub, caplog: pytest.LogCaptureFixture, how: str, said: str
) -> None:
    assert connect_event(adapter(Refuses(how))) == {"statusCode": 403}

    assert warnings_of(caplog) == [
        (
            logging.WARNING,
            f"$connect refused: the app accepted no WebSocket at path '/' ({said}); if your endpoint is at another path, "
            "set WS_PATH to it, such as WS_PATH=/ws",
        )
    ]


def test_later_refusals_at_the_same_path_are_logged_at_info(runtime: ConnectionHub, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="asgi_lambda")
    handler = adapter(Refuses("close"))

    connect_event(handler)
    connect_event(handler)

    assert [level for level, _ in warnings_of(caplog)] == [logging.WARNING, logging.INFO]
    assert warnings_of(caplog)[1][1] == "$connect refused at path '/' (it sent websocket.close (code 4003) before websocket.accept)"


def test_the_example_names_slash_when_the_refused_path_is_ws(stub: ManagementAPIStub, caplog: pytest.LogCaptureFixture) -> None:
    with websocket_runtime(MemoryStore(), endpoint=stub.endpoint, path="/ws"):
        connect_event(adapter(Refuses("return")))

    assert warnings_of(caplog)[0][1].endswith("such as WS_PATH=/")


def test_an_accepted_connect_warns_nothing(stub: ManagementAPIStub, caplog: pytest.LogCaptureFixture) -> None:
    with websocket_runtime(MemoryStore(), endpoint=stub.endpoint, path="/ws"):
        assert connect_event(adapter(app)) == {"statusCode": 200}

    assert warnings_of(caplog) == []


# The module's Starlette app, served by `asgi-lambda serve`'s gateway with the defaults.
SERVED_APP = f"{__name__}:app"


def test_serve_warns_the_same_for_a_connect_no_route_matched(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    for name in ("WS_BACKEND", "WS_PATH"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    with serve_gateway(SERVED_APP, monkeypatch, tmp_path / ".asgi-lambda", ws_path="/") as served:
        with pytest.raises(InvalidStatus) as refused:
            connect(served.ws_url)
        served.wait_for_line("$connect")

    assert refused.value.response.status_code == 403
    assert (
        logging.WARNING,
        "$connect refused: the app accepted no WebSocket at path '/' (it sent websocket.close (code 1000) before "
        "websocket.accept); if your endpoint is at another path, set WS_PATH to it, such as WS_PATH=/ws",
    ) in warnings_of(caplog)


ROUTED_AT_WS = """
from starlette.applications import Starlette
from starlette.routing import WebSocketRoute


async def room(websocket):
    await websocket.accept()


app = Starlette(routes=[WebSocketRoute("/ws", room)])
"""


def test_lambda_logs_the_same_warning(tmp_path: Path, layer_zip: Path, stub: ManagementAPIStub) -> None:  # noqa: F811
    # The layer in awslambdaric, under the Runtime API emulator; its log lines go to CloudWatch on Lambda.
    with directory_outside_tmp() as state:
        environ = {"WS_BACKEND": "sqlite", "WS_SQLITE_PATH": str(state / "connections.sqlite3"), "WS_ENDPOINT_URL": stub.endpoint}
        with function(tmp_path, layer_zip, source=ROUTED_AT_WS, env=environ) as fn:
            refused = fn.invoke(load_event("ws_connect"))
            logs = fn.logs()

    assert refused.payload == {"statusCode": 403}
    assert (
        "$connect refused: the app accepted no WebSocket at path '/' (it sent websocket.close (code 1000) before "
        "websocket.accept); if your endpoint is at another path, set WS_PATH to it, such as WS_PATH=/ws"
    ) in logs
