"""What the layer's Runtime API client (`runtime_client.py`) gives a function besides the protocol,
shaped as the managed Python runtime gives it, so code moves between the two unchanged:

* the import path the managed bootstrap sets up, and the handler named by `module.attribute`, with
  the managed runtime's error types (`Runtime.ImportModuleError`, `Runtime.HandlerNotFound`, ...);
* the context object (every attribute of the runtime's `LambdaContext`);
* logging: the request id on every line, `AWS_LAMBDA_LOG_FORMAT=JSON` and `AWS_LAMBDA_LOG_LEVEL`,
  the platform's framed log descriptor when Lambda provides one;
* error results (`errorMessage`, `errorType`, `requestId`, `stackTrace`) and how they are logged.

https://docs.aws.amazon.com/lambda/latest/dg/python-context.html
https://docs.aws.amazon.com/lambda/latest/dg/python-logging.html
"""

from __future__ import annotations

import importlib
import json
import logging
import os
import sys
import time
import traceback
from collections.abc import Callable, Mapping
from typing import IO, Any

TEXT_LOG_FORMAT = "[%(levelname)s]\t%(asctime)s.%(msecs)03dZ\t%(aws_request_id)s\t%(message)s\n"
TIME_FORMAT = "%Y-%m-%dT%H:%M:%S"
NO_BREAK_SPACE = "\u00a0"  # leading spaces of error lines, so that the console keeps the indentation
PACKAGE = os.path.dirname(os.path.abspath(__file__)) + os.sep  # asgi_lambda's own frames, dropped from the front of a trace


# --- the import path and the handler --------------------------------------------------------------


def set_import_path(opt: str, environ: Mapping[str, str]) -> None:
    """What the managed bootstrap does before importing the handler: the task root first, then (only
    while PYTHONPATH is unset) the layers' site-packages and /opt/python, then the runtime's own
    site-packages. `opt` is where the layers are unpacked (the wrapper's directory)."""
    import site

    version = f"{sys.version_info.major}.{sys.version_info.minor}"
    layers = [f"{opt}/python/lib/python{version}/site-packages", f"{opt}/python"]
    # Where the managed bootstrap.py runs from (/var/runtime: awslambdaric, and boto3 up to Python 3.11).
    runtime_dir = environ.get("LAMBDA_RUNTIME_DIR")
    if runtime_dir:
        sys.path.insert(0, runtime_dir)
    if "PYTHONPATH" not in environ:
        for directory in [*layers, runtime_site_packages()][::-1]:
            sys.path.insert(0, directory)
    task_root = environ.get("LAMBDA_TASK_ROOT") or os.getcwd()
    sys.path.insert(0, task_root)
    site.addsitedir(task_root)  # .pth files in the task root count, as in the managed runtime
    if "PYTHONPATH" not in environ:
        for directory in layers:
            site.addsitedir(directory)


def runtime_site_packages() -> str:
    """The interpreter's own site-packages (/var/lang/lib/python3.X/site-packages on Lambda). Without
    the site module (-S), a virtual environment's prefix is not applied: it is found from pyvenv.cfg."""
    import sysconfig

    prefix = sys.prefix
    environment = os.path.dirname(os.path.dirname(os.path.abspath(sys.executable)))
    if sys.flags.no_site and os.path.isfile(os.path.join(environment, "pyvenv.cfg")):
        prefix = environment
    return sysconfig.get_paths(vars={"base": prefix, "platbase": prefix})["purelib"]


class RuntimeFault(Exception):
    """A failure the managed runtime reports with one of its own error types."""

    def __init__(self, error_type: str, message: str, trace: list[str] | None = None) -> None:
        super().__init__(message)
        self.error_type = error_type
        self.message = message
        self.trace = trace or []


def load_handler(name: str) -> Callable[..., Any]:
    """The handler that `module.attribute` names (the module path may use "/"), or a RuntimeFault
    worded as the managed runtime words it. Other exceptions raised by the module propagate."""
    module_name, dot, attribute = name.rpartition(".")
    if not dot:
        got = 1 if name else 0
        raise RuntimeFault("Runtime.MalformedHandlerName", f"Bad handler '{name}': not enough values to unpack (expected 2, got {got})")
    if module_name.split(".")[0] in sys.builtin_module_names:
        raise RuntimeFault("Runtime.BuiltInModuleConflict", f"Cannot use built-in module {module_name} as a handler module")
    try:
        module = importlib.import_module(module_name.replace("/", "."))
    except ImportError as exc:  # AppImportError included: ASGI_APP's module is missing
        raise RuntimeFault("Runtime.ImportModuleError", f"Unable to import module '{module_name}': {exc}") from exc
    except SyntaxError as exc:
        trace = [f'  File "{exc.filename}" Line {exc.lineno}\n    {exc.text}']
        raise RuntimeFault("Runtime.UserCodeSyntaxError", f"Syntax error in module '{module_name}': {exc}", trace) from exc
    try:
        handler: Callable[..., Any] = getattr(module, attribute)
    except AttributeError:
        raise RuntimeFault("Runtime.HandlerNotFound", f"Handler '{attribute}' missing on module '{module_name}'") from None
    return handler


# --- the context object --------------------------------------------------------------------------


class Slots:
    """Fields from a dict (missing ones None), as the runtime's ClientContext and friends."""

    __slots__: tuple[str, ...] = ()

    def __init__(self, values: Mapping[str, Any]) -> None:
        for field in self.__slots__:
            setattr(self, field, values.get(field))

    def __repr__(self) -> str:
        return f"{type(self).__name__}([{','.join(f'{field}={getattr(self, field)}' for field in self.__slots__)}])"


class CognitoIdentity(Slots):
    __slots__ = ("cognito_identity_id", "cognito_identity_pool_id")


class Client(Slots):
    __slots__ = ("installation_id", "app_title", "app_version_name", "app_version_code", "app_package_name")


class ClientContext(Slots):
    __slots__ = ("custom", "env", "client")


W3C_FIELDS = ("traceparent", "tracestate", "baggage")


class LambdaContext:
    """The context of one invocation, with the attributes and methods of the managed runtime's."""

    def __init__(self, headers: Mapping[str, str], environ: Mapping[str, str] = os.environ) -> None:
        self.aws_request_id = headers.get("lambda-runtime-aws-request-id", "")
        self.log_group_name = environ.get("AWS_LAMBDA_LOG_GROUP_NAME")
        self.log_stream_name = environ.get("AWS_LAMBDA_LOG_STREAM_NAME")
        self.function_name = environ.get("AWS_LAMBDA_FUNCTION_NAME")
        self.memory_limit_in_mb = environ.get("AWS_LAMBDA_FUNCTION_MEMORY_SIZE")  # a string, as the runtime's is
        self.function_version = environ.get("AWS_LAMBDA_FUNCTION_VERSION")
        self.invoked_function_arn = headers.get("lambda-runtime-invoked-function-arn")
        self.tenant_id = headers.get("lambda-runtime-aws-tenant-id")
        self._deadline_ms = int(headers.get("lambda-runtime-deadline-ms") or 0)
        client_context = json_header(headers, "lambda-runtime-client-context", "Client Context")
        w3c = client_context.pop("w3c", None) if isinstance(client_context, dict) else None
        self._w3c = {key: value for key, value in (w3c or {}).items() if key in W3C_FIELDS and isinstance(value, str)}
        self.client_context: ClientContext | None = None
        if isinstance(client_context, dict):
            self.client_context = ClientContext(client_context)
            client = self.client_context.client  # type: ignore[attr-defined]
            self.client_context.client = Client(client) if isinstance(client, dict) else None  # type: ignore[attr-defined]
        identity = json_header(headers, "lambda-runtime-cognito-identity", "Cognito Identity") or {}
        self.identity = CognitoIdentity(
            {"cognito_identity_id": identity.get("cognitoIdentityId"), "cognito_identity_pool_id": identity.get("cognitoIdentityPoolId")}
        )

    def get_remaining_time_in_millis(self) -> int:
        return max(self._deadline_ms - int(time.time() * 1000), 0)

    def w3c(self) -> dict[str, str]:
        """The W3C trace context the caller sent (traceparent, tracestate, baggage)."""
        return dict(self._w3c)

    def log(self, message: object) -> None:
        for handler in logging.getLogger().handlers:
            if isinstance(handler, SinkHandler):
                handler.sink.write(str(message), frame_type=None)
                return
        sys.stdout.write(str(message))

    def __repr__(self) -> str:
        fields = ("aws_request_id", "log_group_name", "log_stream_name", "function_name", "memory_limit_in_mb", "function_version")
        shown = [
            f"{field}={getattr(self, field)}" for field in (*fields, "invoked_function_arn", "client_context", "identity", "tenant_id")
        ]
        return f"LambdaContext([{','.join(shown)}])"


def json_header(headers: Mapping[str, str], name: str, label: str) -> Any:
    text = headers.get(name)
    if not text:
        return None
    try:
        return json.loads(text)
    except ValueError as exc:
        raise RuntimeFault("Runtime.LambdaContextUnmarshalError", f"Unable to parse {label} JSON: {exc}") from None


# --- logging -------------------------------------------------------------------------------------


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


class RequestId(logging.Filter):
    """Puts the current invocation's request id (and tenant) on every record."""

    request_id = ""
    tenant_id: str | None = None

    def filter(self, record: logging.LogRecord) -> bool:
        record.aws_request_id = RequestId.request_id
        record.tenant_id = RequestId.tenant_id
        return True


RECORD_FIELDS = frozenset(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {"message", "asctime", "aws_request_id", "tenant_id"}


class JsonFormatter(logging.Formatter):
    """AWS_LAMBDA_LOG_FORMAT=JSON: one JSON object a record, with the fields Lambda's JSON logs have."""

    def __init__(self) -> None:
        super().__init__(datefmt=f"{TIME_FORMAT}Z")

    def format(self, record: logging.LogRecord) -> str:
        record.levelno = min(max(record.levelno, 0), 50) // 10 * 10
        record.levelname = logging.getLevelName(record.levelno)
        message = record.msg if isinstance(record.msg, dict) and not record.args else record.getMessage()
        shaped: dict[str, Any] = {
            "timestamp": self.formatTime(record, self.datefmt),
            "level": record.levelname,
            "message": message,
            "logger": record.name,
            "requestId": getattr(record, "aws_request_id", None),
        }
        if record.exc_info and record.exc_info[0] is not None:
            shaped["stackTrace"] = traceback.format_tb(record.exc_info[2])
            shaped["errorType"] = record.exc_info[0].__name__
            shaped["errorMessage"] = str(record.exc_info[1])
            shaped["location"] = f"{record.pathname}:{record.funcName}:{record.lineno}"
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


def error_result(error: BaseException, request_id: str | None = None) -> dict[str, Any]:
    """The error as the Runtime API takes it; the traceback starts at the user's code."""
    if isinstance(error, RuntimeFault):
        error_type, message, trace = error.error_type, error.message, error.trace
    else:
        frames = traceback.extract_tb(error.__traceback__)
        first = next((index for index, frame in enumerate(frames) if not frame.filename.startswith(PACKAGE)), 0)
        error_type, message, trace = type(error).__name__, str(error), traceback.format_list(frames[first:])
    return {"errorMessage": message, "errorType": error_type, "requestId": request_id or "", "stackTrace": trace}
