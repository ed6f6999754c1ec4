"""The Runtime API: the connection to it, its paths and headers, and the errors it takes.

A leaf: nothing here knows the invocation loop (client.py) or streaming (stream.py), which use it,
as awslambdaric's `lambda_runtime_client.py` sits under its `bootstrap.py`.
https://docs.aws.amazon.com/lambda/latest/dg/runtimes-api.html
"""

from __future__ import annotations

import _socket
import json
import os
import sys
import time
import traceback

TYPE_CHECKING = False  # typing is not imported on a plain handler's path: it costs more than this module
if TYPE_CHECKING:
    from typing import Any

PREFIX = "/2018-06-01/runtime"
ERROR_TYPE = "Lambda-Runtime-Function-Error-Type"
# asgi_lambda's own frames, dropped from the front of a trace
PACKAGE = os.path.dirname(os.path.dirname(os.path.abspath(__file__))) + os.sep
CLIENT = os.path.dirname(os.path.abspath(__file__)) + os.sep  # this client's own


class RuntimeClientError(RuntimeError):
    """The Runtime API refused a request, or could not be reached: the process ends (as awslambdaric's
    does), after `report` (when there is one) is written where awslambdaric's C client writes it."""

    def __init__(self, message: str, report: str | None = None) -> None:
        super().__init__(message)
        self.report = report

    def write_report(self) -> None:
        """The line awslambdaric's C client writes to stdout for the failure (none for some)."""
        if self.report is not None:
            sys.stdout.write(f"[ERROR] [{time.time_ns() // 1_000_000}] LAMBDA_RUNTIME {self.report}\n")


class RuntimeFault(Exception):
    """A failure the managed runtime reports with one of its own error types."""

    def __init__(self, error_type: str, message: str, trace: list[str] | None = None) -> None:
        super().__init__(message)
        self.error_type = error_type
        self.message = message
        self.trace = trace or []


class RuntimeConnection:
    """HTTP/1.1 to the Runtime API on one kept-alive socket, blocking: the loop has nothing to do while
    the function waits for its next event, and a blocking wait lets SIGTERM's handler run at once.

    AWS_LAMBDA_RUNTIME_API is an IP address and a port (127.0.0.1:9001): that address is connected to
    as it is, with the C socket module, without socket.py (its enums cost more to import than this
    whole client) or a name lookup; a host name is looked up as socket.create_connection does."""

    def __init__(self, address: str) -> None:
        self.address = address
        host, _, port = address.rpartition(":")
        self.host, self.port = host.strip("[]"), int(port)
        self.sock: _socket.socket | None = None
        self.buffer = bytearray()  # received, not yet parsed: what follows the last answer

    def connect(self) -> _socket.socket:
        for family in (_socket.AF_INET, _socket.AF_INET6):
            try:
                _socket.inet_pton(family, self.host)
            except OSError:
                continue
            sock = _socket.socket(family, _socket.SOCK_STREAM)
            try:
                sock.connect((self.host, self.port))
            except BaseException:
                sock.close()
                raise
            break
        else:
            import socket  # a host name: looked up

            sock = socket.create_connection((self.host, self.port))
        sock.setsockopt(_socket.IPPROTO_TCP, _socket.TCP_NODELAY, 1)
        return sock

    def request(self, method: str, path: str, body: bytes = b"", headers: str = "") -> tuple[int, dict[str, str], bytes]:
        head = f"{method} {path} HTTP/1.1\r\nHost: {self.address}\r\n{USER_AGENT}Content-Length: {len(body)}\r\n{headers}\r\n".encode()
        for attempt in (1, 2):
            reused = self.sock is not None
            if self.sock is None:
                self.sock = self.connect()
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
        lines = self.head()
        if not lines:
            raise EOFError("the Runtime API closed the connection")
        version, status, _ = lines[0].decode("latin-1").split(" ", 2)
        headers: dict[str, str] = {}
        for line in lines[1:]:
            name, _, value = line.decode("latin-1").partition(":")
            headers[name.strip().lower()] = value.strip()
        if "content-length" in headers:
            body = self.read(int(headers["content-length"]))
        else:
            body = self.read(None)  # delimited by the close
            headers["connection"] = "close"
        if version == "HTTP/1.0" or headers.get("connection", "").lower() == "close":
            self.close()
        return int(status), headers, body

    def head(self) -> list[bytes]:
        """The status line and the header lines, up to the empty line (lines may end in LF alone); none
        if the stream ends first."""
        assert self.sock is not None
        buffer, start, lines = self.buffer, 0, []
        while True:
            end = buffer.find(b"\n", start)
            if end < 0:
                if len(buffer) > HEAD_LIMIT:
                    raise EOFError(f"the Runtime API's answer has a head over {HEAD_LIMIT} bytes")
                data = self.sock.recv(RECEIVE_SIZE)
                if not data:
                    self.buffer = bytearray()
                    return []
                buffer += data
                continue
            line = buffer[start:end].rstrip(b"\r")
            start = end + 1
            if not line:
                break
            lines.append(bytes(line))
        self.buffer = buffer[start:]
        return lines

    def read(self, size: int | None) -> bytes:
        """The body: `size` bytes (fewer if the stream ends first), or with None all until the end of
        the stream. A large body is received straight into its place."""
        assert self.sock is not None
        buffer, self.buffer = self.buffer, bytearray()
        if size is None:
            while data := self.sock.recv(RECEIVE_SIZE):
                buffer += data
            return bytes(buffer)
        if len(buffer) >= size:
            self.buffer = buffer[size:]
            return bytes(buffer[:size])
        have = len(buffer)
        body = bytearray(size)
        body[:have] = buffer
        view = memoryview(body)
        while have < size and (received := self.sock.recv_into(view[have:])):
            have += received
        view.release()
        del body[have:]
        return bytes(body)

    def close(self) -> None:
        if self.sock is not None:
            self.sock.close()
            self.sock = None
        self.buffer = bytearray()

    def next(self) -> tuple[dict[str, str], bytes]:
        try:
            status, headers, body = self.request("GET", f"{PREFIX}/invocation/next")
        except (OSError, EOFError) as exc:
            raise RuntimeClientError("Failed to get next", "Failed to get next invocation. No Response from endpoint") from exc
        if status != 200:
            raise RuntimeClientError("Failed to get next", f"Failed to get next invocation. Http Response code: {status}")
        return headers, body

    def post(self, path: str, body: bytes, headers: str) -> None:
        """POST an answer; a refusal, or no Runtime API, raises RuntimeClientError, worded as awslambdaric words it."""
        what = "error" if path.endswith("/error") else "response"
        try:
            status, _, answer = self.request("POST", f"{PREFIX}/{path}", body, headers)
        except (OSError, EOFError) as exc:
            raise RuntimeClientError(f"Failed to post invocation {what}") from exc
        if status != 202:
            reply = answer.decode("utf-8", "replace")
            if not path.startswith("invocation/"):  # init and restore errors: awslambdaric's http.client call
                raise RuntimeClientError(
                    f"Request to Lambda Runtime '{PREFIX}/{path}' endpoint failed. Reason: '{status}'. Response body: '{answer!r}'"
                )
            # Its C client words a refused error as a refused response, too.
            report = f"Failed to post handler success response. Http response code: {status}. {reply}"
            raise RuntimeClientError(f"Failed to post invocation {what}", report)

    def error(self, path: str, result: dict[str, Any], **headers: Any) -> None:
        """POST an error result, with the headers `error_headers` makes."""
        self.post(path, dumps(result).encode(), error_headers(path, result, **headers))


def error_headers(path: str, result: dict[str, Any], *, error_type: str | None = None, cause: str | None = None, headers: str = "") -> str:
    """The headers of an error's POST, as awslambdaric sends them: an invocation's error as JSON with
    the X-Ray cause (`xray_cause`) and no error type (its C client sends none); an init or restore
    error with the error type (`error_type`, else the result's) and no Content-Type. `headers`: more
    header lines."""
    if path.startswith("invocation/"):
        headers = f"Content-Type: application/json\r\n{headers}"
    else:
        headers = f"{ERROR_TYPE}: {error_type or result['errorType']}\r\n{headers}"
    if cause is not None and len(cause.encode()) < XRAY_CAUSE_LIMIT:
        headers += f"{XRAY_CAUSE}: {cause}\r\n"
    return headers


RECEIVE_SIZE = 65536
HEAD_LIMIT = 1024 * 1024  # a status line and headers longer than this are not an answer of the Runtime API
XRAY_CAUSE = "Lambda-Runtime-Function-XRay-Error-Cause"
XRAY_CAUSE_LIMIT = 1024 * 1024  # awslambdaric leaves a larger cause out
USER_AGENT = f"User-Agent: asgi-lambda-python/{sys.version.split()[0]}-{getattr(sys.modules.get('asgi_lambda'), '__version__', '')}\r\n"
# Python 3.12 and later runtimes: awslambdaric writes JSON as UTF-8 there, with \uXXXX escapes before.
ASCII_JSON = os.environ.get("AWS_EXECUTION_ENV", "") not in {f"AWS_Lambda_python3.{minor}" for minor in range(12, 16)}


# JSON as awslambdaric writes a result or an error that holds nothing but JSON's own types (its
# simplejson and the standard library's json agree on those); see invocation.marshal for the rest.
dumps = json.JSONEncoder(ensure_ascii=ASCII_JSON).encode


def error_result(error: BaseException, request_id: str | None = None) -> dict[str, Any]:
    """The error as the Runtime API takes it; the traceback starts at the user's code."""
    if isinstance(error, RuntimeFault):
        error_type, message, trace = error.error_type, error.message, error.trace
    else:
        error_type, message, trace = type(error).__name__, str(error), traceback.format_list(user_frames(error))
    return {"errorMessage": message, "errorType": error_type, "requestId": request_id or "", "stackTrace": trace}


def user_frames(error: BaseException) -> list[tuple[str, int, str, str | None]]:
    """The traceback's frames from the first outside this package (all of them if none is), as
    (file, line, function, text): formatted from tuples, as awslambdaric formats them, a line has no
    ^^^ markers under it."""
    frames = [(frame.filename, frame.lineno or 0, frame.name, frame.line) for frame in traceback.extract_tb(error.__traceback__)]
    first = next((index for index, frame in enumerate(frames) if not frame[0].startswith(PACKAGE)), None)
    if first is None:  # raised by the package itself (the adapter refusing an event): from below the client
        first = next((index for index, frame in enumerate(frames) if not frame[0].startswith(CLIENT)), 0)
    return frames[first:]


def xray_cause(error: BaseException) -> str:
    """The invocation error's cause for X-Ray (Lambda-Runtime-Function-XRay-Error-Cause), as awslambdaric makes it."""
    exception: dict[str, Any]
    if isinstance(error, RuntimeFault):
        exception = {"message": error.message, "type": "LambdaValidationError", "stack": []}
        paths: list[str] = []
    else:
        frames = user_frames(error)
        stack = [{"label": name, "path": filename, "line": line} for filename, line, name, _ in frames]
        exception = {"message": str(error), "type": type(error).__name__, "stack": stack}
        paths = list(dict.fromkeys(filename for filename, _, _, _ in frames))
    return dumps({"working_directory": os.getcwd(), "exceptions": [exception], "paths": paths})
