"""The local gateway end to end: a FastAPI app behind it, real clients (httpx, websockets), the
function's handler called with API Gateway's events in the gateway's worker thread."""

from __future__ import annotations

import base64
import json
import re
import sqlite3
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

import httpx
import pytest
from fastapi import FastAPI, Request, Response, WebSocket, WebSocketDisconnect
from websockets.exceptions import ConnectionClosed, InvalidStatus
from websockets.sync.client import ClientConnection, connect
from websockets.typing import Subprotocol

from asgi_lambda.websocket import broadcast, send
from asgi_lambda.websocket.hub import current
from asgi_lambda.websocket.management_api import Gone
from tests.support.local import Served

APP = f"{__name__}:app"

# What the app saw, for the tests to read: each invocation's event, the disconnects its
# WebSocket endpoint handled, what a post to a connecting client gave, lifespan phases.
EVENTS: list[dict[str, Any]] = []
DISCONNECTS: list[tuple[str, int]] = []
EARLY_POSTS: list[str] = []
LIFESPAN: list[str] = []


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    LIFESPAN.append("startup")
    yield
    LIFESPAN.append("shutdown")


app = FastAPI(lifespan=lifespan)


@app.api_route("/echo/{rest:path}", methods=["GET", "POST"])
async def echo(request: Request) -> dict[str, Any]:
    body = await request.body()
    return {
        "event": request.scope["aws.event"],
        "url": str(request.url),
        "query": list(request.query_params.multi_items()),
        "probe": request.headers.getlist("x-probe"),
        "cookies": request.cookies,
        "body": base64.b64encode(body).decode(),
    }


@app.get("/binary")
async def binary() -> Response:
    return Response(bytes(range(256)), media_type="application/octet-stream")


@app.get("/cookies")
async def cookies(response: Response) -> dict[str, str]:
    response.set_cookie("session", "abc")
    response.set_cookie("theme", "dark")
    return {"ok": "yes"}


@app.get("/repeated")
async def repeated() -> Response:
    response = Response("ok", media_type="text/plain")
    response.headers.append("x-probe", "one")
    response.headers.append("x-probe", "two")
    return response


@app.get("/empty")
async def empty() -> Response:
    return Response(status_code=204)


@app.get("/connections")
async def connections() -> list[str]:
    return sorted(record.connection_id for record in await current().store.scan())


@app.post("/send/{connection_id}")
async def send_to(connection_id: str, request: Request) -> dict[str, bool]:
    return {"delivered": await send(connection_id, (await request.body()).decode())}


@app.websocket("/ws")
async def room(websocket: WebSocket, name: str = "anonymous") -> None:
    """whoami: `<connection id> <name> <query string>`; `all <text>`: broadcast; `bye`: the app
    closes; bytes: sent back reversed; anything else: `echo: <text>`."""
    EVENTS.append(websocket.scope["aws.event"])
    me = websocket.scope["aws.connection_id"]
    if name == "reject":
        await websocket.close()
        return
    if name == "early" and websocket.scope["aws.event"]["requestContext"]["eventType"] == "CONNECT":
        # A post to this very connection while its $connect runs: API Gateway answers 410.
        try:
            await current().management_api(current().endpoint("local", "local")).post(me, b"too early")
            EARLY_POSTS.append("delivered")
        except Gone:
            EARLY_POSTS.append("gone")
    offered = websocket.scope["subprotocols"]
    await websocket.accept(subprotocol=offered[-1] if offered else None)
    try:
        while True:
            message = await websocket.receive()
            if message["type"] == "websocket.disconnect":
                raise WebSocketDisconnect(message["code"])
            if message.get("bytes") is not None:
                await websocket.send_bytes(message["bytes"][::-1])
                continue
            text = message["text"]
            if text == "whoami":
                await websocket.send_text(f"{me} {name} {websocket.scope['query_string'].decode()}")
            elif text.startswith("all "):
                await broadcast(f"{name}: {text[4:]}")
            elif text == "bye":
                await websocket.close(code=1000)
                return
            else:
                await websocket.send_text(f"echo: {text}")
    except WebSocketDisconnect as exc:
        DISCONNECTS.append((me, exc.code))


@pytest.fixture
def served(serve: Callable[..., Served]) -> Served:
    return serve(APP)


def client_id(ws: ClientConnection) -> str:
    ws.send("whoami")
    return str(ws.recv(timeout=5)).split(" ")[0]


# --- HTTP ---------------------------------------------------------------------------------------


def test_get_with_query_string_becomes_an_http_api_event(served: Served) -> None:
    answer = httpx.get(f"{served.base_url}/echo/items/42?tag=a&tag=b&q=a+b&plus=1%2B1")
    assert answer.status_code == 200
    event = answer.json()["event"]
    assert event["version"] == "2.0"
    assert event["rawPath"] == "/echo/items/42"
    assert event["rawQueryString"] == "tag=a&tag=b&q=a+b&plus=1%2B1"
    assert event["queryStringParameters"] == {"tag": "a,b", "q": "a b", "plus": "1+1"}
    assert event["requestContext"]["http"]["method"] == "GET"
    assert event["requestContext"]["http"]["sourceIp"] == "127.0.0.1"
    assert (event["requestContext"]["apiId"], event["requestContext"]["stage"]) == ("local", "$default")
    assert answer.json()["query"] == [["tag", "a"], ["tag", "b"], ["q", "a b"], ["plus", "1+1"]]


def test_app_builds_urls_with_the_local_host_and_scheme(served: Served) -> None:
    answer = httpx.get(f"{served.base_url}/echo/here?x=1")
    assert answer.json()["url"] == f"{served.base_url}/echo/here?x=1"


def test_post_json_reaches_the_app_as_a_text_body(served: Served) -> None:
    answer = httpx.post(f"{served.base_url}/echo/items", json={"name": "Ada"})
    event = answer.json()["event"]
    assert (event["body"], event["isBase64Encoded"]) == ('{"name":"Ada"}', False)
    assert base64.b64decode(answer.json()["body"]) == b'{"name":"Ada"}'


def test_binary_request_body_goes_base64_encoded(served: Served) -> None:
    payload = bytes(range(256))
    answer = httpx.post(f"{served.base_url}/echo/upload", content=payload, headers={"content-type": "application/octet-stream"})
    assert answer.json()["event"]["isBase64Encoded"] is True
    assert base64.b64decode(answer.json()["body"]) == payload


def test_binary_response_is_decoded_from_base64(served: Served) -> None:
    answer = httpx.get(f"{served.base_url}/binary")
    assert answer.content == bytes(range(256))
    assert answer.headers["content-type"] == "application/octet-stream"


def test_an_empty_204_answer_stays_empty(served: Served) -> None:
    answer = httpx.get(f"{served.base_url}/empty")
    assert (answer.status_code, answer.content) == (204, b"")


def test_cookies_the_app_sets_each_become_a_set_cookie_header(served: Served) -> None:
    answer = httpx.get(f"{served.base_url}/cookies")
    assert [cookie.split(";")[0] for cookie in answer.headers.get_list("set-cookie")] == ["session=abc", "theme=dark"]


def test_request_cookies_go_in_the_cookies_field(served: Served) -> None:
    answer = httpx.get(f"{served.base_url}/echo/me", headers={"cookie": "session=abc; theme=dark"})
    assert answer.json()["event"]["cookies"] == ["session=abc", "theme=dark"]
    assert answer.json()["cookies"] == {"session": "abc", "theme": "dark"}


def test_payload_v1_sends_a_rest_event_with_multi_value_headers_and_decoded_query(serve: Callable[..., Served]) -> None:
    served = serve(APP, payload="v1")
    answer = httpx.get(f"{served.base_url}/echo/items?q=a+b&tag=x&tag=y", headers=[("x-probe", "first"), ("x-probe", "second")])
    event = answer.json()["event"]
    assert "version" not in event and event["httpMethod"] == "GET"
    assert event["multiValueHeaders"]["X-Probe"] == ["first", "second"]
    assert event["multiValueQueryStringParameters"] == {"q": ["a b"], "tag": ["x", "y"]}
    assert event["requestContext"]["identity"]["sourceIp"] == "127.0.0.1"
    assert answer.json()["probe"] == ["first", "second"]


def test_payload_v1_answer_sends_headers_and_multi_value_headers_together(serve: Callable[..., Served]) -> None:
    # The answer has content-type in `headers` (sent once) and x-probe in `multiValueHeaders`.
    served = serve(APP, payload="v1")
    answer = httpx.get(f"{served.base_url}/repeated")
    assert answer.headers.get_list("x-probe") == ["one", "two"]
    assert answer.headers.get_list("content-type") == ["text/plain; charset=utf-8"]


def test_alb_mode_sends_an_alb_event_with_the_query_as_sent(serve: Callable[..., Served]) -> None:
    served = serve(APP, alb=True)
    answer = httpx.get(f"{served.base_url}/echo/items?q=a%20b&tag=x&tag=y")
    event = answer.json()["event"]
    assert "elb" in event["requestContext"]
    assert event["multiValueQueryStringParameters"] == {"q": ["a%20b"], "tag": ["x", "y"]}
    assert answer.json()["query"] == [["q", "a b"], ["tag", "x"], ["tag", "y"]]


def test_alb_mode_answer_keeps_repeated_response_headers(serve: Callable[..., Served]) -> None:
    served = serve(APP, alb=True)
    assert httpx.get(f"{served.base_url}/repeated").headers.get_list("x-probe") == ["one", "two"]


class FailingFunction:
    def start(self) -> None:
        pass

    async def invoke(self, event: dict[str, Any]) -> Any:
        raise RuntimeError("the handler exploded")

    def close(self) -> None:
        pass


def test_a_failing_handler_answers_502_and_prints_the_traceback(serve: Callable[..., Served], capsys: pytest.CaptureFixture[str]) -> None:
    served = serve(APP, function=FailingFunction())
    answer = httpx.get(f"{served.base_url}/echo/x")
    assert (answer.status_code, answer.json()) == (502, {"message": "Internal server error"})
    err = capsys.readouterr().err
    assert "Traceback" in err and "RuntimeError: the handler exploded" in err


def test_each_request_logs_one_line(served: Served) -> None:
    httpx.get(f"{served.base_url}/echo/items/42?x=1")
    assert re.fullmatch(r"GET /echo/items/42 200 \d+\.\d ms", served.wait_for_line("/echo/items/42"))
    assert len(served.lines) == 1


# --- WebSocket ----------------------------------------------------------------------------------


def test_websocket_connect_passes_the_query_string_and_negotiates_the_subprotocol(served: Served) -> None:
    with connect(f"{served.ws_url}?name=Ada%20L&room=lobby", subprotocols=[Subprotocol("chat.v1"), Subprotocol("chat.v2")]) as ws:
        assert ws.subprotocol == "chat.v2"
        ws.send("whoami")
        connection_id, reply = str(ws.recv(timeout=5)).split(" ", 1)
    assert reply == "Ada L name=Ada+L&room=lobby"
    assert connection_id.endswith("=")


def test_websocket_text_messages_reach_the_app(served: Served) -> None:
    with connect(served.ws_url) as ws:
        ws.send("hello")
        assert ws.recv(timeout=5) == "echo: hello"


def test_websocket_binary_messages_round_trip_as_binary(served: Served) -> None:
    with connect(served.ws_url) as ws:
        ws.send(b"\xff\x00\x01")
        assert ws.recv(timeout=5) == b"\x01\x00\xff"


def test_broadcast_reaches_every_client(served: Served) -> None:
    with connect(f"{served.ws_url}?name=Ada") as ada, connect(f"{served.ws_url}?name=Bob") as bob:
        client_id(ada), client_id(bob)  # both connected and stored
        bob.send("all hi")
        assert (ada.recv(timeout=5), bob.recv(timeout=5)) == ("Bob: hi", "Bob: hi")


def test_client_close_reaches_the_app_as_a_disconnect(served: Served) -> None:
    with connect(served.ws_url) as ws:
        connection_id = client_id(ws)
    served.wait_for_line(f"WS $disconnect {connection_id}")
    assert (connection_id, 1000) in DISCONNECTS


def test_app_close_closes_the_client(served: Served) -> None:
    with connect(served.ws_url) as ws:
        ws.send("bye")
        with pytest.raises(ConnectionClosed) as closed:
            ws.recv(timeout=5)
    assert closed.value.rcvd is not None and closed.value.rcvd.code == 1000


def test_websocket_events_have_api_gateway_shapes(served: Served) -> None:
    EVENTS.clear()
    with connect(f"{served.ws_url}?name=Ada%20L", subprotocols=[Subprotocol("chat.v1")]) as ws:
        connection_id = client_id(ws)
    served.wait_for_line(f"WS $disconnect {connection_id}")
    connect_event, message_event, disconnect_event = EVENTS
    assert [event["requestContext"]["eventType"] for event in EVENTS] == ["CONNECT", "MESSAGE", "DISCONNECT"]
    assert connect_event["headers"]["Sec-WebSocket-Protocol"] == "chat.v1"
    assert connect_event["multiValueQueryStringParameters"] == {"name": ["Ada L"]}
    assert connect_event["requestContext"]["identity"]["sourceIp"] == "127.0.0.1"
    assert (message_event["body"], message_event["isBase64Encoded"], message_event["requestContext"]["routeKey"]) == (
        "whoami",
        False,
        "$default",
    )
    assert disconnect_event["requestContext"]["disconnectStatusCode"] == 1000
    for event in EVENTS:
        context = event["requestContext"]
        assert (context["apiId"], context["stage"], context["connectionId"]) == ("local", "local", connection_id)


def test_management_api_answers_410_gone_for_a_client_that_left(served: Served) -> None:
    with connect(served.ws_url) as ws:
        connection_id = client_id(ws)
    served.wait_for_line(f"WS $disconnect {connection_id}")
    answer = httpx.post(f"{served.endpoint_url}/@connections/{connection_id}", content=b"anyone?")
    assert answer.status_code == 410
    assert answer.headers["x-amzn-ErrorType"] == "GoneException"
    assert answer.json() == {"message": None}


def test_sending_to_a_lost_connection_removes_it_from_the_store(served: Served) -> None:
    with connect(served.ws_url) as ws:
        connection_id = client_id(ws)
        assert httpx.get(f"{served.base_url}/connections").json() == [connection_id]
        # The client is lost without a $disconnect (API Gateway delivers it on a best-effort basis).
        del served.gateway.connections[connection_id]
        assert httpx.post(f"{served.base_url}/send/{connection_id}", content=b"hello").json() == {"delivered": False}
        assert httpx.get(f"{served.base_url}/connections").json() == []


def test_management_get_describes_the_connection(served: Served) -> None:
    with connect(served.ws_url, user_agent_header="test-agent") as ws:
        connection_id = client_id(ws)
        answer = httpx.get(f"{served.endpoint_url}/@connections/{connection_id}")
    assert answer.status_code == 200
    assert answer.json()["identity"] == {"sourceIp": "127.0.0.1", "userAgent": "test-agent"}
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", answer.json()["connectedAt"])


def test_management_delete_closes_the_client(served: Served) -> None:
    with connect(served.ws_url) as ws:
        connection_id = client_id(ws)
        assert httpx.delete(f"{served.endpoint_url}/@connections/{connection_id}").status_code == 204
        with pytest.raises(ConnectionClosed):
            ws.recv(timeout=5)
    served.wait_for_line(f"WS $disconnect {connection_id}")


def test_a_post_while_connect_runs_is_gone(served: Served) -> None:
    EARLY_POSTS.clear()
    with connect(f"{served.ws_url}?name=early") as ws:
        client_id(ws)
    assert EARLY_POSTS == ["gone"]


def test_a_connect_the_app_refuses_is_answered_403(served: Served) -> None:
    with pytest.raises(InvalidStatus) as refused:
        connect(f"{served.ws_url}?name=reject")
    assert refused.value.response.status_code == 403
    assert served.wait_for_line("WS $connect").split(" ")[3] == "403"
    assert served.gateway.connections == {}


def test_a_websocket_on_another_path_is_refused(served: Served) -> None:
    with pytest.raises(InvalidStatus) as refused:
        connect(served.ws_url.replace("/ws", "/elsewhere"))
    assert refused.value.response.status_code == 403


def test_websocket_events_log_one_line_each(served: Served) -> None:
    with connect(served.ws_url) as ws:
        connection_id = client_id(ws)
    served.wait_for_line(f"WS $disconnect {connection_id}")
    routes = [line.split(" ")[1] for line in served.lines if line.startswith("WS ")]
    assert routes == ["$connect", "$default", "$disconnect"]
    assert re.fullmatch(rf"WS \$connect {re.escape(connection_id)} 200 \d+\.\d ms", served.lines[0])


# --- the function ---------------------------------------------------------------------------------


def test_without_ws_backend_connections_go_to_a_sqlite_file_of_this_server(
    serve: Callable[..., Served], function_env: pytest.MonkeyPatch, tmp_path: Any
) -> None:
    function_env.delenv("WS_BACKEND")
    served = serve(APP)
    with connect(served.ws_url) as ws:
        connection_id = client_id(ws)
        files = list((tmp_path / ".asgi-lambda").glob("connections-*.sqlite3"))
        assert len(files) == 1
        with sqlite3.connect(files[0]) as db:
            stored = [row[0] for row in db.execute("SELECT connection_id FROM asgi_lambda_connections")]
    assert stored == [connection_id]


def test_lifespan_starts_with_the_gateway_and_shuts_down_with_it(serve: Callable[..., Served]) -> None:
    LIFESPAN.clear()
    served = serve(APP)
    assert LIFESPAN == ["startup"]
    httpx.get(f"{served.base_url}/echo/x")
    served.gateway.function.close()
    assert LIFESPAN == ["startup", "shutdown"]


def test_the_management_api_answers_404_for_other_paths(served: Served) -> None:
    answer = httpx.get(f"{served.endpoint_url}/not-connections/abc")
    assert answer.status_code == 404
    assert json.loads(answer.content) == {"message": "Not Found"}
