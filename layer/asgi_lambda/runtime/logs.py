"""Logging set up as the managed Python runtime sets it up: the request id on every line,
`AWS_LAMBDA_LOG_FORMAT=JSON` and `AWS_LAMBDA_LOG_LEVEL`, the platform's framed log descriptor when
Lambda provides one, and error results logged as the runtime logs them.
https://docs.aws.amazon.com/lambda/latest/dg/python-logging.html
"""

from __future__ import annotations

import json
import logging
import os
import sys
import time
import traceback
from contextvars import ContextVar

TYPE_CHECKING = False  # typing is not imported on a plain handler's path (api.py says why)
if TYPE_CHECKING:
    from typing import IO, Any

TEXT_LOG_FORMAT = "[%(levelname)s]\t%(asctime)s.%(msecs)03dZ\t%(aws_request_id)s\t%(message)s\n"
TIME_FORMAT = "%Y-%m-%dT%H:%M:%S"
NO_BREAK_SPACE = "\u00a0"  # leading spaces of error lines, so that the console keeps the indentation


class StandardSink:
    """Log records on stdout, where Lambda reads them line by line."""

    def write(self, message: str, *, frame_type: int | None) -> None:
        sys.stdout.write(message)


class FramedSink:
    """The platform's log descriptor (_LAMBDA_TELEMETRY_LOG_FD): each record one frame (type, length,
    microseconds, text; big-endian), so a multi-line record stays one log event."""

    def __init__(self, fd: int) -> None:
        self.file: IO[bytes] = os.fdopen(fd, "wb", 0)

    def write(self, message: str, *, frame_type: int | None) -> None:
        data = message.encode("utf-8")
        header = (frame_type or TEXT_FRAME).to_bytes(4, "big") + len(data).to_bytes(4, "big")
        self.file.write(header + (time.time_ns() // 1000).to_bytes(8, "big") + data)


TEXT_FRAME = 0xA55A0003


def frame_type(levelno: int, *, json_format: bool) -> int:
    """0xA55A0002 for JSON and 0xA55A0003 for text, plus 4 for each level step from DEBUG up."""
    step = min(max(levelno, 0), 50) // 10
    return 0xA55A0002 + (4 * step + 4 if step else 0) + (0 if json_format else 1)


class SinkHandler(logging.Handler):
    def __init__(self, sink: StandardSink | FramedSink, *, json_format: bool) -> None:
        super().__init__()
        self.sink = sink
        self.json_format = json_format

    def emit(self, record: logging.LogRecord) -> None:
        try:
            message = self.format(record)
        except Exception:
            self.handleError(record)
            return
        self.sink.write(message, frame_type=frame_type(record.levelno, json_format=self.json_format))


# The (request id, tenant id) of the invocation a task serves, when invocations are served at once:
# each task has its own (invocation.begin). Unset, the latest invocation's, as awslambdaric has them.
CURRENT: ContextVar[tuple[str, str | None] | None] = ContextVar("asgi_lambda_invocation", default=None)


class RequestId(logging.Filter):
    """Puts the current invocation's request id (and tenant) on every record."""

    request_id = ""
    tenant_id: str | None = None

    def filter(self, record: logging.LogRecord) -> bool:
        current = CURRENT.get()
        if current is None:
            record.aws_request_id, record.tenant_id = RequestId.request_id, RequestId.tenant_id
        else:
            record.aws_request_id, record.tenant_id = current
        return True


# A record's attributes that are not extra fields of a JSON line: awslambdaric's list (its
# _RESERVED_FIELDS), so the same extras appear, `taskName` included (Python 3.12 on, in a task).
RECORD_FIELDS = frozenset(
    (
        *("name", "msg", "args", "levelname", "levelno", "pathname", "filename", "module", "exc_info", "exc_text"),
        *("stack_info", "lineno", "funcName", "created", "msecs", "relativeCreated", "thread", "threadName"),
        *("processName", "process", "aws_request_id", "tenant_id", "_frame_type"),
    )
)


class JsonFormatter(logging.Formatter):
    """AWS_LAMBDA_LOG_FORMAT=JSON: one JSON object a record, with the fields Lambda's JSON logs have."""

    def __init__(self) -> None:
        super().__init__(datefmt=f"{TIME_FORMAT}Z")

    def format(self, record: logging.LogRecord) -> str:
        record.levelno = min(max(record.levelno, 0), 50) // 10 * 10
        record.levelname = logging.getLevelName(record.levelno)
        message = record.msg if isinstance(record.msg, dict) and not record.args else record.getMessage()
        error = record.exc_info if record.exc_info and record.exc_info[0] is not None else None
        # The keys in awslambdaric's order (its JsonFormatter), those that are None left out below.
        shaped: dict[str, Any] = {
            "timestamp": self.formatTime(record, self.datefmt),
            "level": record.levelname,
            "message": message,
            "logger": record.name,
            "stackTrace": traceback.format_tb(error[2]) if error else None,
            "errorType": error[0].__name__ if error and error[0] else None,
            "errorMessage": str(error[1]) if error else None,
            "requestId": getattr(record, "aws_request_id", None),
            "location": f"{record.pathname}:{record.funcName}:{record.lineno}" if error else None,
        }
        if getattr(record, "tenant_id", None) is not None:
            shaped["tenantId"] = record.tenant_id  # type: ignore[attr-defined]
        shaped.update((key, value) for key, value in vars(record).items() if key not in RECORD_FIELDS and key not in shaped)
        return json.dumps({key: value for key, value in shaped.items() if value is not None}, ensure_ascii=False, default=str) + "\n"


class Unbuffered:
    """stdout and stderr flushed at every write, so that print() reaches the log before the response."""

    def __init__(self, stream: IO[str]) -> None:
        self.stream = stream

    def __getattr__(self, name: str) -> Any:
        return getattr(self.stream, name)

    def write(self, text: str) -> int:
        written = self.stream.write(text)
        self.stream.flush()
        return written

    def writelines(self, lines: Any) -> None:
        self.stream.writelines(lines)
        self.stream.flush()


class Logs:
    """Logging set up as the managed runtime sets it up, from AWS_LAMBDA_LOG_FORMAT and AWS_LAMBDA_LOG_LEVEL."""

    def __init__(self, environ: dict[str, str] | os._Environ[str]) -> None:
        sys.stdout = Unbuffered(sys.stdout)
        sys.stderr = Unbuffered(sys.stderr)
        fd = environ.pop("_LAMBDA_TELEMETRY_LOG_FD", None)  # the platform's; not passed on to child processes
        self.sink: StandardSink | FramedSink = FramedSink(int(fd)) if fd else StandardSink()
        self.json_format = environ.get("AWS_LAMBDA_LOG_FORMAT", "").upper() == "JSON"
        level = environ.get("AWS_LAMBDA_LOG_LEVEL", "").upper()
        level = "DEBUG" if level == "TRACE" else level
        logging.Formatter.converter = time.gmtime
        handler = SinkHandler(self.sink, json_format=self.json_format)
        handler.setFormatter(JsonFormatter() if self.json_format else logging.Formatter(TEXT_LOG_FORMAT, TIME_FORMAT))
        handler.addFilter(RequestId())
        root = logging.getLogger()
        if level and isinstance(logging.getLevelName(level), int):
            root.setLevel(level)
        root.addHandler(handler)

    def error(self, result: dict[str, Any]) -> None:
        """An invocation's or the init's error result, logged as the managed runtime logs it."""
        if self.json_format:
            timestamp = time.strftime(f"{TIME_FORMAT}Z", time.gmtime())
            lines = [json.dumps({"timestamp": timestamp, "level": "ERROR", **result})]
        else:
            heading = " ".join(
                part for part in ("[ERROR]", f"{result['errorType']}:" if result["errorType"] else "", result["errorMessage"]) if part
            )
            lines = [heading, "Traceback (most recent call last):"]
            for entry in result["stackTrace"]:
                lines.extend(indented(line) for line in entry.splitlines())
        if isinstance(self.sink, FramedSink):
            self.sink.write("\n".join(lines), frame_type=frame_type(logging.ERROR, json_format=self.json_format))
        else:
            self.sink.write("\r".join(lines) + "\n", frame_type=None)


def indented(line: str) -> str:
    stripped = line.lstrip(" ")
    return NO_BREAK_SPACE * (len(line) - len(stripped)) + stripped
