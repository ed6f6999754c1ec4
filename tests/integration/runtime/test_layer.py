"""The zero-code layer end to end: the built zip unpacked as /opt, AWS_LAMBDA_EXEC_WRAPPER pointing at
its wrapper, started by the managed runtime's launcher stand-in and run by the real awslambdaric."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from asgi_lambda.docs import fix
from asgi_lambda.local.runtime_api import RuntimeAPI
from tests.support.events import load_event
from tests.support.management_api import ManagementAPIStub
from tests.support.paths import ROOT, directory_outside_tmp
from tests.support.runtime.layer import APP, DECOY, INIT_ERRORS, answer, function, unpack


def test_http_request_end_to_end_through_the_layer(tmp_path: Path, layer_zip: Path) -> None:
    with function(tmp_path, layer_zip) as fn:
        response = answer(fn, load_event("http_api_v2_named_stage"))

    assert (response["statusCode"], response["headers"], response["isBase64Encoded"]) == (
        200,
        {"content-type": "application/json"},
        False,
    )
    body = json.loads(response["body"])
    assert (body["path"], body["root_path"]) == ("/dev/items/42", "/dev")
    # The code that ran is the layer's, unpacked in /opt/python, not the repository's.
    assert body["asgi_lambda"] == str(tmp_path / "opt" / "python" / "asgi_lambda" / "__init__.py")


def test_the_decoy_handler_is_replaced_and_kept_in_asgi_original_handler(tmp_path: Path, layer_zip: Path) -> None:
    with function(tmp_path, layer_zip) as fn:
        body = json.loads(answer(fn, load_event("http_api_v2_get"))["body"])

    assert (body["handler"], body["original_handler"]) == ("asgi_lambda.bootstrap.handler", DECOY)


def test_the_wrapper_leaves_pythonpath_to_the_runtime(tmp_path: Path, layer_zip: Path) -> None:
    with function(tmp_path, layer_zip) as fn:
        body = json.loads(answer(fn, load_event("http_api_v2_get"))["body"])

    # The runtime adds the layers' directories only when it finds PYTHONPATH unset...
    opt = tmp_path / "opt" / "python"
    assert str(opt) in body["sys_path"]
    assert str(opt / "lib" / f"python{sys.version_info.major}.{sys.version_info.minor}" / "site-packages") in body["sys_path"]
    # ...and then sets it to its own directory for child processes, and nothing else.
    assert body["pythonpath"] == fn.env["LAMBDA_RUNTIME_DIR"]


def test_lifespan_starts_once_across_invocations(tmp_path: Path, layer_zip: Path) -> None:
    with function(tmp_path, layer_zip) as fn:
        bodies = [json.loads(answer(fn, load_event(name))["body"]) for name in ("http_api_v2_get", "apigw_rest_get", "alb_single_value")]

    assert [body["startups"] for body in bodies] == [1, 1, 1]
    assert len({body["pid"] for body in bodies}) == 1


def test_dependencies_from_other_layers_stay_importable(tmp_path: Path, layer_zip: Path) -> None:
    site_packages = tmp_path / "opt" / "python" / "lib" / f"python{sys.version_info.major}.{sys.version_info.minor}" / "site-packages"
    source = APP.replace("import asgi_lambda\n", "import asgi_lambda\n    import other_layer_dependency\n").replace(
        '"path": scope["path"],', '"path": other_layer_dependency.NAME,'
    )
    fn = function(tmp_path, layer_zip, source=source)
    # Lambda unpacks every layer into the same /opt: another layer's dependency sits beside ours.
    (site_packages / "other_layer_dependency").mkdir(parents=True)
    (site_packages / "other_layer_dependency" / "__init__.py").write_text("NAME = 'from another layer'\n")
    with fn:
        body = json.loads(answer(fn, load_event("http_api_v2_get"))["body"])

    assert body["path"] == "from another layer"


def test_a_fastapi_app_is_served_with_no_handler_code(tmp_path: Path, layer_zip: Path) -> None:
    source = """
        from fastapi import FastAPI

        app = FastAPI()

        @app.get("/items/{item_id}")
        async def item(item_id: int, q: str | None = None) -> dict:
            return {"item_id": item_id, "q": q}
    """
    with function(tmp_path, layer_zip, source=source) as fn:
        response = answer(fn, load_event("http_api_v2_get"))

    assert (response["statusCode"], json.loads(response["body"])) == (200, {"item_id": 42, "q": "a b"})


@pytest.mark.parametrize(("env", "source", "error_type", "message"), INIT_ERRORS)
def test_init_error_is_reported_the_way_the_runtime_reports_them(
    tmp_path: Path, layer_zip: Path, env: dict[str, str], source: str, error_type: str, message: str
) -> None:
    with function(tmp_path, layer_zip, source=source, env=env) as fn:
        error = fn.wait_init_error(timeout=20)
        assert error is not None, fn.logs()
        assert fn.wait(timeout=10) == 1

    assert (error["errorType"], error["errorMessage"]) == (error_type, message)


def test_websocket_events_through_the_layer_reach_the_example_app(tmp_path: Path, layer_zip: Path) -> None:
    stub = ManagementAPIStub()
    source = (ROOT / "examples" / "hello" / "main.py").read_text()
    try:
        # A file outside /tmp, as on an EFS mount: one under /tmp is refused on Lambda.
        with (
            directory_outside_tmp() as state,
            function(
                tmp_path,
                layer_zip,
                source=source,
                env={"WS_BACKEND": "sqlite", "WS_SQLITE_PATH": str(state / "connections.sqlite3"), "WS_ENDPOINT_URL": stub.endpoint},
            ) as fn,
        ):
            connect = fn.invoke(load_event("ws_connect"))
            message = fn.invoke(load_event("ws_message"))
            disconnect = fn.invoke(load_event("ws_disconnect"))
    finally:
        stub.close()

    assert [connect.payload, message.payload, disconnect.payload] == [{"statusCode": 200}] * 3
    assert stub.posts() == [("L0SM9cOFvHcCIhw=", b"echo: hello, world")]


@pytest.mark.parametrize(
    ("env", "message"),
    [
        (
            {"WS_BACKEND": "mongodb"},
            "WS_BACKEND='mongodb': expected one of dynamodb, s3, postgresql, redis, sqlite, memory (or postgres, sqlite3)."
            + fix("invalid-value"),
        ),
        ({"WS_BACKEND": "redis"}, "WS_BACKEND=redis needs WS_REDIS_URL: the redis store's URL." + fix("store-variable-missing")),
        (
            {"WS_BACKEND": "memory"},
            "WS_BACKEND=memory keeps connections in this process's memory, but on Lambda each execution environment "
            "has its own memory and /tmp: a connection would live in one environment only, and the events other "
            "environments handle would not find it; use dynamodb, redis, postgresql or s3, or sqlite with its file "
            "on an EFS mount (such as /mnt/efs/connections.sqlite3)." + fix("store-not-shared"),
        ),
        (
            {"WS_BACKEND": "sqlite"},
            "WS_SQLITE_PATH='/tmp/asgi-lambda-{uid}/connections.sqlite3' (the default) is under /tmp, but on Lambda each "
            "execution environment has its own memory and /tmp: a connection would live in one environment only, and "
            "the events other environments handle would not find it; use dynamodb, redis, postgresql or s3, or sqlite "
            "with its file on an EFS mount (such as /mnt/efs/connections.sqlite3)." + fix("store-not-shared"),
        ),
    ],
    ids=["unknown-backend", "missing-url", "memory-on-lambda", "sqlite-under-tmp-on-lambda"],
)
def test_a_bad_websocket_setting_fails_the_init(tmp_path: Path, layer_zip: Path, env: dict[str, str], message: str) -> None:
    with function(tmp_path, layer_zip, env=env) as fn:
        error = fn.wait_init_error(timeout=20)

    assert error is not None and (error["errorType"], error["errorMessage"]) == ("ConfigError", message)


def test_container_image_launch_style_replaces_the_handler_argument(tmp_path: Path, layer_zip: Path) -> None:
    task_root, opt = tmp_path / "task", tmp_path / "opt"
    task_root.mkdir()
    unpack(layer_zip, opt)
    (task_root / "main.py").write_text(textwrap.dedent(APP))
    site_packages = next(path for path in sys.path if path.endswith("site-packages") and Path(path, "awslambdaric").is_dir())
    with RuntimeAPI() as api:
        # ENTRYPOINT ["/opt/asgi-bootstrap", "python", "-m", "awslambdaric"], CMD ["<handler>"]. The image puts
        # the layer on PYTHONPATH itself; -S keeps the repository's editable install out.
        process = subprocess.Popen(
            [str(opt / "asgi-bootstrap"), sys.executable, "-S", "-m", "awslambdaric", DECOY],
            cwd=task_root,
            env={
                "AWS_LAMBDA_RUNTIME_API": api.address,
                "ASGI_APP": "main:app",
                "PYTHONPATH": f"{opt / 'python'}:{site_packages}",
                "PATH": os.environ["PATH"],
                "AWS_LAMBDA_FUNCTION_NAME": "image-function",
                "AWS_REGION": "us-east-1",
            },
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            invocation = api.invoke(load_event("http_api_v2_get"), timeout=30)
        finally:
            process.kill()
            process.wait()

    body = json.loads(invocation.payload["body"])
    assert (body["handler"], body["original_handler"], body["path"]) == ("asgi_lambda.bootstrap.handler", DECOY, "/items/42")


SLOW_APP = """
    import asyncio, pathlib, sys

    async def app(scope, receive, send):
        if scope["type"] == "lifespan":
            await receive()
            await send({"type": "lifespan.startup.complete"})
            await receive()
            print("shutdown ran", flush=True)
            await send({"type": "lifespan.shutdown.complete"})
            return
        await receive()
        pathlib.Path("started").touch()  # the test sends SIGTERM now, while this request runs
        await asyncio.sleep(1)
        await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"text/plain")]})
        await send({"type": "http.response.body", "body": b"finished"})
        print("response complete", flush=True)
"""


def test_sigterm_with_a_request_in_flight_lets_the_response_complete_then_runs_shutdown(tmp_path: Path, layer_zip: Path) -> None:
    with function(tmp_path, layer_zip, source=SLOW_APP) as fn:
        assert fn.wait_ready(timeout=20), fn.logs()
        request_id = fn.api.submit(load_event("http_api_v2_get"), timeout=30, function_arn=fn.function_arn)
        started = tmp_path / "task" / "started"
        deadline = time.monotonic() + 20
        while not started.exists() and time.monotonic() < deadline:
            time.sleep(0.01)
        fn.proc.send_signal(signal.SIGTERM)
        invocation = None
        while invocation is None and time.monotonic() < deadline + 10:
            invocation = fn.api.result(request_id, 0.1)
        # Shutdown runs once the invocation is over: before the answer is sent under the managed runtime's
        # client, after it (and after the app's work after it) under the layer's.
        while "shutdown ran" not in fn.stdout() and fn.returncode is None and time.monotonic() < deadline + 10:
            time.sleep(0.01)
        fn.terminate()
        lines = [line for line in fn.stdout().splitlines() if line in ("response complete", "shutdown ran")]

    assert invocation is not None and invocation.ok, fn.logs()
    assert (invocation.payload["statusCode"], invocation.payload["body"]) == (200, "finished")
    assert lines == ["response complete", "shutdown ran"]
