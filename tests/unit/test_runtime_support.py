"""runtime_support.py: what the layer's Runtime API client gives a function as the managed runtime does
(awslambdaric's LambdaContext, log framing and error results, https://github.com/aws/aws-lambda-python-runtime-interface-client).
The client itself is tested end to end in tests/integration/runtime/test_streaming.py."""

from __future__ import annotations

import json
import logging
import os
import sys

import pytest

from asgi_lambda import ConfigError
from asgi_lambda.runtime.api import RuntimeFault, error_result
from asgi_lambda.runtime.client import CLIENT_VARIABLES, client_options
from asgi_lambda.runtime.context import LambdaContext
from asgi_lambda.runtime.handler import load_handler
from asgi_lambda.runtime.logs import FramedSink, JsonFormatter, frame_type
from asgi_lambda.settings.options import BY_VARIABLE, read


@pytest.mark.parametrize(
    ("level", "json_format", "expected"),
    [
        (logging.DEBUG, True, 0xA55A000A),
        (logging.INFO, False, 0xA55A000F),
        (logging.WARNING, True, 0xA55A0012),
        (logging.ERROR, False, 0xA55A0017),
        (logging.CRITICAL, True, 0xA55A001A),
        (logging.NOTSET, False, 0xA55A0003),
    ],
)
def test_frame_types_are_the_platforms(level: int, json_format: bool, expected: int) -> None:
    assert frame_type(level, json_format=json_format) == expected


def test_a_framed_record_is_type_length_microseconds_then_the_text() -> None:
    read, write = os.pipe()
    sink = FramedSink(write)
    sink.write("two\nlines", frame_type=0xA55A0017)
    sink.file.close()
    with os.fdopen(read, "rb") as pipe:
        frame = pipe.read()

    assert (frame[:4], int.from_bytes(frame[4:8], "big"), frame[16:]) == (bytes.fromhex("a55a0017"), 9, b"two\nlines")


def test_json_log_records_carry_lambdas_fields() -> None:
    try:
        raise KeyError("missing")
    except KeyError:
        record = logging.LogRecord("app", logging.ERROR, "/task/main.py", 7, "failed %s", ("here",), sys.exc_info())
    record.aws_request_id = "request-1"
    record.order = 42  # an `extra` field

    line = json.loads(JsonFormatter().format(record))

    assert {key: line[key] for key in ("level", "message", "logger", "requestId", "errorType", "errorMessage", "order")} == {
        "level": "ERROR",
        "message": "failed here",
        "logger": "app",
        "requestId": "request-1",
        "errorType": "KeyError",
        "errorMessage": "'missing'",
        "order": 42,
    }
    assert line["timestamp"].endswith("Z") and line["location"].startswith("/task/main.py:")


@pytest.mark.parametrize(
    ("name", "error_type", "message"),
    [
        ("handler", "Runtime.MalformedHandlerName", "Bad handler 'handler': not enough values to unpack (expected 2, got 1)"),
        ("sys.handler", "Runtime.BuiltInModuleConflict", "Cannot use built-in module sys as a handler module"),
        (
            "no_such_module_here.handler",
            "Runtime.ImportModuleError",
            "Unable to import module 'no_such_module_here': No module named 'no_such_module_here'",
        ),
        ("json.no_such_handler", "Runtime.HandlerNotFound", "Handler 'no_such_handler' missing on module 'json'"),
    ],
)
def test_handler_faults_are_worded_as_the_managed_runtime_words_them(name: str, error_type: str, message: str) -> None:
    with pytest.raises(RuntimeFault) as caught:
        load_handler(name)

    assert (caught.value.error_type, caught.value.message) == (error_type, message)


def test_the_context_reads_the_invocations_headers() -> None:
    headers = {
        "lambda-runtime-aws-request-id": "request-1",
        "lambda-runtime-invoked-function-arn": "arn:aws:lambda:us-east-1:123456789012:function:f",
        "lambda-runtime-deadline-ms": "0",
        "lambda-runtime-client-context": json.dumps(
            {"custom": {"a": 1}, "env": {"b": 2}, "client": {"app_title": "t"}, "w3c": {"traceparent": "00-x", "other": "dropped"}}
        ),
        "lambda-runtime-cognito-identity": json.dumps({"cognitoIdentityId": "id", "cognitoIdentityPoolId": "pool"}),
    }
    context = LambdaContext(headers, {"AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "128", "AWS_LAMBDA_FUNCTION_NAME": "f"})

    assert (context.aws_request_id, context.function_name, context.memory_limit_in_mb) == ("request-1", "f", "128")
    assert context.get_remaining_time_in_millis() == 0
    assert context.client_context is not None and (context.client_context.custom, context.client_context.client.app_title) == (
        {"a": 1},
        "t",
    )  # type: ignore[attr-defined]
    assert (context.identity.cognito_identity_id, context.identity.cognito_identity_pool_id) == ("id", "pool")  # type: ignore[attr-defined]
    assert context.w3c() == {"traceparent": "00-x"}


def test_a_bad_client_context_is_the_runtimes_unmarshal_error() -> None:
    with pytest.raises(RuntimeFault) as caught:
        LambdaContext({"lambda-runtime-client-context": "{not json"}, {})

    assert caught.value.error_type == "Runtime.LambdaContextUnmarshalError"
    assert caught.value.message.startswith("Unable to parse Client Context JSON: ")


def test_error_results_have_the_runtimes_shape() -> None:
    try:
        raise ValueError("bad value")
    except ValueError as exc:
        result = error_result(exc, "request-1")

    assert (result["errorMessage"], result["errorType"], result["requestId"]) == ("bad value", "ValueError", "request-1")
    assert 'raise ValueError("bad value")' in "".join(result["stackTrace"])


@pytest.mark.parametrize("environ", [{}, {"ASGI_INVOKE_MODE": "", "ASGI_RUNTIME": " ", "AWS_LAMBDA_MAX_CONCURRENCY": "\t"}])
def test_the_clients_variables_unset_or_blank_are_their_declared_defaults(environ: dict[str, str]) -> None:
    declared = (read("ASGI_INVOKE_MODE", environ), read("AWS_LAMBDA_MAX_CONCURRENCY", environ))

    assert client_options(environ) == declared == ("buffered", 1)
    assert read("ASGI_RUNTIME", environ) == "layer"  # nothing for the client to check
    assert set(CLIENT_VARIABLES) <= set(BY_VARIABLE)


def test_the_clients_variables_when_set_are_read_through_their_options() -> None:
    environ = {"ASGI_INVOKE_MODE": " Response_Stream ", "AWS_LAMBDA_MAX_CONCURRENCY": "16"}

    assert client_options(environ) == ("response_stream", 16)


@pytest.mark.parametrize(
    ("environ", "message"),
    [
        ({"ASGI_RUNTIME": "lambda"}, "ASGI_RUNTIME='lambda': expected layer (the layer's own Runtime API client, the default) or managed"),
        (
            {"AWS_LAMBDA_MAX_CONCURRENCY": "0"},
            "AWS_LAMBDA_MAX_CONCURRENCY='0': expected a whole number of invocations above 0, such as 16.",
        ),
        ({"ASGI_INVOKE_MODE": "stream", "ASGI_RUNTIME": "lambda"}, "ASGI_INVOKE_MODE='stream': expected buffered or response_stream"),
    ],
)
def test_a_bad_client_variable_is_a_config_error_naming_it(environ: dict[str, str], message: str) -> None:
    with pytest.raises(ConfigError) as caught:
        client_options(environ)

    assert str(caught.value).startswith(message)
