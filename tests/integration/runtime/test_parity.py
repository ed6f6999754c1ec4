"""Parity: the layer's own Runtime API client against the managed runtime's (awslambdaric), on the same
functions, against the same Runtime API emulator, comparing everything the emulator and the function's
output see. A plain handler runs under each client as a custom runtime would start it (the launcher's
stand-in runs awslambdaric, or `asgi_lambda.runtime_client` with ASGI_TEST_CLIENT=layer); a zero-code
function runs through the layer's exec wrapper, which starts the layer's client unless ASGI_RUNTIME=managed.

Both clients run from the same directories, one after the other, so paths in tracebacks agree; what
differs between any two runs (request ids, times) is replaced by a placeholder before comparing. Each
difference the suite found is either fixed or listed in docs/differences.md's "Differences from awslambdaric", and
pinned here where it shows (`DIFFERENCES`).
"""

from __future__ import annotations

import json
import re
import signal
import sys
import textwrap
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import pytest

from tests.support.events import load_event
from tests.support.runtime.harness import FunctionProcess
from tests.support.runtime.layer import DECOY, INIT_ERRORS, RUNTIME_CLIENTS, unpack
from tests.support.runtime.wire import PAYLOAD_LIMIT, TOO_LARGE, Tap, tap

T = TypeVar("T")
CLIENTS = ("managed", "layer")

# -- running a function under each client ----------------------------------------------------------------


@dataclass
class Seen:
    """What the emulator and the function's output saw of one run, placeholders in."""

    posts: list[tuple[str, dict[str, Any], Any]] = field(default_factory=list)  # every POST: path, headers, body
    stdout: list[Any] = field(default_factory=list)  # each line; a JSON line parsed
    extra: Any = None  # what the test's steps returned
    user_agent: set[str] = field(default_factory=set)


UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
TIMESTAMP = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{3})?Z")
MILLISECONDS = re.compile(r"^\[ERROR\] \[\d+\] LAMBDA_RUNTIME")  # awslambdaric's C client's own lines
DURATION = re.compile(r"\b\d+\.\dms\b")  # the access log's
TASK = re.compile(r"^Task-\d+$")  # asyncio's numbering of tasks (JSON logs' taskName, Python 3.12 on)
# Headers every client sends its own way, for the connection and its content negotiation: not the protocol's.
CONNECTION_HEADERS = {"host", "content-length", "accept", "accept-encoding", "connection", "transfer-encoding", "expect", "user-agent"}

# The differences the suite found that stay, each a row of docs/differences.md's "Differences from awslambdaric" (the
# words here are those of the row), and how a run under the managed runtime's client is brought to the
# layer's before comparing: nothing else is forgiven.
DIFFERENCES = {
    "user-agent": "Each client names itself in the User-Agent of its requests.",
    "hook frame": "A SnapStart hook's error: awslambdaric's trace starts with its hooks runner's frame; ours at the hook.",
    "adapter frame": "An event the adapter refuses: awslambdaric's trace starts at Adapter.__call__, ours one frame down, at Adapter.map.",
    "sigterm while idle": "Python 3.11: SIGTERM while waiting for an event runs lifespan shutdown under ours; awslambdaric's C client holds the signal.",
    "namedtuple": "A namedtuple in a plain handler's result: an array under ours (json), an object under awslambdaric (simplejson).",
}


def placeholders(text: str) -> str:
    text = DURATION.sub("<ms>", MILLISECONDS.sub("[ERROR] [<ms>] LAMBDA_RUNTIME", text))
    return TIMESTAMP.sub("<time>", UUID.sub("<request id>", text))


def shown(value: Any) -> Any:
    """`value` with request ids and times replaced, recursively; JSON text parsed."""
    if isinstance(value, bytes):
        value = value.decode("utf-8", "replace")
    if isinstance(value, str):
        if value[:1] in "{[":
            try:  # floats and NaN kept as their text, so that 1.10 and 1.1 differ and NaN equals NaN
                return shown(json.loads(value, parse_float=str, parse_constant=str))
            except ValueError:
                pass
        return placeholders(value)
    if isinstance(value, dict):
        return {
            key: "<ms>" if key == "durationMs" else TASK.sub("Task-<n>", item) if key == "taskName" else shown(item)
            for key, item in value.items()
        }
    if isinstance(value, list | tuple):
        return [shown(item) for item in value]
    return value


def runtime_frame(frame: Any) -> bool:
    """A frame of awslambdaric's own that ours has no counterpart of (DIFFERENCES: hook frame, adapter frame)."""
    if isinstance(frame, dict):  # an X-Ray cause's stack entry
        path, label = frame.get("path", ""), frame.get("label", "")
    elif isinstance(frame, str):
        path, label = frame, frame
    else:
        return False
    return (
        path.endswith("lambda_runtime_hooks_runner.py")
        or "lambda_runtime_hooks_runner.py" in path
        or ("asgi_lambda/adapter.py" in path and "__call__" in label)
    )


def without_runtime_frames(value: Any) -> Any:
    if isinstance(value, dict):
        return {key: without_runtime_frames(item) for key, item in value.items()}
    if isinstance(value, tuple):
        return tuple(without_runtime_frames(list(value)))
    if isinstance(value, list):
        kept = [without_runtime_frames(item) for item in value if not runtime_frame(item)]
        if len(kept) < len(value) and all(isinstance(item, str) for item in value):
            # text lines: a dropped frame's source line goes with it
            lines, skip = [], False
            for item in value:
                if runtime_frame(item):
                    skip = True
                    continue
                text = item.lstrip("\r")
                if skip and text.startswith(("\xa0", "    ")) and not text.lstrip("\xa0 ").startswith("File "):
                    skip = False
                    continue
                skip = False
                lines.append(item)
            return lines
        return kept
    return value


def observe(fn: FunctionProcess, wire: Tap, extra: Any) -> Seen:
    posts = []
    agents = set()
    for post in wire.posts:
        agents.add(post.headers.get("user-agent", "").split("/")[0])
        headers = {name: value for name, value in post.headers.items() if name not in CONNECTION_HEADERS}
        posts.append((placeholders(post.path), shown(headers), shown(post.body)))
    lines = []
    # Read as bytes: text mode would turn the "\r" that joins an error's lines into "\n".
    for line in (fn._log_dir / "stdout").read_bytes().decode("utf-8", "replace").split("\n"):
        # A text-format error is one line whose parts are joined by "\r" (one log event on Lambda): kept
        # as its parts, each after the first marked with its "\r".
        first, *rest = line.split("\r")
        lines += [shown(first), *(shown("\r" + part) for part in rest)]
    return Seen(posts=posts, stdout=lines, extra=shown(extra), user_agent=agents)


def start(client: str, task_root: Path, opt: Path, handler: str, env: dict[str, str], *, wrapper: bool) -> FunctionProcess:
    environment = dict(env)
    if wrapper:
        environment.update({"AWS_LAMBDA_EXEC_WRAPPER": str(opt / "asgi-bootstrap"), **RUNTIME_CLIENTS[client]})
    elif client == "layer":
        environment["ASGI_TEST_CLIENT"] = "layer"
    return FunctionProcess(task_root, opt, handler, env=environment)


def run(
    tmp_path: Path,
    layer_zip: Path,
    source: str,
    steps: Callable[[FunctionProcess, Tap], Any],
    *,
    handler: str = "main.handler",
    env: dict[str, str] | None = None,
    wrapper: bool = False,
    refuse_large: bool = False,
    files: dict[str, str] | None = None,
) -> dict[str, Seen]:
    """`steps` run against the function under each client in turn, from the same directories."""
    task_root, opt = tmp_path / "task", tmp_path / "opt"
    task_root.mkdir()
    unpack(layer_zip, opt)
    (task_root / "main.py").write_text(textwrap.dedent(source))
    for name, text in (files or {}).items():
        (task_root / name).write_text(textwrap.dedent(text))
    seen = {}
    for client in CLIENTS:
        for leftover in task_root.glob("*.flag"):
            leftover.unlink()
        with start(client, task_root, opt, handler, {**(env or {})}, wrapper=wrapper) as fn:
            wire = tap(fn.api, refuse_large=refuse_large)
            extra = steps(fn, wire)
            # Observed once the client is back waiting for an event (or gone), before the process is ended:
            # what a SIGTERM at the end does is the SIGTERM tests' business.
            deadline = time.monotonic() + 2
            while fn.returncode is None and fn.api.next_calls <= len(fn.api._results) and time.monotonic() < deadline:
                time.sleep(0.01)
            seen[client] = observe(fn, wire, extra)
            fn.terminate()
    return seen


def invocations(events: list[Any], *, raw: bool = False, **submit: Any) -> Callable[[FunctionProcess, Tap], Any]:
    """Steps: each event invoked in turn; what each answer was: (ok, error type, content type, body);
    with `raw`, the body as its text, not parsed."""

    def steps(fn: FunctionProcess, wire: Tap) -> Any:
        answers = []
        for event in events:
            request_id = fn.api.submit(event, function_arn=fn.function_arn, **submit)
            found = fn._wait(lambda slice_, request_id=request_id: fn.api.result(request_id, slice_), 30)
            assert found is not None, fn.logs()
            answers.append((found.ok, found.error_type, found.content_type, f"raw: {found.body.decode()}" if raw else found.body))
        return answers

    return steps


def same(seen: dict[str, Seen]) -> Seen:
    """The one thing both clients saw, once the documented differences are set aside (assert it is one)."""
    managed, layer = seen["managed"], seen["layer"]
    # DIFFERENCES["user-agent"]: awslambdaric's init and restore errors go by http.client, with none.
    assert managed.user_agent <= {"aws-lambda-python", ""} and layer.user_agent <= {"asgi-lambda-python"}
    managed = Seen(
        posts=without_runtime_frames(managed.posts),
        stdout=without_runtime_frames(managed.stdout),
        extra=without_runtime_frames(managed.extra),
    )
    assert layer.posts == managed.posts
    assert layer.extra == managed.extra
    assert layer.stdout == managed.stdout
    return layer


# -- plain handlers --------------------------------------------------------------------------------------

HANDLERS = """
    import decimal, json, logging, os, sys, time

    log = logging.getLogger("app")

    VALUES = {
        "dict": {"a": [1, 2.5, None, True, False], "nested": {"b": "c"}},
        "list": [1, "two", 3.0],
        "string": "plain",
        "none": None,
        "integer": 42,
        "float": 0.1,
        "nan": float("nan"),
        "infinity": float("inf"),
        "decimal": {"price": decimal.Decimal("1.10"), "big": decimal.Decimal("12345678901234567890.123"), "nan": decimal.Decimal("NaN")},
        "unicode": {"text": "日本語 ✓ é", "emoji": "🎉"},
        "escapes": "quote \\" backslash \\\\ newline \\n tab \\t control \\u0001",
        "bytes": b"\\x00\\x01raw",
        "tuple": (1, 2),
        "set": {1},
        "object": object(),
        "large": "x" * (7 * 1024 * 1024),
        "namedtuple": __import__("collections").namedtuple("Point", "x y")(1, 2),
    }

    def returns(event, context):
        return VALUES[event["value"]]

    def fails(event, context):
        def deeper():
            raise ValueError("it failed\\non two lines")
        deeper()

    class CustomError(Exception):
        pass

    def custom(event, context):
        raise CustomError({"detail": "a dict as the message"})

    def exits(event, context):
        sys.exit(3)

    def trace(event, context):
        return os.environ.get("_X_AMZN_TRACE_ID")

    def raw(event, context):
        return {"type": type(event).__name__, "repr": repr(event)}

    def deadline(event, context):
        time.sleep(1.2)
        return {"remaining": context.get_remaining_time_in_millis()}

    def context_fields(event, context):
        names = sorted(name for name in dir(context) if not name.startswith("_"))
        values = {}
        for name in names:
            value = getattr(context, name)
            values[name] = "<method>" if callable(value) else repr(value)
        client = context.client_context
        context.log("context.log line\\n")
        return {
            "names": names,
            "values": values,
            "repr": repr(context),
            "remaining_positive": 0 < context.get_remaining_time_in_millis() <= 30_000,
            "w3c": context.w3c(),
            "client_context": None if client is None else [repr(client.custom), repr(client.env), repr(client.client)],
            "identity": [context.identity.cognito_identity_id, context.identity.cognito_identity_pool_id],
        }

    def logs(event, context):
        log.debug("debug line")
        log.info("info line with %s", "an argument")
        log.warning("warning line")
        log.error("error line\\nwith a second line\\n  and an indented third")
        logging.getLogger("app.extra").warning("with extra", extra={"orderId": 42, "tags": ["a", "b"]})
        log.warning({"a": "dict message", "n": 1})
        try:
            raise KeyError("missing")
        except KeyError:
            log.exception("caught")
        logging.critical("on the root logger")
        print("a print\\nacross two lines")
        print("to stderr", file=sys.stderr)
        return "logged"

    CASES = {name: function for name, function in globals().items() if callable(function) and not name.startswith("_")}

    def handler(event, context):
        return CASES[event["case"]](event, context)
"""


def test_results_are_encoded_and_posted_alike(tmp_path: Path, layer_zip: Path) -> None:
    values = ["dict", "list", "string", "none", "integer", "float", "nan", "infinity", "decimal", "unicode", "escapes", "bytes", "tuple"]
    seen = same(run(tmp_path, layer_zip, HANDLERS, invocations([{"case": "returns", "value": value} for value in values], raw=True)))

    assert [answer[2] for answer in seen.extra] == ["application/json"] * 11 + ["application/unknown", "application/json"]
    bodies = dict(zip(values, (answer[3] for answer in seen.extra), strict=True))
    assert bodies["decimal"] == 'raw: {"price": 1.10, "big": 12345678901234567890.123, "nan": NaN}'
    assert (
        bodies["unicode"] == 'raw: {"text": "\\u65e5\\u672c\\u8a9e \\u2713 \\u00e9", "emoji": "\\ud83c\\udf89"}'
        if sys.version_info < (3, 12)
        else ('raw: {"text": "日本語 ✓ é", "emoji": "🎉"}')
    )
    assert bodies["bytes"] == "raw: \x00\x01raw"


def test_a_namedtuple_in_a_result_is_the_one_documented_difference_of_encoding(tmp_path: Path, layer_zip: Path) -> None:
    seen = run(tmp_path, layer_zip, HANDLERS, invocations([{"case": "returns", "value": "namedtuple"}], raw=True))

    # DIFFERENCES["namedtuple"]: simplejson would cost a cold start 20 ms or more to import.
    assert (seen["managed"].extra[0][3], seen["layer"].extra[0][3]) == ('raw: {"x": 1, "y": 2}', "raw: [1, 2]")


def test_results_that_cannot_be_encoded_are_the_same_marshal_errors(tmp_path: Path, layer_zip: Path) -> None:
    seen = same(run(tmp_path, layer_zip, HANDLERS, invocations([{"case": "returns", "value": value} for value in ("set", "object")])))

    assert [(answer[0], answer[1]) for answer in seen.extra] == [(False, "Runtime.MarshalError")] * 2


def test_invocation_errors_are_posted_and_logged_alike(tmp_path: Path, layer_zip: Path) -> None:
    events: list[Any] = [{"case": "fails"}, {"case": "custom"}, {"case": "returns", "value": "missing"}, b"{not json"]
    seen = same(run(tmp_path, layer_zip, HANDLERS, invocations(events)))

    assert [(answer[0], answer[1]) for answer in seen.extra] == [
        (False, "ValueError"),
        (False, "CustomError"),
        (False, "KeyError"),
        (False, "Runtime.UnmarshalError"),
    ]
    error = seen.extra[0][3]
    assert (error["errorMessage"], error["requestId"]) == ("it failed\non two lines", "<request id>")
    assert [re.findall(r", in (\w+)\n", frame) for frame in error["stackTrace"]] == [["handler"], ["fails"], ["deeper"]]
    # One log event, its lines joined by "\r" (the message's own newline stays one)
    assert seen.stdout[:3] == ["[ERROR] ValueError: it failed", "on two lines", "\rTraceback (most recent call last):"]


def test_a_sys_exit_in_the_handler_ends_the_process_alike(tmp_path: Path, layer_zip: Path) -> None:
    def steps(fn: FunctionProcess, wire: Tap) -> Any:
        fn.api.submit({"case": "exits"}, function_arn=fn.function_arn)
        return fn.wait(20)

    seen = same(run(tmp_path, layer_zip, HANDLERS, steps))

    assert seen.extra == 3


def test_an_event_that_is_not_json_reaches_the_handler_as_bytes(tmp_path: Path, layer_zip: Path) -> None:
    headers = {"Content-Type": "application/octet-stream"}
    seen = same(
        run(
            tmp_path,
            layer_zip,
            HANDLERS.replace("CASES[event", "CASES['raw' if isinstance(event, bytes) else event"),
            invocations([b"raw \xff bytes"], extra_headers=headers),
        )
    )

    assert seen.extra[0][3] == {"type": "bytes", "repr": "b'raw \\xff bytes'"}


def test_the_trace_id_variable_is_each_invocations(tmp_path: Path, layer_zip: Path) -> None:
    traces = ["Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1", "Root=1-00000000-000000000000000000000001"]

    def steps(fn: FunctionProcess, wire: Tap) -> Any:
        answers = []
        for trace in traces:
            answers.append(fn.api.result(fn.api.submit({"case": "trace"}, function_arn=fn.function_arn, trace_id=trace), 30))
        return [json.loads(answer.body) for answer in answers if answer]

    seen = same(run(tmp_path, layer_zip, HANDLERS, steps))

    assert seen.extra == traces


CLIENT_CONTEXT = {
    "custom": {"key": "value"},
    "env": {"platform": "test"},
    "client": {
        "installation_id": "install",
        "app_title": "title",
        "app_version_name": "1.0",
        "app_version_code": "1",
        "app_package_name": "pkg",
    },
    "w3c": {
        "traceparent": "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01",
        "tracestate": "a=b",
        "other": "dropped",
        "baggage": 7,
    },
}
IDENTITY = {"cognitoIdentityId": "us-east-1:identity", "cognitoIdentityPoolId": "us-east-1:pool"}


def test_every_context_field_and_method_is_the_same(tmp_path: Path, layer_zip: Path) -> None:
    full = {
        "Lambda-Runtime-Client-Context": json.dumps(CLIENT_CONTEXT),
        "Lambda-Runtime-Cognito-Identity": json.dumps(IDENTITY),
    }
    steps = invocations([{"case": "context_fields"}] * 3, extra_headers=full, tenant_id="tenant-a")
    seen = same(run(tmp_path, layer_zip, HANDLERS, steps))

    context = seen.extra[0][3]
    assert context["names"] == [
        "aws_request_id",
        "client_context",
        "function_name",
        "function_version",
        "get_remaining_time_in_millis",
        "identity",
        "invoked_function_arn",
        "log",
        "log_group_name",
        "log_stream_name",
        "memory_limit_in_mb",
        "tenant_id",
        "w3c",
    ]
    assert context["values"]["tenant_id"] == "'tenant-a'" and context["remaining_positive"]
    assert context["w3c"] == {"traceparent": CLIENT_CONTEXT["w3c"]["traceparent"], "tracestate": "a=b"}
    assert "context.log line" in seen.stdout


def test_the_context_without_client_context_identity_or_tenant_is_the_same(tmp_path: Path, layer_zip: Path) -> None:
    seen = same(run(tmp_path, layer_zip, HANDLERS, invocations([{"case": "context_fields"}])))

    context = seen.extra[0][3]
    assert (context["client_context"], context["values"]["tenant_id"], context["w3c"]) == (None, "None", {})


def test_a_context_header_that_is_not_json_is_the_same_error(tmp_path: Path, layer_zip: Path) -> None:
    seen = same(
        run(tmp_path, layer_zip, HANDLERS, invocations([{"case": "context_fields"}], extra_headers={"Lambda-Runtime-Client-Context": "{"}))
    )

    assert seen.extra[0][:2] == [False, "Runtime.LambdaContextUnmarshalError"]


LOG_SETTINGS = [
    pytest.param({}, id="text"),
    pytest.param({"AWS_LAMBDA_LOG_LEVEL": "DEBUG"}, id="text-debug"),
    pytest.param({"AWS_LAMBDA_LOG_FORMAT": "JSON"}, id="json"),
    pytest.param({"AWS_LAMBDA_LOG_FORMAT": "JSON", "AWS_LAMBDA_LOG_LEVEL": "ERROR"}, id="json-error"),
]


@pytest.mark.parametrize("env", LOG_SETTINGS)
def test_log_lines_are_the_same(tmp_path: Path, layer_zip: Path, env: dict[str, str]) -> None:
    steps = invocations([{"case": "logs"}, {"case": "fails"}], tenant_id="tenant-c")  # JSON lines carry the tenant
    seen = same(run(tmp_path, layer_zip, HANDLERS, steps, env=env))

    assert seen.stdout  # what they are is pinned by the comparison; that there are some, here


def test_a_handler_past_its_deadline_still_answers_alike(tmp_path: Path, layer_zip: Path) -> None:
    # The runtime client does not enforce the deadline (Lambda does, by ending the environment).
    seen = same(run(tmp_path, layer_zip, HANDLERS, invocations([{"case": "deadline"}], deadline_ms=int((time.time() + 1) * 1000))))

    assert (seen.extra[0][0], seen.extra[0][3]) == (True, {"remaining": 0})


def test_a_response_over_6_mb_that_the_api_refuses_is_reported_alike(tmp_path: Path, layer_zip: Path) -> None:
    def steps(fn: FunctionProcess, wire: Tap) -> Any:
        request_id = fn.api.submit({"case": "returns", "value": "large"}, function_arn=fn.function_arn)
        exited = fn.wait(20)  # as awslambdaric: the process ends with the reason
        answered = fn.api.result(request_id, 0)
        return {"answered": answered and answered.body, "later": None, "exited": exited}

    seen = same(run(tmp_path, layer_zip, HANDLERS, steps, refuse_large=True))

    assert seen.posts[0][0] == "invocation/<request id>/response" and len(seen.posts[0][2]) > PAYLOAD_LIMIT
    assert seen.extra == {"answered": None, "later": None, "exited": 1}
    assert seen.stdout[-2:] == [
        f"[ERROR] [<ms>] LAMBDA_RUNTIME Failed to post handler success response. Http response code: 413. {json.dumps(TOO_LARGE)}",
        "",
    ]


def test_an_invocation_id_the_api_sends_comes_back_alike(tmp_path: Path, layer_zip: Path) -> None:
    # Lambda Managed Instances' Runtime API names each invocation; awslambdaric hands it back with the answer.
    steps = invocations(
        [{"case": "returns", "value": "string"}, {"case": "fails"}], extra_headers={"Lambda-Runtime-Invocation-Id": "inv-1"}
    )
    seen = same(run(tmp_path, layer_zip, HANDLERS, steps))

    assert [post[0] for post in seen.posts] == ["invocation/<request id>/response", "invocation/<request id>/error"]


@pytest.mark.parametrize("when", ["mid-invocation", "waiting-for-an-event"])
def test_a_runtime_api_that_goes_away_ends_the_process_alike(tmp_path: Path, layer_zip: Path, when: str) -> None:
    def steps(fn: FunctionProcess, wire: Tap) -> Any:
        assert fn.wait_ready(20), fn.logs()
        if when == "mid-invocation":
            fn.api.submit({"case": "deadline"}, function_arn=fn.function_arn)  # sleeps 1.2 s
            time.sleep(0.3)
        fn.api.close()
        return fn.wait(20)

    seen = same(run(tmp_path, layer_zip, HANDLERS, steps))

    assert seen.extra == 1


UNKNOWN_HANDLERS = ["main.nothere", "nothere.handler", "nodots", "sys.handler", "broken.handler", "raising.handler", "syntax.handler"]


@pytest.mark.parametrize("handler", UNKNOWN_HANDLERS)
def test_a_handler_that_cannot_be_loaded_is_the_same_init_error(tmp_path: Path, layer_zip: Path, handler: str) -> None:
    files = {
        "broken.py": "import not_installed_anywhere\n",
        "raising.py": "raise RuntimeError('failed at import')\n",
        "syntax.py": "def handler(:\n",
    }
    seen = same(run(tmp_path, layer_zip, HANDLERS, lambda fn, wire: fn.wait(20), handler=handler, files=files))

    assert seen.extra == 1 and [post[0] for post in seen.posts] == ["init/error"]


SNAPSTART_HANDLERS = """
    import os
    from snapshot_restore_py import register_after_restore, register_before_snapshot

    register_before_snapshot(lambda: print("before the snapshot, first registered", flush=True))
    register_before_snapshot(lambda: print("before the snapshot, second registered", flush=True))
    register_after_restore(lambda: print("after the restore", flush=True))

    if os.environ.get("FAIL") == "before":
        def failing():
            raise RuntimeError("the before-snapshot hook failed")
        register_before_snapshot(failing)
    if os.environ.get("FAIL") == "after":
        def failing():
            raise RuntimeError("the after-restore hook failed")
        register_after_restore(failing)

    def handler(event, context):
        return "served"
"""


@pytest.mark.parametrize("fail", ["", "before", "after"])
def test_snapstart_hooks_restore_next_and_their_errors_are_the_same(tmp_path: Path, layer_zip: Path, fail: str) -> None:
    def steps(fn: FunctionProcess, wire: Tap) -> Any:
        reached = fn._wait(lambda slice_: fn.api.snapshot.wait(slice_) or None, 20)
        output_at_snapshot = fn.stdout().splitlines()
        fn.api.snapshot.restore()
        if fail:
            return {"reached": reached, "at snapshot": output_at_snapshot, "exit": fn.wait(20), "restore errors": fn.api.snapshot.errors}
        return {"reached": reached, "at snapshot": output_at_snapshot, "answer": fn.invoke("x").body}

    seen = same(run(tmp_path, layer_zip, SNAPSTART_HANDLERS, steps, env={"AWS_LAMBDA_INITIALIZATION_TYPE": "snap-start", "FAIL": fail}))

    if fail == "":
        assert seen.extra["answer"] == '"served"' and seen.extra["reached"] is True
    elif fail == "before":
        assert seen.extra["exit"] == 64 and seen.posts[0][1]["lambda-runtime-function-error-type"] == "Runtime.BeforeSnapshotError"
    else:
        assert seen.extra["exit"] == 65 and seen.posts[0][0] == "restore/error"


def test_sigterm_with_no_signal_handler_ends_the_process_alike(tmp_path: Path, layer_zip: Path) -> None:
    def steps(fn: FunctionProcess, wire: Tap) -> Any:
        fn.invoke({"case": "returns", "value": "string"})
        return fn.terminate()

    seen = same(run(tmp_path, layer_zip, HANDLERS, steps))

    assert seen.extra == -signal.SIGTERM


# -- the zero-code layer, through the wrapper ------------------------------------------------------------

APP = """
    import asyncio, contextlib, logging, pathlib
    from starlette.applications import Starlette
    from starlette.responses import JSONResponse, PlainTextResponse, Response
    from starlette.routing import Route

    log = logging.getLogger("app")

    async def text(request):
        log.warning("serving %s", request.url.path)
        response = PlainTextResponse("héllo", headers={"x-custom": "1"})
        response.set_cookie("a", "1")
        response.set_cookie("b", "2")
        return response

    async def binary(request):
        return Response(bytes(range(256)), media_type="image/png")

    async def large(request):
        return Response(b"x" * (7 * 1024 * 1024), media_type="application/octet-stream")

    async def context(request):
        ctx = request.scope["aws.context"]
        return JSONResponse({"request_id": ctx.aws_request_id, "tenant": ctx.tenant_id, "trace": request.scope["aws.trace_id"]})

    async def slow(request):
        pathlib.Path("started.flag").touch()
        await asyncio.sleep(1)
        return PlainTextResponse("finished")

    @contextlib.asynccontextmanager
    async def lifespan(app):
        yield
        print("shutdown ran", flush=True)

    app = Starlette(routes=[Route("/text", text), Route("/binary", binary), Route("/large", large), Route("/context", context), Route("/slow", slow)], lifespan=lifespan)
"""


def http(path: str, source: str = "http_api_v2_get") -> dict[str, Any]:
    event = load_event(source)
    if "rawPath" in event:
        event["rawPath"] = event["requestContext"]["http"]["path"] = path
        event["rawQueryString"] = ""
    else:
        event["path"] = path
        if "path" in event.get("requestContext", {}):
            event["requestContext"]["path"] = path
    return event


ZERO_CODE = {"ASGI_APP": "main:app"}


def test_an_apps_answers_are_the_same_bytes_and_headers(tmp_path: Path, layer_zip: Path) -> None:
    events = [
        http("/text"),
        http("/text", "http_api_v1_get"),
        http("/text", "apigw_rest_get"),
        http("/text", "alb_single_value"),
        http("/binary"),
        http("/large"),
        http("/context"),
    ]
    steps = invocations(events, tenant_id="tenant-b", trace_id="Root=1-5759e988-bd862e3fe1be46a994272793;Sampled=1")
    seen = same(run(tmp_path, layer_zip, APP, steps, handler=DECOY, env=ZERO_CODE, wrapper=True))

    assert [answer[:3] for answer in seen.extra] == [[True, None, "application/json"]] * 7
    assert seen.extra[5][3]["statusCode"] == 500  # over 6 MB: the adapter's own 500, under both


def test_events_the_adapter_refuses_are_the_same_invocation_errors(tmp_path: Path, layer_zip: Path) -> None:
    malformed = http("/text")
    malformed["requestContext"]["http"]["method"] = 7
    events = [{"not": "an event any source takes"}, malformed]
    seen = same(run(tmp_path, layer_zip, APP, invocations(events), handler=DECOY, env=ZERO_CODE, wrapper=True))

    assert [(answer[0], answer[1]) for answer in seen.extra] == [(False, "UnknownEventError"), (False, "MalformedEvent")]


@pytest.mark.parametrize(("env", "source", "error_type", "message"), INIT_ERRORS)
def test_init_errors_of_the_zero_code_layer_are_the_same(
    tmp_path: Path, layer_zip: Path, env: dict[str, str], source: str, error_type: str, message: str
) -> None:
    def steps(fn: FunctionProcess, wire: Tap) -> Any:
        return fn.wait(20)

    seen = same(run(tmp_path, layer_zip, source, steps, handler=DECOY, env={**ZERO_CODE, **env}, wrapper=True))

    assert seen.extra == 1
    assert (seen.posts[0][0], seen.posts[0][2]["errorType"], seen.posts[0][2]["errorMessage"]) == ("init/error", error_type, message)


@pytest.mark.parametrize("env", LOG_SETTINGS)
def test_the_layers_and_the_apps_log_lines_are_the_same(tmp_path: Path, layer_zip: Path, env: dict[str, str]) -> None:
    logs = {**ZERO_CODE, "ASGI_ACCESS_LOG": "1", **env}
    seen = same(run(tmp_path, layer_zip, APP, invocations([http("/text"), {"unknown": "event"}]), handler=DECOY, env=logs, wrapper=True))

    assert seen.stdout


def test_sigterm_with_no_request_in_flight_runs_shutdown_and_ends_the_process_alike(tmp_path: Path, layer_zip: Path) -> None:
    def steps(fn: FunctionProcess, wire: Tap) -> Any:
        fn.invoke(http("/text"))
        deadline = time.monotonic() + 10
        while fn.api.next_calls < 2 and time.monotonic() < deadline:  # back waiting for the next event
            time.sleep(0.01)
        return fn.terminate(timeout=3)

    seen = run(tmp_path, layer_zip, APP, steps, handler=DECOY, env=ZERO_CODE, wrapper=True)

    assert seen["layer"].extra == -signal.SIGTERM and "shutdown ran" in seen["layer"].stdout
    if sys.version_info >= (3, 12):  # awslambdaric waits for the next event in a thread there
        same(seen)
    else:  # DIFFERENCES["sigterm while idle"]: its C client holds the signal until SIGKILL
        assert seen["managed"].extra == -signal.SIGKILL and "shutdown ran" not in seen["managed"].stdout


def test_sigterm_with_a_request_in_flight_answers_it_then_runs_shutdown_alike(tmp_path: Path, layer_zip: Path) -> None:
    def steps(fn: FunctionProcess, wire: Tap) -> Any:
        assert fn.wait_ready(20), fn.logs()
        request_id = fn.api.submit(http("/slow"), function_arn=fn.function_arn)
        started = fn.task_root / "started.flag"
        deadline = time.monotonic() + 20
        while not started.exists() and time.monotonic() < deadline:
            time.sleep(0.01)
        fn.proc.send_signal(signal.SIGTERM)
        answer = fn.api.result(request_id, 20)
        while "shutdown ran" not in fn.stdout() and time.monotonic() < deadline:
            time.sleep(0.01)
        return {"answer": answer and json.loads(answer.body)["body"], "alive after shutdown": fn.returncode is None}

    seen = same(run(tmp_path, layer_zip, APP, steps, handler=DECOY, env=ZERO_CODE, wrapper=True))

    assert seen.extra == {"answer": "finished", "alive after shutdown": True}
