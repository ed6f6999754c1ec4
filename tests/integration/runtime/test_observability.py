"""The layer beside the observability layers users attach, each run the way Lambda runs it: the built
layer unpacked as /opt, the launcher stand-in, the real awslambdaric (tests/support/runtime/harness.py).

- OpenTelemetry: AWS Distro for OpenTelemetry (ADOT) ships /opt/otel-instrument, an exec wrapper taking
  the same AWS_LAMBDA_EXEC_WRAPPER as ours. ADOT's layer is a zip, not a PyPI package, so its two files
  have stand-ins here (observability/otel_layer: the wrapper and otel_wrapper.py, doing what ADOT's do),
  around the real OpenTelemetry distribution from PyPI: opentelemetry-instrument, the SDK, the
  aws-lambda, FastAPI/ASGI and botocore instrumentations. Spans go to the console exporter (the
  function's stdout), read back here.
- Datadog: datadog-lambda's handler wraps ours (DD_LAMBDA_HANDLER), flushing metrics and traces to
  the log, with no API key and no extension; an audit hook records any network call the process makes.
- Powertools: Logger and Tracer used inside a FastAPI app served by the layer; Tracer's subsegments go to
  a loopback socket standing for the X-Ray daemon.
"""

from __future__ import annotations

import json
import re
import shutil
import socket
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.support.aws import aws_client, create_table, fake_aws_environment, moto_url
from tests.support.events import load_event
from tests.support.management_api import ManagementAPIStub
from tests.support.paths import RUNTIME_STAND_IN
from tests.support.runtime.harness import FunctionProcess
from tests.support.runtime.layer import DECOY, RUNTIME_CLIENTS, unpack

HERE = Path(__file__).resolve().parent / "observability"
ASGI_HANDLER = "asgi_lambda.bootstrap.handler"

# The console exporter, and nothing else: nothing is sent anywhere (ADOT's default is OTLP to its
# collector extension on localhost).
OTEL_CONSOLE = {"OTEL_TRACES_EXPORTER": "console", "OTEL_METRICS_EXPORTER": "none", "OTEL_LOGS_EXPORTER": "none"}


def lambda_function(
    tmp_path: Path,
    layer_zip: Path,
    app: str,
    handler: str,
    env: dict[str, str],
    *,
    otel_layer: bool = False,
    task_files: dict[str, str] | None = None,
) -> FunctionProcess:
    """The function, started: main.py is observability/apps/<app> (task_files: more files beside it),
    /opt holds our layer (and ADOT's stand-in)."""
    task_root, opt = tmp_path / "task", tmp_path / "opt"
    task_root.mkdir()
    unpack(layer_zip, opt)
    if otel_layer:  # Lambda unpacks every layer into the same /opt
        shutil.copytree(HERE / "otel_layer", opt, dirs_exist_ok=True)
    shutil.copy(HERE / "apps" / f"{app}.py", task_root / "main.py")
    for name, text in (task_files or {}).items():
        (task_root / name).write_text(text)
    return FunctionProcess(task_root, opt, handler, env={"ASGI_APP": "main:app", **env})


def chained_to_otel(opt: Path) -> dict[str, str]:
    """Our wrapper first, then ADOT's through ASGI_NEXT_WRAPPER."""
    return {"AWS_LAMBDA_EXEC_WRAPPER": str(opt / "asgi-bootstrap"), "ASGI_NEXT_WRAPPER": str(opt / "otel-instrument"), **OTEL_CONSOLE}


def answer(fn: FunctionProcess, event: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    """(request id, Lambda response) of one invocation, which must succeed."""
    invocation = fn.invoke(event, timeout=60)
    assert invocation.ok, f"{invocation.payload}\n{fn.logs()}"
    response: dict[str, Any] = invocation.payload
    return invocation.request_id, response


def wait_for(fn: FunctionProcess, found: Callable[[str], Any], timeout: float = 10) -> Any:
    """What found(stdout) returns once it is truthy: a flush may land just after the response."""
    deadline = time.monotonic() + timeout
    while not (result := found(fn.stdout())) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert result, fn.logs()
    return result


def spans(stdout: str) -> list[dict[str, Any]]:
    """The spans the console exporter wrote: one indented JSON object each, among other log lines."""
    decoder = json.JSONDecoder()
    return [decoder.raw_decode(stdout, match.start())[0] for match in re.finditer(r'^\{\n\s+"name": ', stdout, re.MULTILINE)]


def spans_through(fn: FunctionProcess, request_id: str) -> list[dict[str, Any]]:
    """Every span written so far, once the invocation's own (which ends last) is among them."""

    def found(stdout: str) -> list[dict[str, Any]] | None:
        written = spans(stdout)
        return written if any(span["attributes"].get("faas.invocation_id") == request_id for span in written) else None

    result: list[dict[str, Any]] = wait_for(fn, found)
    return result


def invocation_span(all_spans: list[dict[str, Any]], request_id: str) -> dict[str, Any]:
    """The aws-lambda instrumentation's server span of one invocation."""
    (span,) = [span for span in all_spans if span["attributes"].get("faas.invocation_id") == request_id]
    return span


def children(all_spans: list[dict[str, Any]], parent: dict[str, Any]) -> list[dict[str, Any]]:
    return [
        span
        for span in all_spans
        if span["parent_id"] == parent["context"]["span_id"] and span["context"]["trace_id"] == parent["context"]["trace_id"]
    ]


# -- ASGI_NEXT_WRAPPER ---------------------------------------------------------------------------------------

LAYER_CLIENT_COMMAND = 'import sys; sys.path.insert(0, sys.argv[2] + "/python"); from asgi_lambda.runtime_client import main; main()'

RECORDING_WRAPPER = """\
#!/bin/sh
# Another layer's exec wrapper: writes what it was given, then starts the runtime as wrappers do.
{{
    printf '%s\\n' "$@"
    echo "_HANDLER=$_HANDLER"
    echo "ASGI_ORIGINAL_HANDLER=$ASGI_ORIGINAL_HANDLER"
    echo "ASGI_NEXT_WRAPPER=${{ASGI_NEXT_WRAPPER-unset}}"
}} > {record}
exec "$@"
"""


@pytest.mark.parametrize("client", list(RUNTIME_CLIENTS))
def test_asgi_next_wrapper_is_run_with_the_runtimes_command_and_our_handler(tmp_path: Path, layer_zip: Path, client: str) -> None:
    opt = tmp_path / "opt"
    opt.mkdir()
    record = tmp_path / "next-wrapper-saw"
    (opt / "next-wrapper").write_text(RECORDING_WRAPPER.format(record=record))
    (opt / "next-wrapper").chmod(0o755)
    env = {
        "AWS_LAMBDA_EXEC_WRAPPER": str(opt / "asgi-bootstrap"),
        "ASGI_NEXT_WRAPPER": str(opt / "next-wrapper"),
        **RUNTIME_CLIENTS[client],
    }
    with lambda_function(tmp_path, layer_zip, "plain_app", DECOY, env) as fn:
        _, response = answer(fn, load_event("http_api_v2_get"))

    assert (response["statusCode"], json.loads(response["body"])) == (200, {"item_id": 42})
    # The command the launcher gave our wrapper (tests/support/runtime/bootstrap): unchanged for the managed
    # runtime's client; the layer's client in its place, on the same interpreter with the same flags, otherwise.
    if client == "managed":
        command = [str(RUNTIME_STAND_IN / "bootstrap.py")]
    else:
        command = ["-c", LAYER_CLIENT_COMMAND, "--layer", str(opt)]
    assert record.read_text().splitlines() == [
        fn.python,
        "-S",
        *command,
        f"_HANDLER={ASGI_HANDLER}",
        f"ASGI_ORIGINAL_HANDLER={DECOY}",
        "ASGI_NEXT_WRAPPER=unset",
    ]


@pytest.mark.parametrize(
    ("make", "exit_code", "fault"),
    [
        (
            lambda path: None,
            127,
            "no such file. Set it to the exec wrapper of a layer this function has (such as /opt/otel-instrument), or unset it.",
        ),
        (
            lambda path: path.write_text('#!/bin/sh\nexec "$@"\n'),
            126,
            "not executable. Make it executable (chmod 755 before zipping the layer), or unset ASGI_NEXT_WRAPPER.",
        ),
    ],
    ids=["missing", "not-executable"],
)
def test_a_next_wrapper_that_cannot_run_fails_the_start_naming_asgi_next_wrapper(
    tmp_path: Path, layer_zip: Path, make: Callable[[Path], object], exit_code: int, fault: str
) -> None:
    next_wrapper = tmp_path / "opt" / "otel-instrument"
    next_wrapper.parent.mkdir()
    make(next_wrapper)
    env = {"AWS_LAMBDA_EXEC_WRAPPER": str(tmp_path / "opt" / "asgi-bootstrap"), "ASGI_NEXT_WRAPPER": str(next_wrapper)}
    with lambda_function(tmp_path, layer_zip, "plain_app", DECOY, env) as fn:
        assert fn.wait(timeout=20) == exit_code
        assert not fn.wait_ready(timeout=0.1)

    assert fn.stderr().splitlines() == [f"ASGI_NEXT_WRAPPER='{next_wrapper}': {fault}"]


# -- OpenTelemetry -------------------------------------------------------------------------------------------


def assert_traced_request(fn: FunctionProcess, request_id: str, response: dict[str, Any]) -> None:
    """One HTTP API request: the invocation's server span, and the app's span inside it."""
    assert (response["statusCode"], json.loads(response["body"])) == (200, {"item_id": 42})
    all_spans = spans_through(fn, request_id)
    server = invocation_span(all_spans, request_id)
    assert (server["name"], server["kind"], server["parent_id"]) == ("test-function", "SpanKind.SERVER", None)
    assert {key: server["attributes"][key] for key in ("faas.trigger", "http.method", "http.route", "http.status_code")} == {
        "faas.trigger": "http",
        "http.method": "GET",
        "http.route": "/items/42",  # what the instrumentation takes from an HTTP API event: its path
        "http.status_code": 200,
    }
    # The app's own span (FastAPI's instrumentation, inside the invocation's span) has the route as routed.
    (app_span,) = [span for span in children(all_spans, server) if span["name"] == "GET /items/{item_id}"]
    assert (app_span["attributes"]["http.route"], app_span["attributes"]["http.status_code"]) == ("/items/{item_id}", 200)
    # ADOT's resource attributes reached the SDK.
    assert {key: server["resource"]["attributes"][key] for key in ("service.name", "cloud.provider", "faas.name")} == {
        "service.name": "test-function",
        "cloud.provider": "aws",
        "faas.name": "test-function",
    }


def test_opentelemetry_through_asgi_next_wrapper_gives_a_server_span_with_route_status_and_request_id(
    tmp_path: Path, layer_zip: Path
) -> None:
    with lambda_function(tmp_path, layer_zip, "otel_app", DECOY, chained_to_otel(tmp_path / "opt"), otel_layer=True) as fn:
        request_id, response = answer(fn, load_event("http_api_v2_get"))
        assert_traced_request(fn, request_id, response)


def test_otel_instrument_as_the_exec_wrapper_serves_our_handler_set_as_the_functions_handler(tmp_path: Path, layer_zip: Path) -> None:
    # The reverse order: ADOT's wrapper runs no other wrapper, so the function's Handler names ours.
    env = {"AWS_LAMBDA_EXEC_WRAPPER": str(tmp_path / "opt" / "otel-instrument"), **OTEL_CONSOLE}
    with lambda_function(tmp_path, layer_zip, "otel_app", ASGI_HANDLER, env, otel_layer=True) as fn:
        request_id, response = answer(fn, load_event("http_api_v2_get"))
        assert_traced_request(fn, request_id, response)


def test_with_adots_wrapper_pythonpath_brings_back_the_layers_site_packages(tmp_path: Path, layer_zip: Path) -> None:
    # ADOT's wrapper sets PYTHONPATH, so the runtime no longer adds /opt/python/lib/python3.X/site-packages
    # itself; naming it in PYTHONPATH (which the wrapper keeps) brings it back.
    site_packages = tmp_path / "opt" / "python" / "lib" / f"python{sys.version_info.major}.{sys.version_info.minor}" / "site-packages"
    env = {**chained_to_otel(tmp_path / "opt"), "OTEL_TRACES_EXPORTER": "none", "PYTHONPATH": str(site_packages)}
    (site_packages / "other_layer_dependency").mkdir(parents=True)  # another layer's, or ours built --with
    (site_packages / "other_layer_dependency" / "__init__.py").write_text("NAME = 'from the layer'\n")
    with lambda_function(tmp_path, layer_zip, "dependency_app", DECOY, env, otel_layer=True) as fn:
        _, response = answer(fn, load_event("http_api_v2_get"))

    assert (response["statusCode"], response["body"]) == (200, "from the layer")


@pytest.fixture
def dynamodb_table(
    request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[str, str]]:
    """(moto's endpoint, a new connections table): the moto server on 127.0.0.1, over HTTP."""
    fake_aws_environment(monkeypatch, tmp_path_factory)
    endpoint = moto_url(request)
    table = create_table(endpoint)
    yield endpoint, table
    aws_client("dynamodb", endpoint).delete_table(TableName=table)


def test_a_dynamodb_store_call_is_a_child_span_of_the_invocations_span(
    tmp_path: Path, layer_zip: Path, dynamodb_table: tuple[str, str]
) -> None:
    endpoint, table = dynamodb_table
    stub = ManagementAPIStub()
    env = {
        **chained_to_otel(tmp_path / "opt"),
        "WS_BACKEND": "dynamodb",
        "WS_DYNAMODB_TABLE": table,
        "WS_ENDPOINT_URL": stub.endpoint,
        "AWS_ENDPOINT_URL_DYNAMODB": endpoint,  # boto3 reaches the moto server, and nothing else
        "AWS_CONFIG_FILE": str(tmp_path / "no-aws-config"),
        "AWS_SHARED_CREDENTIALS_FILE": str(tmp_path / "no-aws-config"),
        "AWS_EC2_METADATA_DISABLED": "true",
    }
    try:
        with lambda_function(tmp_path, layer_zip, "otel_app", DECOY, env, otel_layer=True) as fn:
            connect_id, connect = answer(fn, load_event("ws_connect"))
            message_id, message = answer(fn, load_event("ws_message"))
            all_spans = spans_through(fn, message_id)
    finally:
        stub.close()

    assert (connect, message) == ({"statusCode": 200}, {"statusCode": 200})
    assert stub.posts() == [("L0SM9cOFvHcCIhw=", b"echo: hello, world")]
    # $connect stored the connection, the message loaded it: each a botocore span inside its invocation's.
    for request_id, operation in ((connect_id, "PutItem"), (message_id, "GetItem")):
        calls = [span for span in children(all_spans, invocation_span(all_spans, request_id)) if span["kind"] == "SpanKind.CLIENT"]
        assert [(span["name"], span["attributes"]["rpc.service"], span["attributes"]["aws.dynamodb.table_names"]) for span in calls] == [
            (f"DynamoDB.{operation}", "DynamoDB", [table])
        ]


# -- Datadog -------------------------------------------------------------------------------------------------


def test_datadog_handler_wraps_ours_and_flushes_to_the_log_without_the_network(tmp_path: Path, layer_zip: Path) -> None:
    audit = tmp_path / "network-calls"
    env = {
        "DD_LAMBDA_HANDLER": ASGI_HANDLER,  # what Datadog's handler wraps: ours
        "DD_FLUSH_TO_LOG": "true",  # metrics as log lines; traces too, since no extension runs
        "DD_TRACE_ENABLED": "true",
        "AUDIT_NETWORK_LOG": str(audit),
    }
    task_files = {"audit_network.py": (HERE / "apps" / "audit_network.py").read_text(), "audit_network.pth": "import audit_network\n"}
    with lambda_function(tmp_path, layer_zip, "plain_app", "datadog_lambda.handler.handler", env, task_files=task_files) as fn:
        request_id, response = answer(fn, load_event("http_api_v2_get"))
        lines = wait_for(fn, lambda out: [json.loads(line) for line in out.splitlines() if line.startswith('{"traces"')])
        metrics = [json.loads(line) for line in fn.stdout().splitlines() if line.startswith('{"m":')]

    assert (response["statusCode"], json.loads(response["body"])) == (200, {"item_id": 42})
    # Datadog's wrapper ran: its enhanced invocation metric, with the cold start tagged...
    (invocations,) = [metric for metric in metrics if metric["m"] == "aws.lambda.enhanced.invocations"]
    assert {"functionname:test-function", "cold_start:true"} <= set(invocations["t"])
    # ...and its trace: the invocation's aws.lambda span, and ddtrace's FastAPI span inside it.
    request_spans = [
        span for line in lines for trace in line["traces"] for span in trace if span["name"] in ("aws.lambda", "fastapi.request")
    ]
    lambda_span, fastapi_span = sorted(request_spans, key=lambda span: span["name"])
    assert (lambda_span["meta"]["request_id"], lambda_span["meta"]["http.status_code"]) == (request_id, "200")
    assert (fastapi_span["parent_id"], fastapi_span["meta"]["http.route"]) == (lambda_span["span_id"], "/items/{item_id}")
    # No connection, lookup or datagram left the process (the audit hook saw its sockets made).
    calls = audit.read_text().splitlines()
    assert any(call.startswith("socket.__new__") for call in calls)
    assert [
        call for call in calls if call.split()[0] in ("socket.connect", "socket.sendto", "socket.getaddrinfo", "socket.gethostbyname")
    ] == []


# -- Powertools ----------------------------------------------------------------------------------------------


def test_powertools_logger_lines_carry_the_lambda_context_and_tracer_subsegments_reach_the_xray_daemon(
    tmp_path: Path, layer_zip: Path
) -> None:
    daemon = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)  # the X-Ray daemon's address, on loopback
    daemon.bind(("127.0.0.1", 0))
    daemon.settimeout(10)
    env = {
        "AWS_LAMBDA_EXEC_WRAPPER": str(tmp_path / "opt" / "asgi-bootstrap"),
        "POWERTOOLS_SERVICE_NAME": "shop",
        "AWS_XRAY_DAEMON_ADDRESS": f"127.0.0.1:{daemon.getsockname()[1]}",
    }
    root, parent = f"1-{int(time.time()):08x}-{uuid.uuid4().hex[:24]}", uuid.uuid4().hex[:16]
    try:
        with lambda_function(tmp_path, layer_zip, "powertools_app", DECOY, env) as fn:
            # The first invocation is sampled (active tracing), the second is not.
            sampled = fn.api.submit(
                load_event("http_api_v2_get"), function_arn=fn.function_arn, trace_id=f"Root={root};Parent={parent};Sampled=1"
            )
            first = fn.api.result(sampled, timeout=60)
            second_id, second = answer(fn, load_event("http_api_v2_get"))
            logged = wait_for(
                fn, lambda out: len(found := [json.loads(line) for line in out.splitlines() if '"item read"' in line]) == 2 and found
            )
        header, document = daemon.recv(65536).decode().split("\n")
        daemon.setblocking(False)
        with pytest.raises(BlockingIOError):  # one subsegment, from the sampled invocation only
            daemon.recv(65536)
    finally:
        daemon.close()

    assert first is not None and first.ok, fn.logs()
    assert [json.loads(response["body"]) for response in (first.payload, second)] == [{"item_id": 42}] * 2
    for line, request_id, cold_start in zip(logged, (sampled, second_id), (True, False), strict=True):
        assert {key: line[key] for key in ("message", "service", "function_request_id", "function_name", "cold_start", "item_id")} == {
            "message": "item read",
            "service": "shop",
            "function_request_id": request_id,
            "function_name": "test-function",
            "cold_start": cold_start,
            "item_id": 42,
        }
        assert line["function_arn"] == fn.function_arn
    assert logged[0]["xray_trace_id"] == root
    # Tracer's subsegment for the route, in the invocation's trace, under the segment Lambda made for it.
    subsegment = json.loads(document)
    assert json.loads(header) == {"format": "json", "version": 1}
    assert {key: subsegment[key] for key in ("type", "name", "trace_id", "parent_id", "annotations")} == {
        "type": "subsegment",
        "name": "## main.item",
        "trace_id": root,
        "parent_id": parent,
        "annotations": {"item_id": 42},
    }
