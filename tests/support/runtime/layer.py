"""The zero-code layer as Lambda runs it: the built zip unpacked as /opt, AWS_LAMBDA_EXEC_WRAPPER
pointing at its wrapper, started by the managed runtime's launcher stand-in (harness.py) and run by
the real awslambdaric. The runtime tests' apps and the init errors they expect are here too."""

from __future__ import annotations

import subprocess
import textwrap
import zipfile
from pathlib import Path
from typing import Any

import pytest

from asgi_lambda.docs import fix

from ..paths import ROOT
from .harness import FunctionProcess


def build(*args: str, output: Path) -> subprocess.CompletedProcess[str]:
    """./build_layer.sh --output OUTPUT *args, from the repository's root."""
    return subprocess.run([str(ROOT / "build_layer.sh"), "--output", str(output), *args], capture_output=True, text=True, cwd=ROOT)


def build_layer(output: Path) -> Path:
    """The universal layer zip, built by build_layer.sh into `output`."""
    result = build(output=output)
    assert result.returncode == 0, result.stderr
    return output / "asgi-lambda-layer.zip"


APP = """
    import json, os, sys
    import asgi_lambda

    startups = 0

    async def app(scope, receive, send):
        global startups
        if scope["type"] == "lifespan":
            while True:
                message = await receive()
                if message["type"] == "lifespan.startup":
                    startups += 1
                    await send({"type": "lifespan.startup.complete"})
                else:
                    await send({"type": "lifespan.shutdown.complete"})
                    return
        await receive()
        body = {
            "path": scope["path"],
            "root_path": scope["root_path"],
            "startups": startups,
            "pid": os.getpid(),
            "asgi_lambda": asgi_lambda.__file__,
            "handler": os.environ.get("_HANDLER"),
            "original_handler": os.environ.get("ASGI_ORIGINAL_HANDLER"),
            "pythonpath": os.environ.get("PYTHONPATH"),
            "sys_path": sys.path,
        }
        await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"application/json")]})
        await send({"type": "http.response.body", "body": json.dumps(body).encode()})
"""

DECOY = "lambda_function.lambda_handler"  # what the console creates; no such module exists here

# The two runtime clients the wrapper can start: the managed runtime's (awslambdaric), and the layer's own (the default).
RUNTIME_CLIENTS: dict[str, dict[str, str]] = {"managed": {"ASGI_RUNTIME": "managed"}, "layer": {}}


def unpack(layer_zip: Path, opt: Path) -> None:
    """Unpack as Lambda does, mode bits included (zipfile alone drops them)."""
    with zipfile.ZipFile(layer_zip) as archive:
        for info in archive.infolist():
            path = Path(archive.extract(info, opt))
            path.chmod(info.external_attr >> 16 & 0o777)


def function(
    tmp_path: Path, layer_zip: Path, *, source: str = APP, env: dict[str, str] | None = None, max_concurrency: int | None = None
) -> FunctionProcess:
    task_root, opt = tmp_path / "task", tmp_path / "opt"
    task_root.mkdir()
    unpack(layer_zip, opt)
    (task_root / "main.py").write_text(textwrap.dedent(source))
    environment = {"AWS_LAMBDA_EXEC_WRAPPER": str(opt / "asgi-bootstrap"), "ASGI_APP": "main:app", **(env or {})}
    return FunctionProcess(task_root, opt, DECOY, env=environment, max_concurrency=max_concurrency)


def answer(fn: FunctionProcess, event: dict[str, Any]) -> dict[str, Any]:
    invocation = fn.invoke(event)
    assert invocation.ok, f"{invocation.payload}\n{fn.logs()}"
    response: dict[str, Any] = invocation.payload
    return response


INIT_ERRORS = [
    pytest.param(
        {"ASGI_APP": ""},
        APP,
        "ConfigError",
        "ASGI_APP is not set: set it to your ASGI app as module:attribute, for example main:app." + fix("asgi-app-not-set"),
        id="asgi-app-missing",
    ),
    pytest.param(
        {"ASGI_APP": "main.app"},
        APP,
        "Runtime.ImportModuleError",
        "Unable to import module 'asgi_lambda.bootstrap': ASGI_APP='main.app': expected module:attribute, for example main:app (did you mean main:app?)."
        + fix("asgi-app-format"),
        id="wrong-form",
    ),
    pytest.param(
        {"ASGI_APP": "mian:app"},
        APP,
        "Runtime.ImportModuleError",
        "Unable to import module 'asgi_lambda.bootstrap': ASGI_APP='mian:app': no module named 'mian'. The module must be in "
        "the function's code (LAMBDA_TASK_ROOT) or in a layer's python/ directory." + fix("no-module-named"),
        id="missing-module",
    ),
    pytest.param(
        {"ASGI_APP": "main:ap"},
        APP,
        "Runtime.ImportModuleError",
        "Unable to import module 'asgi_lambda.bootstrap': ASGI_APP='main:ap': module 'main' has no attribute 'ap'." + fix("no-attribute"),
        id="missing-attribute",
    ),
    pytest.param(
        {"ASGI_APP": "main:startups"},
        APP,
        "Runtime.ImportModuleError",
        "Unable to import module 'asgi_lambda.bootstrap': ASGI_APP='main:startups': main.startups is an int, not an ASGI app "
        "(an async callable taking scope, receive and send) or a WSGI app (a callable taking environ and start_response)."
        + fix("not-an-asgi-app"),
        id="not-callable",
    ),
    pytest.param(
        {"ASGI_APP": "main:app"},
        "import not_installed_anywhere\napp = None\n",
        "Runtime.ImportModuleError",
        "Unable to import module 'asgi_lambda.bootstrap': No module named 'not_installed_anywhere'",
        id="missing-dependency-of-the-app",
    ),
    pytest.param(
        {"ASGI_LIFESPAN": "maybe"},
        APP,
        "ConfigError",
        "ASGI_LIFESPAN='maybe': expected one of auto, on, off." + fix("invalid-value"),
        id="lifespan-value",
    ),
    pytest.param(
        {"ASGI_LIFESPAN": "on"},
        """
        async def app(scope, receive, send):
            await receive()
            await send({"type": "lifespan.startup.failed", "message": "database unreachable"})
        """,
        "LifespanFailure",
        "Application startup failed: database unreachable" + fix("lifespan-startup-failed"),
        id="startup-failed",
    ),
]
