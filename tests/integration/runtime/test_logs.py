"""Logs a person can search, through the built layer and the real awslambdaric (tests/support/runtime/harness.py).

The layer writes only through `logging` (loggers under `asgi_lambda`, which propagate to the root
logger), never to stdout or stderr itself. awslambdaric puts its handler on the root logger before
it imports the handler, so every record, the init's included, goes out in the function's format:
with AWS_LAMBDA_LOG_FORMAT=JSON one JSON object a line with `requestId` (its JsonFormatter, fed by
its LambdaLoggerFilter); in the default text format `[LEVEL]\\ttime\\trequest id\\tmessage`.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from tests.support.events import load_event
from tests.support.runtime.harness import FunctionProcess
from tests.support.runtime.layer import function

APP = """
    import json

    async def app(scope, receive, send):
        if scope["type"] == "lifespan":
            while True:
                message = await receive()
                if message["type"] == "lifespan.startup":
                    await send({"type": "lifespan.startup.complete"})
                else:
                    await send({"type": "lifespan.shutdown.complete"})
                    return
        await receive()
        if scope["path"] == "/raise":
            raise RuntimeError("the app failed")
        if scope["path"] == "/large":
            body = b"x" * (7 * 1024 * 1024)  # over Lambda's 6 MB
        elif scope["path"] == "/trace":
            body = json.dumps(scope["aws.trace_id"]).encode()
        else:
            body = b"ok"
        await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"text/plain")]})
        await send({"type": "http.response.body", "body": body})
"""

# What Lambda sets for a function whose log format is JSON, its application log level left at INFO.
JSON_LOGS = {"AWS_LAMBDA_LOG_FORMAT": "JSON", "AWS_LAMBDA_LOG_LEVEL": "INFO"}


def request(path: str) -> dict[str, Any]:
    """An HTTP API request for `path`."""
    event = load_event("http_api_v2_get")
    event["rawPath"] = event["requestContext"]["http"]["path"] = path
    event["rawQueryString"] = ""
    return event


def invoke(fn: FunctionProcess, event: Any) -> str:
    """Run one invocation; its request id."""
    invocation = fn.invoke(event)
    return invocation.request_id


def json_lines(fn: FunctionProcess) -> list[dict[str, Any]]:
    """Every line the function wrote to stdout, each parsed as the one JSON object it must be."""
    lines = []
    for line in fn.stdout().splitlines():
        try:
            parsed = json.loads(line)
        except ValueError:
            raise AssertionError(f"not a JSON line: {line!r}\n{fn.logs()}") from None
        assert isinstance(parsed, dict), line
        lines.append(parsed)
    return lines


def shown(line: dict[str, Any]) -> tuple[str, str, str]:
    """(logger, level, message) of a JSON line, the message's duration replaced by "<ms>"."""
    return line.get("logger", ""), line["level"], re.sub(r" \d+\.\dms ", " <ms> ", str(line.get("message", "")))


@pytest.mark.parametrize("invoke_mode", ["buffered", "response_stream"])
def test_under_json_every_line_the_layer_writes_is_a_json_object_with_the_request_id(
    tmp_path: Path, layer_zip: Path, invoke_mode: str
) -> None:
    env = {**JSON_LOGS, "ASGI_ACCESS_LOG": "1", "ASGI_INVOKE_MODE": invoke_mode}
    with function(tmp_path, layer_zip, source=APP, env=env) as fn:
        ok = invoke(fn, request("/ok"))
        raised = invoke(fn, request("/raise"))
        large = invoke(fn, request("/large"))
        unknown = invoke(fn, {"hello": "world"})
        lines = json_lines(fn)
        assert fn.stderr() == ""

    for line in lines:
        assert {"timestamp", "level", "requestId"} <= set(line), line
    by_request: dict[str, list[dict[str, Any]]] = {}
    for line in lines:
        by_request.setdefault(line["requestId"], []).append(line)
    # The init's lines, before any invocation, carry an empty request id (the warnings about the
    # harness's own ASGI_TEST_* knobs are init lines too, and JSON like the rest).
    init = [shown(line) for line in by_request.pop("") if "ASGI_TEST_" not in line["message"]]
    assert init == [
        ("asgi_lambda.lifespan", "INFO", "Application startup complete."),
        ("asgi_lambda.bootstrap", "INFO", "Serving main:app (lifespan auto)."),
    ]
    assert [shown(line) for line in by_request[ok]] == [("asgi_lambda.access", "INFO", f"GET /ok 200 <ms> {ok}")]
    assert [shown(line) for line in by_request[raised]] == [
        ("asgi_lambda.http", "ERROR", "Exception in ASGI application"),
        ("asgi_lambda.access", "INFO", f"GET /raise 500 <ms> {raised}"),
    ]
    error = by_request[raised][0]
    assert (error["errorType"], error["errorMessage"]) == ("RuntimeError", "the app failed")
    assert any("raise RuntimeError" in frame for frame in error["stackTrace"])
    assert [shown(line) for line in by_request[large]] == [
        (
            "asgi_lambda.adapter",
            "ERROR",
            "The response to GET /large is 7340132 bytes, over the 6291456-byte limit of API Gateway HTTP API (payload 2.0) and "
            "Lambda Function URL; answering 500 instead. Send large bodies another way (compression, a presigned S3 URL, pagination).",
        ),
        ("asgi_lambda.access", "INFO", f"GET /large 500 <ms> {large}"),
    ]
    # The access line's fields are keys of their own, for CloudWatch Logs Insights to filter on.
    access = by_request[raised][1]
    assert {key: access[key] for key in ("method", "path", "status")} == {"method": "GET", "path": "/raise", "status": 500}
    assert isinstance(access["durationMs"], float)
    # An event the layer refuses: the runtime reports the layer's exception, as JSON with the request id.
    [refused] = by_request[unknown]
    assert (refused["level"], refused["errorType"]) == ("ERROR", "UnknownEventError")
    assert set(by_request) == {ok, raised, large, unknown}


def test_a_streamed_responses_error_is_a_json_line_with_the_request_id(tmp_path: Path, layer_zip: Path) -> None:
    event = load_event("function_url_get")
    event["rawPath"] = event["requestContext"]["http"]["path"] = "/raise"
    with function(tmp_path, layer_zip, source=APP, env={**JSON_LOGS, "ASGI_INVOKE_MODE": "response_stream"}) as fn:
        raised = invoke(fn, event)
        lines = json_lines(fn)
        assert fn.stderr() == ""

    logged, reported = [line for line in lines if line["requestId"] == raised]
    assert shown(logged) == ("asgi_lambda.http", "ERROR", "Exception in ASGI application")
    # The stream had not begun, so the invocation fails, and the client reports it as the runtime would.
    assert (reported["level"], reported["errorType"], reported["errorMessage"]) == ("ERROR", "RuntimeError", "the app failed")


def test_in_the_default_text_format_each_line_carries_the_request_id(tmp_path: Path, layer_zip: Path) -> None:
    # No AWS_LAMBDA_LOG_FORMAT and no AWS_LAMBDA_LOG_LEVEL: the root logger stays at WARNING, and
    # the access log's INFO lines still show, since turning it on sets its logger's level.
    with function(tmp_path, layer_zip, source=APP, env={"ASGI_ACCESS_LOG": "1"}) as fn:
        raised = invoke(fn, request("/raise"))
        stdout = fn.stdout()

    timestamp = r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z"
    # Records, not lines: a record's traceback follows its heading, and awslambdaric's text format
    # ends such a record without a newline. On Lambda each record is one frame of the telemetry log
    # descriptor, so one log event; here (stdout) the next record starts right after it.
    error = rf"\[ERROR\]\t{timestamp}\t{raised}\tException in ASGI application\nTraceback \(most recent call last\):\n"
    traceback = r"(?:  .*\n)+RuntimeError: the app failed"
    access = rf"\[INFO\]\t{timestamp}\t{raised}\tGET /raise 500 \d+\.\dms {raised}\n"
    assert re.search(error + traceback + access, stdout), stdout


def test_the_access_log_is_silent_unless_turned_on(tmp_path: Path, layer_zip: Path) -> None:
    with function(tmp_path, layer_zip, source=APP, env=JSON_LOGS) as fn:
        ok = invoke(fn, request("/ok"))
        lines = json_lines(fn)

    assert [line for line in lines if line["requestId"] == ok] == []


def test_the_scope_carries_the_root_of_the_trace_header_the_runtime_got(tmp_path: Path, layer_zip: Path) -> None:
    header = "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1"
    with function(tmp_path, layer_zip, source=APP) as fn:
        request_id = fn.api.submit(request("/trace"), function_arn=fn.function_arn, trace_id=header)
        invocation = fn.api.result(request_id, timeout=30)

    assert invocation is not None and invocation.ok, fn.logs()
    assert json.loads(invocation.payload["body"]) == "1-5759e988-bd862e3fe1be46a994272793"
