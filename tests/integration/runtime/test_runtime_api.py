"""The local Lambda stand-in itself: our Runtime API emulator + the managed runtime's launcher/bootstrap
stand-ins + the real awslambdaric, with plain handler modules (no asgi_lambda layer involved)."""

from __future__ import annotations

import json
import socket
import sys
import textwrap
import threading
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import pytest

from asgi_lambda.local.runtime_api import RuntimeAPI
from tests.support.paths import LAYER, RUNTIME_STAND_IN
from tests.support.runtime.harness import FunctionExited, FunctionProcess

REPO_LAYER = LAYER
PY = f"python{sys.version_info.major}.{sys.version_info.minor}"

ECHO = """
    import os

    calls = 0

    def handler(event, context):
        global calls
        calls += 1
        return {
            "echo": event,
            "request_id": context.aws_request_id,
            "remaining_positive": context.get_remaining_time_in_millis() > 0,
            "calls": calls,
            "pid": os.getpid(),
        }
"""


def function(tmp_path: Path, source: str, handler: str = "app.handler", **kwargs: Any) -> FunctionProcess:
    """A task root holding app.py = source, an empty opt dir, and the function process running it."""
    task_root, opt = tmp_path / "task", tmp_path / "opt"
    task_root.mkdir(exist_ok=True)
    opt.mkdir(exist_ok=True)
    (task_root / "app.py").write_text(textwrap.dedent(source))
    return FunctionProcess(task_root, opt, handler, **kwargs)


def test_round_trip_returns_the_handler_result(tmp_path: Path) -> None:
    with function(tmp_path, ECHO) as fn:
        result = fn.invoke({"a": [1, 2.5, "ü"], "b": None})
    assert result.ok
    assert result.error_type is None
    assert result.payload["echo"] == {"a": [1, 2.5, "ü"], "b": None}
    assert result.payload["request_id"] == result.request_id
    assert result.payload["remaining_positive"] is True


def test_invocations_reuse_the_same_process(tmp_path: Path) -> None:
    with function(tmp_path, ECHO) as fn:
        first, second = fn.invoke({}), fn.invoke({})
    assert (first.payload["calls"], second.payload["calls"]) == (1, 2)
    assert first.payload["pid"] == second.payload["pid"]
    assert first.request_id != second.request_id


def test_handler_exception_is_reported_through_the_error_endpoint(tmp_path: Path) -> None:
    source = """
        def handler(event, context):
            raise ValueError("bad input")
    """
    with function(tmp_path, source) as fn:
        result = fn.invoke({})
        assert fn.wait_ready(1)  # still alive, back at /next
    assert not result.ok
    assert result.error_type == "ValueError"
    assert result.payload["errorType"] == "ValueError"
    assert result.payload["errorMessage"] == "bad input"
    assert result.payload["requestId"] == result.request_id
    assert any('raise ValueError("bad input")' in line for line in result.payload["stackTrace"])


def test_exception_at_import_is_an_init_error_named_after_its_class(tmp_path: Path) -> None:
    with function(tmp_path, 'raise RuntimeError("boom at import")\n') as fn:
        error = fn.wait_init_error(10)
    assert error is not None
    assert error["errorType"] == "RuntimeError"
    assert error["errorMessage"] == "boom at import"
    assert error["requestId"] == ""


def test_import_error_at_import_is_an_import_module_init_error(tmp_path: Path) -> None:
    with function(tmp_path, "import not_installed_anywhere\n") as fn:
        error = fn.wait_init_error(10)
    assert error is not None
    assert error["errorType"] == "Runtime.ImportModuleError"
    assert error["errorMessage"] == "Unable to import module 'app': No module named 'not_installed_anywhere'"


def test_init_error_ends_the_process_with_exit_code_1(tmp_path: Path) -> None:
    with function(tmp_path, 'raise RuntimeError("boom at import")\n') as fn:
        assert fn.wait_init_error(10) is not None
        assert fn.wait(10) == 1
        assert not fn.api.wait_ready(0)  # it never asked for an event


def test_missing_handler_function_is_a_handler_not_found_init_error(tmp_path: Path) -> None:
    with function(tmp_path, ECHO, handler="app.nothere") as fn:
        error = fn.wait_init_error(10)
    assert error is not None
    assert error["errorType"] == "Runtime.HandlerNotFound"
    assert error["errorMessage"] == "Handler 'nothere' missing on module 'app'"


OPT_IMPORT = """
    def handler(event, context):
        try:
            import optdep
        except ImportError:
            return None
        return optdep.WHERE
"""


def _opt_dependency(tmp_path: Path) -> None:
    site_packages = tmp_path / "opt" / "python" / "lib" / PY / "site-packages"
    site_packages.mkdir(parents=True)
    (site_packages / "optdep.py").write_text("WHERE = 'opt site-packages'\n")


def test_layer_site_packages_are_importable(tmp_path: Path) -> None:
    _opt_dependency(tmp_path)
    with function(tmp_path, OPT_IMPORT) as fn:
        assert fn.invoke({}).payload == "opt site-packages"


def test_layer_site_packages_are_not_on_the_path_when_pythonpath_is_set(tmp_path: Path) -> None:
    _opt_dependency(tmp_path)
    (tmp_path / "elsewhere").mkdir()
    with function(tmp_path, OPT_IMPORT, env={"PYTHONPATH": str(tmp_path / "elsewhere")}) as fn:
        assert fn.invoke({}).payload is None


def test_the_repo_package_does_not_leak_into_the_function(tmp_path: Path) -> None:
    source = """
        import importlib.util, sys

        def handler(event, context):
            return {"path": sys.path, "found": importlib.util.find_spec("asgi_lambda") is not None}
    """
    with function(tmp_path, source) as fn:
        result = fn.invoke({})
    assert str(REPO_LAYER) not in result.payload["path"]
    assert result.payload["found"] is False


def test_function_sees_the_lambda_environment(tmp_path: Path) -> None:
    source = """
        import os

        def handler(event, context):
            return {"cwd": os.getcwd(), "arn": context.invoked_function_arn,
                    "trace": os.environ.get("_X_AMZN_TRACE_ID", ""), "name": context.function_name}
    """
    with function(tmp_path, source) as fn:
        result = fn.invoke({})
    assert result.payload["cwd"] == str(tmp_path / "task")
    assert result.payload["arn"] == "arn:aws:lambda:us-east-1:123456789012:function:test-function"
    assert result.payload["trace"].startswith("Root=1-")
    assert result.payload["name"] == "test-function"


def test_terminate_ends_a_function_waiting_for_events(tmp_path: Path) -> None:
    with function(tmp_path, ECHO) as fn:
        assert fn.wait_ready(10)
        assert fn.terminate() == -15


def test_invoke_timeout_shows_the_function_output(tmp_path: Path) -> None:
    source = """
        import sys, time

        def handler(event, context):
            print("stuck in the handler", file=sys.stderr, flush=True)
            time.sleep(30)
    """
    with function(tmp_path, source) as fn:
        with pytest.raises(TimeoutError, match="(?s)within 0.5s.*stuck in the handler"):
            fn.invoke({}, timeout=0.5)


def test_invoke_reports_a_process_that_dies_mid_invocation(tmp_path: Path) -> None:
    source = """
        import os

        def handler(event, context):
            os._exit(3)
    """
    with function(tmp_path, source) as fn:
        with pytest.raises(FunctionExited, match="exited with 3 before answering request"):
            fn.invoke({}, timeout=10)


WRAPPER = """#!/bin/sh
printf '%s\\n' "$@" > "$WRAPPER_ARGS_FILE"
export SET_BY_WRAPPER=yes
exec "$@"
"""


def test_exec_wrapper_receives_the_runtime_command_line_and_starts_it(tmp_path: Path) -> None:
    wrapper = tmp_path / "wrapper"
    wrapper.write_text(WRAPPER)
    wrapper.chmod(0o755)
    env = {"AWS_LAMBDA_EXEC_WRAPPER": str(wrapper), "WRAPPER_ARGS_FILE": str(tmp_path / "args")}
    source = """
        import os

        def handler(event, context):
            return os.environ.get("SET_BY_WRAPPER")
    """
    with function(tmp_path, source, env=env) as fn:
        assert fn.invoke({}).payload == "yes"
        expected = [fn.python, "-S", str(RUNTIME_STAND_IN / "bootstrap.py")]
    assert (tmp_path / "args").read_text().splitlines() == expected


def test_missing_exec_wrapper_ends_the_launcher_with_127(tmp_path: Path) -> None:
    with function(tmp_path, ECHO, env={"AWS_LAMBDA_EXEC_WRAPPER": str(tmp_path / "absent")}) as fn:
        assert fn.wait(10) == 127
        assert fn.stdout() == f"{tmp_path / 'absent'}: does not exist\n"


# -- the emulator on its own -------------------------------------------------------------------------------


def test_emulator_answers_unknown_paths_with_404_json() -> None:
    with RuntimeAPI() as api:
        with pytest.raises(urllib.error.HTTPError) as caught:
            urllib.request.urlopen(f"http://{api.address}/2018-06-01/nope", timeout=5)
        assert caught.value.code == 404
        assert json.loads(caught.value.read())["errorType"] == "NotFound"
        assert api.requests == [("GET", "/2018-06-01/nope")]


def test_emulator_rejects_a_response_for_an_unknown_request_id() -> None:
    with RuntimeAPI() as api:
        request = urllib.request.Request(f"http://{api.address}/2018-06-01/runtime/invocation/no-such-id/response", data=b"{}")
        with pytest.raises(urllib.error.HTTPError) as caught:
            urllib.request.urlopen(request, timeout=5)
        assert caught.value.code == 400


def test_emulator_invoke_times_out_naming_the_request_id() -> None:
    with RuntimeAPI() as api:
        with pytest.raises(TimeoutError, match=r"no /response or /error for request [0-9a-f-]{36}"):
            api.invoke({}, timeout=0.1)


def test_emulator_close_releases_a_waiting_next_call() -> None:
    api = RuntimeAPI()
    threading.Timer(0.2, api.close).start()
    with pytest.raises(urllib.error.HTTPError) as caught:
        urllib.request.urlopen(f"http://{api.address}/2018-06-01/runtime/invocation/next", timeout=5)
    assert caught.value.code == 500


def test_emulator_survives_a_malformed_post() -> None:
    with RuntimeAPI() as api:
        with socket.create_connection(("127.0.0.1", int(api.address.split(":")[1])), timeout=5) as conn:
            conn.sendall(b"POST /2018-06-01/runtime/init/error HTTP/1.0\r\nContent-Length: -5\r\n\r\n")
            assert conn.recv(100).startswith(b"HTTP/1.0 400")
        with pytest.raises(urllib.error.HTTPError) as caught:  # still serving
            urllib.request.urlopen(f"http://{api.address}/2018-06-01/nope", timeout=5)
        assert caught.value.code == 404
        assert api.init_error is None
        assert api.server_errors == []
