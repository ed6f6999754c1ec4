"""The Runtime API: the connection to it, its paths and headers, and the errors it takes.

A leaf: nothing here knows the invocation loop (client.py) or streaming (stream.py), which use it,
as awslambdaric's `lambda_runtime_client.py` sits under its `bootstrap.py`.
https://docs.aws.amazon.com/lambda/latest/dg/runtimes-api.html
"""

from __future__ import annotations

import json
import logging
import os
import socket
import traceback
from typing import Any

logger = logging.getLogger("asgi_lambda.runtime")

PREFIX = "/2018-06-01/runtime"
ERROR_TYPE = "Lambda-Runtime-Function-Error-Type"
# asgi_lambda's own frames, dropped from the front of a trace
PACKAGE = os.path.dirname(os.path.dirname(os.path.abspath(__file__))) + os.sep


class RuntimeClientError(RuntimeError):
    """The Runtime API refused a request the client cannot do without (the next invocation)."""


class RuntimeFault(Exception):
    """A failure the managed runtime reports with one of its own error types."""

    def __init__(self, error_type: str, message: str, trace: list[str] | None = None) -> None:
        super().__init__(message)
        self.error_type = error_type
        self.message = message
        self.trace = trace or []


class RuntimeConnection:
    """HTTP/1.1 to the Runtime API on one kept-alive socket, blocking: the loop has nothing to do while
    the function waits for its next event, and a blocking wait lets SIGTERM's handler run at once."""

    def __init__(self, address: str) -> None:
        self.address = address
        host, _, port = address.rpartition(":")
        self.host, self.port = host.strip("[]"), int(port)
        self.sock: socket.socket | None = None
        self.file: Any = None

    def request(self, method: str, path: str, body: bytes = b"", headers: str = "") -> tuple[int, dict[str, str], bytes]:
        head = f"{method} {path} HTTP/1.1\r\nHost: {self.address}\r\nContent-Length: {len(body)}\r\n{headers}\r\n".encode()
        for attempt in (1, 2):
            reused = self.sock is not None
            if self.sock is None:
                self.sock = socket.create_connection((self.host, self.port))
                self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                self.file = self.sock.makefile("rb")
            try:
                if len(body) < 65536:
                    self.sock.sendall(head + body)  # one write
                else:
                    self.sock.sendall(head)
                    self.sock.sendall(body)
                return self.response()
            except (ConnectionError, EOFError):
                self.close()
                if not reused or attempt == 2:  # a kept-alive socket the API closed meanwhile: once more
                    raise
        raise AssertionError("unreachable")

    def response(self) -> tuple[int, dict[str, str], bytes]:
        status_line = self.file.readline(65537)
        if not status_line:
            raise EOFError("the Runtime API closed the connection")
        version, status, _ = status_line.decode("latin-1").split(" ", 2)
        headers: dict[str, str] = {}
        while (line := self.file.readline(65537)) not in (b"\r\n", b"\n", b""):
            name, _, value = line.decode("latin-1").partition(":")
            headers[name.strip().lower()] = value.strip()
        if "content-length" in headers:
            body = self.file.read(int(headers["content-length"]))
        else:
            body = self.file.read()  # delimited by the close
            headers["connection"] = "close"
        if version == "HTTP/1.0" or headers.get("connection", "").lower() == "close":
            self.close()
        return int(status), headers, body

    def close(self) -> None:
        if self.sock is not None:
            self.file.close()
            self.sock.close()
            self.sock = self.file = None

    def next(self) -> tuple[dict[str, str], bytes]:
        status, headers, body = self.request("GET", f"{PREFIX}/invocation/next")
        if status != 200:
            raise RuntimeClientError(f"GET {PREFIX}/invocation/next answered {status}: {body[:200]!r}")
        return headers, body

    def post(self, path: str, body: bytes, headers: str) -> None:
        status, _, answer = self.request("POST", f"{PREFIX}/{path}", body, headers)
        if status != 202:
            logger.error("POST %s/%s answered %d: %s", PREFIX, path, status, answer[:500].decode("utf-8", "replace"))

    def error(self, path: str, result: dict[str, Any], *, error_type: str | None = None) -> None:
        headers = f"Content-Type: application/json\r\n{ERROR_TYPE}: {error_type or result['errorType']}\r\n"
        self.post(path, json.dumps(result).encode(), headers)


def error_result(error: BaseException, request_id: str | None = None) -> dict[str, Any]:
    """The error as the Runtime API takes it; the traceback starts at the user's code."""
    if isinstance(error, RuntimeFault):
        error_type, message, trace = error.error_type, error.message, error.trace
    else:
        frames = traceback.extract_tb(error.__traceback__)
        first = next((index for index, frame in enumerate(frames) if not frame.filename.startswith(PACKAGE)), 0)
        error_type, message, trace = type(error).__name__, str(error), traceback.format_list(frames[first:])
    return {"errorMessage": message, "errorType": error_type, "requestId": request_id or "", "stackTrace": trace}
