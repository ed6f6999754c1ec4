"""A loopback stand-in for the API Gateway Management API: records every call, answers 410
GoneException for connections marked gone and 500 for those marked failing, can answer after a
delay like the real one, and can answer the next calls with given statuses (429, 5xx, ...) before
answering as usual."""

from __future__ import annotations

import json
import threading
import time
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import unquote

# The error types API Gateway names in x-amzn-ErrorType for a scripted answer's status.
ERROR_TYPES = {
    400: "BadRequestException",
    403: "ForbiddenException",
    429: "LimitExceededException",
    500: "InternalServerErrorException",
    503: "ServiceUnavailableException",
}


class Call:
    __slots__ = ("method", "connection_id", "body", "headers")

    def __init__(self, method: str, connection_id: str, body: bytes, headers: dict[str, str]) -> None:
        self.method, self.connection_id, self.body, self.headers = method, connection_id, body, headers

    def __repr__(self) -> str:
        return f"Call({self.method} {self.connection_id} {self.body[:40]!r})"


class ManagementAPIStub:
    def __init__(self, *, stage: str = "prod", delay: float = 0.0) -> None:
        self.stage = stage
        self.delay = delay
        self.calls: list[Call] = []
        self.gone: set[str] = set()
        self.failing: set[str] = set()  # connections whose posts get 500, every time
        # The answers to the next calls, in order, each (status, extra headers); then the usual ones.
        self.answers: list[tuple[int, dict[str, str]]] = []
        self.lock = threading.Lock()
        stub = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"  # keep-alive, as API Gateway
            disable_nagle_algorithm = True  # small responses written in pieces would each wait for an ACK

            def log_message(self, *args: Any) -> None:
                pass

            def handle_call(self) -> None:
                prefix = f"/{stub.stage}/%40connections/"
                body = self.rfile.read(int(self.headers.get("content-length", "0")))
                if not self.path.startswith(prefix):
                    return self.answer(404, b'{"message":"Not Found"}')
                connection_id = unquote(self.path[len(prefix) :])
                with stub.lock:
                    stub.calls.append(Call(self.command, connection_id, body, {k.lower(): v for k, v in self.headers.items()}))
                    scripted = stub.answers.pop(0) if stub.answers else None
                if scripted is not None:
                    status, headers = scripted
                    message = json.dumps({"message": HTTPStatus(status).phrase}).encode()
                    return self.answer(status, message, error_type=ERROR_TYPES.get(status), headers=headers)
                if stub.delay:
                    time.sleep(stub.delay)
                if connection_id in stub.gone:
                    return self.answer(410, b'{"message":null}', error_type="GoneException")
                if connection_id in stub.failing:
                    return self.answer(500, b'{"message":"Internal server error"}', error_type="InternalServerErrorException")
                self.answer(200, b"")

            def answer(self, status: int, body: bytes, error_type: str | None = None, headers: dict[str, str] | None = None) -> None:
                self.send_response(status)
                if error_type:
                    self.send_header("x-amzn-ErrorType", error_type)
                for name, value in (headers or {}).items():
                    self.send_header(name, value)
                self.send_header("content-length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            do_POST = do_DELETE = do_GET = handle_call

        class Server(ThreadingHTTPServer):
            request_queue_size = 256  # socketserver's 5 would drop a broadcast's burst of connects

        self.server = Server(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, args=(0.05,), daemon=True)
        self.thread.start()

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/{self.stage}"

    def posts(self) -> list[tuple[str, bytes]]:
        return [(call.connection_id, call.body) for call in self.calls if call.method == "POST"]

    def deletes(self) -> list[str]:
        return [call.connection_id for call in self.calls if call.method == "DELETE"]

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
