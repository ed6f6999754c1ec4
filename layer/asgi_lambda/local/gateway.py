"""The local gateway: API Gateway's HTTP and WebSocket APIs, emulated in front of the function.

`asgi-lambda serve main:app` serves `Gateway` (an ASGI app) with uvicorn. Each request becomes
the Lambda event API Gateway would send; the function's handler answers it (the same `Adapter`
the layer builds from the same variables, or, with `--runtime`, the layer itself under
awslambdaric in a child process); the answer is read back as API Gateway reads it. WebSocket
clients cause `$connect`, `$default` and `$disconnect` events, and the Management API the
handler replies through (`POST {endpoint}/@connections/{id}`) is served by the same server under
MANAGEMENT_PREFIX, so replies and broadcasts reach the clients connected here.

With `stream=True` (`serve --stream`), HTTP requests become Function URL events (REST events with
payload v1) and each response reaches the client as the function streams it (streaming.py).

Modules: events.py (requests to events, answers back), function.py and runtime_function.py
(what answers), streaming.py (`--stream`), this one (the ASGI app: HTTP, WebSocket clients, the
Management API).
"""

from __future__ import annotations

import base64
import json
import sys
import time
import traceback
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from ..sources.common import printable
from .events import (
    API_ID,
    HOP_BY_HOP,
    MANAGEMENT_PREFIX,
    MAX_INVOKE_BYTES,
    MAX_WS_MESSAGE_BYTES,
    WS_STAGE,
    MalformedResponse,
    Payload,
    Request,
    alb_event,
    http_api_event,
    http_response,
    iso_time,
    new_id,
    query_params,
    request_time,
    rest_event,
    title_case,
)
from .function import Function, FunctionError
from .runtime_api import Stream
from .streaming import EmulatedFunction, function_url_event, relay

if TYPE_CHECKING:
    from ..types import Message, Receive, Scope, Send

# --- the gateway --------------------------------------------------------------------------------


def print_line(line: str) -> None:
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


class ClientSocket:
    """A client's live WebSocket, as the Management API reaches it."""

    def __init__(self, send: Send, request: Request) -> None:
        self.connection_id = new_id()
        self.send = send
        self.request = request
        self.open = False  # False while $connect runs, and once closed: API Gateway answers 410
        self.connected_at = time.time()
        self.last_active_at = self.connected_at

    async def post(self, data: bytes) -> bool:
        """Send one message: a text frame when it is UTF-8, else binary."""
        try:
            message: Message = {"type": "websocket.send", "text": data.decode()}
        except UnicodeDecodeError:
            message = {"type": "websocket.send", "bytes": data}
        try:
            await self.send(message)
        except Exception:  # the client left (uvicorn raises ClientDisconnected, or refuses a send after close)
            self.open = False
            return False
        self.last_active_at = time.time()
        return True

    async def close(self, code: int = 1000, reason: str = "") -> None:
        self.open = False
        try:
            await self.send({"type": "websocket.close", "code": code, "reason": reason})
        except Exception:
            pass  # already closed

    def request_context(self, route_key: str, event_type: str) -> dict[str, Any]:
        epoch_ms = int(time.time() * 1000)
        return {
            "routeKey": route_key,
            "eventType": event_type,
            "extendedRequestId": new_id(),
            "requestTime": request_time(epoch_ms),
            "messageDirection": "IN",
            "stage": WS_STAGE,
            "connectedAt": int(self.connected_at * 1000),
            "requestTimeEpoch": epoch_ms,
            "identity": {"userAgent": self.request.user_agent, "sourceIp": self.request.source_ip},
            "requestId": new_id(),
            "domainName": self.request.host,
            "connectionId": self.connection_id,
            "apiId": API_ID,
        }

    def connect_event(self) -> dict[str, Any]:
        """tests/events/ws_connect.json: the handshake's headers and query, decoded."""
        multi_headers: dict[str, list[str]] = {}
        for name, value in self.request.headers:
            multi_headers.setdefault(title_case(name), []).append(value)
        params = query_params(self.request.query_string)
        event: dict[str, Any] = {
            "headers": {name: values[-1] for name, values in multi_headers.items()},
            "multiValueHeaders": multi_headers,
        }
        if params:
            event["queryStringParameters"] = {key: values[-1] for key, values in params.items()}
            event["multiValueQueryStringParameters"] = params
        event["requestContext"] = self.request_context("$connect", "CONNECT")
        event["isBase64Encoded"] = False
        return event

    def message_event(self, data: str | bytes) -> dict[str, Any]:
        """tests/events/ws_message.json: text as it is, bytes as base64."""
        context = self.request_context("$default", "MESSAGE")
        context["messageId"] = new_id()
        if isinstance(data, bytes):
            return {"requestContext": context, "body": base64.b64encode(data).decode(), "isBase64Encoded": True}
        return {"requestContext": context, "body": data, "isBase64Encoded": False}

    def disconnect_event(self, code: int, reason: str) -> dict[str, Any]:
        """tests/events/ws_disconnect.json, with the close code and reason."""
        context = self.request_context("$disconnect", "DISCONNECT")
        context.update(disconnectStatusCode=code, disconnectReason=reason)
        host = self.request.host
        return {
            "headers": {"Host": host, "x-api-key": "", "X-Forwarded-For": "", "x-restapi": ""},
            "multiValueHeaders": {"Host": [host]},
            "requestContext": context,
            "isBase64Encoded": False,
        }


class Gateway:
    """The emulated API Gateway, as an ASGI app: HTTP requests to the function, WebSocket
    connections on `ws_path`, and the Management API under MANAGEMENT_PREFIX."""

    def __init__(
        self,
        function: Function,
        *,
        port: int,
        payload: Payload = "v2",
        alb: bool = False,
        ws_path: str = "/ws",
        stream: bool = False,
        root_path: str = "",
        log: Callable[[str], None] = print_line,
    ) -> None:
        if stream and not isinstance(function, EmulatedFunction):
            raise TypeError("stream=True needs a function that streams (streaming.InProcessStreamingFunction, or RuntimeFunction)")
        if stream and alb:
            raise ValueError("an Application Load Balancer cannot stream responses")
        self.function = function
        self.stream = stream
        self.port = port
        self.payload: Payload = payload
        self.alb = alb
        self.ws_path = ws_path
        self.root_path = root_path  # `serve --root-path`: a custom domain's base path, the only one it serves
        self.log = log
        self.connections: dict[str, ClientSocket] = {}

    def emit(self, line: str) -> None:
        """One line of the gateway's log; what the client sent in it (a decoded path) escaped."""
        self.log(printable(line))

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            path: str = scope["path"]
            if path == MANAGEMENT_PREFIX or path.startswith(MANAGEMENT_PREFIX + "/"):
                await self.management(scope, receive, send)
            else:
                await self.http(scope, receive, send)
        elif scope["type"] == "websocket":
            await self.websocket(scope, receive, send)
        # lifespan: served with lifespan="off"; the function has its own, run by the adapter.

    # -- HTTP ---------------------------------------------------------------------------------

    async def http(self, scope: Scope, receive: Receive, send: Send) -> None:
        started = time.perf_counter()
        try:
            body = await read_body(receive, limit=MAX_REQUEST_BYTES)
        except BodyTooLarge:
            # Refused as it arrives, as API Gateway refuses it: the rest is never read into memory.
            status, headers, content = json_answer(413, {"message": "Request Entity Too Large"})
            await send({"type": "http.response.start", "status": status, "headers": encode_headers(headers, content, "POST")})
            await send({"type": "http.response.body", "body": content})
            self.emit(
                f"{scope.get('method', 'GET')} {scope['path']} {status} {elapsed_ms(started)} ms (body over {MAX_REQUEST_BYTES} bytes)"
            )
            return
        if body is None:
            return  # the client left
        request = Request(scope, body, port=self.port)
        if self.root_path and not (request.path == self.root_path or request.path.startswith(self.root_path + "/")):
            # No API mapping for this path on the custom domain.
            status, headers, content = json_answer(404, {"message": "Not Found"})
            await send({"type": "http.response.start", "status": status, "headers": encode_headers(headers, content, request.method)})
            await send({"type": "http.response.body", "body": content if request.method != "HEAD" else b""})
            self.emit(f"{request.method} {request.path} {status} {elapsed_ms(started)} ms (outside --root-path {self.root_path})")
            return
        if self.stream:
            return await self.streamed(request, receive, send, started)
        status, headers, content = await self.answer(request)
        if request.method == "HEAD":
            content = b""
        await send({"type": "http.response.start", "status": status, "headers": encode_headers(headers, content, request.method)})
        await send({"type": "http.response.body", "body": content})
        self.emit(f"{request.method} {request.path} {status} {elapsed_ms(started)} ms")

    async def answer(self, request: Request) -> tuple[int, list[tuple[str, str]], bytes]:
        if self.alb:
            event = alb_event(request)
        elif self.payload == "v1":
            event = rest_event(request)
        else:
            event = http_api_event(request)
        try:
            response = await self.function.invoke(event)
            return http_response(response, payload="v1" if self.alb else self.payload)
        except Exception as exc:  # API Gateway answers 502 to a failed invocation or a malformed answer
            report(f"{request.method} {request.path}: the function failed; answering 502", exc)
            return json_answer(502, {"message": "Internal server error"})

    async def streamed(self, request: Request, receive: Receive, send: Send, started: float) -> None:
        """`stream=True`: the answer relayed as the function streams it. An event the function answers
        whole is answered as `answer` answers it; a failure before the first byte is API Gateway's 502."""
        function = self.function
        assert isinstance(function, EmulatedFunction)
        event = rest_event(request) if self.payload == "v1" else function_url_event(request)
        failed = f"{request.method} {request.path}: the function failed; answering 502"
        try:
            answered = await function.stream(event)
            if isinstance(answered, Stream):
                stream = answered
                try:
                    outcome = await relay(stream, lambda: function.ended(stream), receive, send, head=request.method == "HEAD")
                finally:
                    function.relayed(stream)
                cut = f" (cut short: {outcome.cut})" if outcome.cut else ""
                self.emit(f"{request.method} {request.path} {outcome.status} {elapsed_ms(started)} ms, streamed{cut}")
                return
            status, headers, content = http_response(answered, payload=self.payload)
        except (FunctionError, MalformedResponse) as exc:  # relay raises these only before the response starts
            report(failed, exc)
            status, headers, content = json_answer(502, {"message": "Internal server error"})
        if request.method == "HEAD":
            content = b""
        await send({"type": "http.response.start", "status": status, "headers": encode_headers(headers, content, request.method)})
        await send({"type": "http.response.body", "body": content})
        self.emit(f"{request.method} {request.path} {status} {elapsed_ms(started)} ms")

    # -- the Management API ---------------------------------------------------------------------

    async def management(self, scope: Scope, receive: Receive, send: Send) -> None:
        """`{MANAGEMENT_PREFIX}/{stage}/@connections/{id}`: POST, GET and DELETE, as API Gateway.
        https://docs.aws.amazon.com/apigateway/latest/developerguide/apigateway-how-to-call-websocket-api-connections.html"""
        started = time.perf_counter()
        method: str = scope["method"]
        try:
            body = await read_body(receive, limit=MAX_WS_MESSAGE_BYTES)
        except BodyTooLarge:
            status, headers, content = payload_too_large()
        else:
            if body is None:
                return
            status, headers, content = await self.manage(method, scope["path"], body)
        await send({"type": "http.response.start", "status": status, "headers": encode_headers(headers, content, method)})
        await send({"type": "http.response.body", "body": content})
        self.emit(f"{method} {scope['path']} {status} {elapsed_ms(started)} ms")

    async def manage(self, method: str, path: str, body: bytes) -> tuple[int, list[tuple[str, str]], bytes]:
        parts = path[len(MANAGEMENT_PREFIX) + 1 :].split("/")
        if len(parts) != 3 or parts[1] != "@connections" or not parts[2]:
            return json_answer(404, {"message": "Not Found"})
        if method not in ("POST", "GET", "DELETE"):
            return json_answer(405, {"message": f"Method {method} not allowed on @connections"})
        connection = self.connections.get(parts[2])
        if connection is None or not connection.open:
            return gone()
        if method == "POST":
            if len(body) > MAX_WS_MESSAGE_BYTES:
                return payload_too_large()
            return (200, [], b"") if await connection.post(body) else gone()
        if method == "GET":
            info = {
                "connectedAt": iso_time(connection.connected_at),
                "identity": {"sourceIp": connection.request.source_ip, "userAgent": connection.request.user_agent},
                "lastActiveAt": iso_time(connection.last_active_at),
            }
            return json_answer(200, info)
        await connection.close(1000)
        return 204, [], b""

    # -- WebSocket ------------------------------------------------------------------------------

    async def websocket(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (await receive())["type"] != "websocket.connect":
            return
        if scope["path"] != self.ws_path:
            await send({"type": "websocket.close", "code": 1008})  # before accepting: uvicorn answers 403
            self.emit(f"WS {scope['path']} 403 (the WebSocket API is on {self.ws_path})")
            return
        connection = ClientSocket(send, Request(scope, b"", port=self.port))
        self.connections[connection.connection_id] = connection
        answer = await self.invoke_ws(connection, "$connect", connection.connect_event())
        status = connect_status(answer)
        if status != 200:
            del self.connections[connection.connection_id]
            await refuse(scope, send, status)
            return
        try:
            await send({"type": "websocket.accept", "subprotocol": subprotocol(answer)})
        except Exception:  # the client left while $connect ran: the connection opened and closed
            del self.connections[connection.connection_id]
            await self.invoke_ws(connection, "$disconnect", connection.disconnect_event(1006, ""))
            return
        connection.open = True
        while True:
            message = await receive()
            if message["type"] == "websocket.receive":
                connection.last_active_at = time.time()
                data: str | bytes = message["text"] if message.get("text") is not None else message.get("bytes") or b""
                if len(data.encode() if isinstance(data, str) else data) > MAX_WS_MESSAGE_BYTES:
                    await connection.close(1009, "Message too big")
                    continue
                answer = await self.invoke_ws(connection, "$default", connection.message_event(data))
                if answer is None and connection.open:
                    # What API Gateway sends the client when the route's integration fails.
                    error = {"message": "Internal server error", "connectionId": connection.connection_id, "requestId": new_id()}
                    await connection.post(json.dumps(error).encode())
            elif message["type"] == "websocket.disconnect":
                connection.open = False
                self.connections.pop(connection.connection_id, None)
                code = message.get("code") or 1005
                await self.invoke_ws(connection, "$disconnect", connection.disconnect_event(code, message.get("reason") or ""))
                return

    async def invoke_ws(self, connection: ClientSocket, route: str, event: dict[str, Any]) -> Any:
        """The handler's answer to a WebSocket event; None when it failed."""
        started = time.perf_counter()
        try:
            answer = await self.function.invoke(event)
        except Exception as exc:
            report(f"WS {route} {connection.connection_id}: the function failed", exc)
            self.emit(f"WS {route} {connection.connection_id} 502 {elapsed_ms(started)} ms")
            return None
        status = connect_status(answer) if route == "$connect" else answer.get("statusCode", "-") if isinstance(answer, dict) else "-"
        self.emit(f"WS {route} {connection.connection_id} {status} {elapsed_ms(started)} ms")
        return answer


def connect_status(answer: Any) -> int:
    """The status API Gateway answers a WebSocket handshake with, from the $connect answer: its
    statusCode (200 opens the connection); 502 when the function failed or answered no status."""
    status = answer.get("statusCode") if isinstance(answer, dict) else None
    try:
        return int(status) if status is not None and not isinstance(status, bool) else 502
    except (TypeError, ValueError):
        return 502


async def refuse(scope: Scope, send: Send, status: int) -> None:
    """Answer the handshake with `status`, as API Gateway does when $connect does not answer 200;
    where the server cannot send an HTTP answer to a handshake, a close (uvicorn answers 403)."""
    if "websocket.http.response" not in scope.get("extensions", {}):
        await send({"type": "websocket.close", "code": 1008})
        return
    content = json.dumps({"message": "Internal server error" if status >= 500 else "Forbidden"}).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(content)).encode())]
    await send({"type": "websocket.http.response.start", "status": status, "headers": headers})
    await send({"type": "websocket.http.response.body", "body": content})


def subprotocol(answer: dict[str, Any]) -> str | None:
    """The subprotocol the $connect answer chose (its Sec-WebSocket-Protocol header)."""
    for headers in (
        answer.get("headers") or {},
        {name: values[-1] for name, values in (answer.get("multiValueHeaders") or {}).items() if values},
    ):
        for name, value in headers.items():
            if name.lower() == "sec-websocket-protocol":
                return str(value)
    return None


# Lambda's 6 MB limit is on the event, where a body may go as base64 (4 bytes for every 3).
MAX_REQUEST_BYTES = MAX_INVOKE_BYTES * 3 // 4


class BodyTooLarge(Exception):
    """More of the request body came than the limit: the rest is not read."""


async def read_body(receive: Receive, *, limit: int) -> bytes | None:
    """The whole request body; None when the client disconnected first. Raises BodyTooLarge as soon
    as more than `limit` bytes have come, so a large body never sits in memory whole."""
    chunks = []
    size = 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            return None
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            raise BodyTooLarge(size)
        chunks.append(chunk)
        if not message.get("more_body"):
            return b"".join(chunks)


def encode_headers(headers: list[tuple[str, str]], body: bytes, method: str) -> list[tuple[bytes, bytes]]:
    """Response headers for uvicorn; Content-Length is the body's (API Gateway recomputes it), except
    for HEAD, whose answer keeps the length the app declared."""
    encoded = [(name.lower().encode("latin-1"), value.encode("latin-1")) for name, value in headers if name.lower() not in HOP_BY_HOP]
    if method == "HEAD":
        encoded += [(b"content-length", value.encode("latin-1")) for name, value in headers if name.lower() == "content-length"][:1]
    else:
        encoded.append((b"content-length", str(len(body)).encode()))
    return encoded


def json_answer(status: int, payload: Any) -> tuple[int, list[tuple[str, str]], bytes]:
    return status, [("content-type", "application/json")], json.dumps(payload).encode()


def payload_too_large() -> tuple[int, list[tuple[str, str]], bytes]:
    status, headers, content = json_answer(413, {"message": "Request Entity Too Large"})
    return status, headers + [("x-amzn-ErrorType", "PayloadTooLargeException")], content


def gone() -> tuple[int, list[tuple[str, str]], bytes]:
    status, headers, content = json_answer(410, {"message": None})
    return status, headers + [("x-amzn-ErrorType", "GoneException")], content


def elapsed_ms(started: float) -> str:
    return f"{(time.perf_counter() - started) * 1000:.1f}"


def report(what: str, exc: BaseException) -> None:
    """A failure on stderr: the function's own trace for a runtime error, else the traceback."""
    what = printable(what)
    if isinstance(exc, (FunctionError, MalformedResponse)):
        sys.stderr.write(f"{what}: {exc}\n")
    else:
        sys.stderr.write(f"{what}:\n" + "".join(traceback.format_exception(exc)))
    sys.stderr.flush()
