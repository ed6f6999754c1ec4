"""`--runtime`: the function as Lambda runs it, in a child process: the layer built and unpacked,
its exec wrapper starting the layer's own Runtime API client (the real awslambdaric with
ASGI_RUNTIME=managed) against the Runtime API emulator; `--max-concurrency N` has both take up to N
invocations at once, as on Lambda Managed Instances.
"""

from __future__ import annotations

import os
import sys
import time
import uuid
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .function import FunctionError
from .state import private_dir
from .state import state_dir as cache_dir
from .streaming import EmulatedFunction

if TYPE_CHECKING:
    from .runtime_api import RuntimeAPI


class RuntimeFunction(EmulatedFunction):
    """`--runtime`: the function as Lambda runs it. The layer is built (./build_layer.sh) and
    unpacked in a directory standing for /opt; a child process runs the layer's exec wrapper on
    `python -m awslambdaric` (as in a container image), which it replaces with the layer's own
    client unless ASGI_RUNTIME=managed, against the Runtime API emulator (local/runtime_api.py).
    `stream=True` sets ASGI_INVOKE_MODE=response_stream for it; `max_concurrency` above 1 sets
    AWS_LAMBDA_MAX_CONCURRENCY and has the emulator hand out that many events at once; `log_level`
    (one of LOG_LEVELS) sets AWS_LAMBDA_LOG_LEVEL, which is left as the environment has it when empty."""

    def __init__(
        self,
        *,
        app: str,
        app_dir: str,
        function_name: str = "asgi-lambda-local",
        stream: bool = False,
        max_concurrency: int = 1,
        log_level: str = "",
    ) -> None:
        super().__init__(function_name, max_concurrency=max_concurrency)
        self.app = app
        self.app_dir = app_dir
        self.streams = stream
        self.max_concurrency = max_concurrency
        self.log_level = log_level
        self.process: Any = None  # subprocess.Popen[bytes]
        self.workdir: str | None = None

    def start(self) -> None:
        import importlib.util
        import subprocess
        import tempfile

        from .runtime_api import RuntimeAPI

        if managed(os.environ) and importlib.util.find_spec("awslambdaric") is None:
            raise FunctionError("--runtime with ASGI_RUNTIME=managed needs awslambdaric, Lambda's runtime client: pip install awslambdaric")
        self.workdir = tempfile.mkdtemp(prefix="asgi-lambda-runtime-")
        opt = build_layer(Path(self.workdir))
        self.api = RuntimeAPI(max_concurrency=self.max_concurrency if self.max_concurrency > 1 else None)
        version = f"{sys.version_info.major}.{sys.version_info.minor}"
        env = {
            **os.environ,
            # What Lambda sets (https://docs.aws.amazon.com/lambda/latest/dg/configuration-envvars.html).
            "AWS_LAMBDA_RUNTIME_API": self.api.address,
            "LAMBDA_TASK_ROOT": self.app_dir,
            "_HANDLER": self.app.replace(":", "."),
            "AWS_LAMBDA_EXEC_WRAPPER": str(opt / "asgi-bootstrap"),
            "AWS_LAMBDA_FUNCTION_NAME": self.function_name,
            "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
            "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "128",
            "AWS_LAMBDA_LOG_GROUP_NAME": f"/aws/lambda/{self.function_name}",
            "AWS_LAMBDA_LOG_STREAM_NAME": f"{time.strftime('%Y/%m/%d')}/[$LATEST]{uuid.uuid4().hex}",
            "AWS_EXECUTION_ENV": f"AWS_Lambda_python{version}",  # 3.12+: awslambdaric polls in a thread
            # What `sam local` sets too: one local execution environment, so the layer allows a store
            # that keeps connections in it (the default SQLite file under the cache directory, state.py).
            "AWS_SAM_LOCAL": "true",
            # The layer's python/ directory first, as /opt/python is on Lambda; the task root is the
            # working directory, which `python -m` puts first on sys.path.
            "PYTHONPATH": os.pathsep.join([str(opt / "python"), self.app_dir]),
        }
        if self.streams:
            env["ASGI_INVOKE_MODE"] = "response_stream"
        if self.max_concurrency > 1:
            env["AWS_LAMBDA_MAX_CONCURRENCY"] = str(self.max_concurrency)
        if self.log_level:
            env["AWS_LAMBDA_LOG_LEVEL"] = LAMBDA_LOG_LEVELS[self.log_level]
        command = [str(opt / "asgi-bootstrap"), sys.executable, "-m", "awslambdaric", env["_HANDLER"]]
        # Its own session: Ctrl-C reaches the gateway only, which then stops the function with
        # SIGTERM, as Lambda does.
        self.process = subprocess.Popen(command, cwd=self.app_dir, env=env, stdin=subprocess.DEVNULL, start_new_session=True)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.api.wait_ready(0.05):
                return
            error = self.api.init_error
            if error is not None:
                raise FunctionError(f"{error.get('errorType', 'Error')}: {error.get('errorMessage', error)}")
            if self.process.poll() is not None:
                raise FunctionError(f"the function process exited with {self.process.returncode} during its init")
        raise FunctionError("the function's init did not finish within 60 s")

    def running(self) -> RuntimeAPI:
        api = super().running()
        if self.process is None:
            raise FunctionError("the function was not started")
        if self.process.poll() is not None:
            raise FunctionError(f"the function process has exited ({self.process.returncode})")
        return api

    def close(self) -> None:
        import shutil
        import signal
        import subprocess

        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)  # the layer runs lifespan shutdown on it
            try:
                # Before 3.12 awslambdaric waits for /next in C on the main thread, where the
                # signal's handler runs only once the wait ends: end it soon.
                self.process.wait(3 if sys.version_info >= (3, 12) else 0.2)
            except subprocess.TimeoutExpired:
                if self.api is not None:
                    # End that wait with an event rather than an error, which the runtime would
                    # print: the signal's handler runs as the wait returns, shuts down and ends
                    # the process before the event is handled.
                    self.api.submit({"asgi-lambda": "stopping"})
                try:
                    self.process.wait(5)
                except subprocess.TimeoutExpired:
                    self.process.kill()
                    self.process.wait()
        if self.api is not None:
            self.api.close()
        self.executor.shutdown(wait=False)
        if self.workdir is not None:
            shutil.rmtree(self.workdir, ignore_errors=True)


# --log-level's choices as Lambda spells its application log levels, which both runtime clients
# read from AWS_LAMBDA_LOG_LEVEL as the root logger's level
# (https://docs.aws.amazon.com/lambda/latest/dg/monitoring-cloudwatchlogs-log-level.html).
LAMBDA_LOG_LEVELS = {"critical": "FATAL", "error": "ERROR", "warning": "WARN", "info": "INFO", "debug": "DEBUG"}


def managed(environ: Mapping[str, str]) -> bool:
    """Whether ASGI_RUNTIME asks for the managed runtime's client (awslambdaric)."""
    return environ.get("ASGI_RUNTIME", "").strip().lower() == "managed"


def build_layer(workdir: Path) -> Path:
    """Build the layer with this checkout's ./build_layer.sh and unpack it; returns the /opt stand-in."""
    import subprocess
    import zipfile

    script = Path(__file__).resolve().parents[3] / "build_layer.sh"
    if not script.is_file():
        raise FunctionError(
            f"--runtime builds the layer with build_layer.sh, which is not at {script}: run it from a checkout of asgi-lambda"
        )
    built = subprocess.run([str(script), "--output", str(workdir)], capture_output=True, text=True)
    if built.returncode != 0:
        message = (built.stderr or built.stdout).strip().splitlines()
        raise FunctionError(f"building the layer failed: {message[-1] if message else built.returncode}")
    opt = workdir / "opt"
    with zipfile.ZipFile(workdir / "asgi-lambda-layer.zip") as layer:
        layer.extractall(opt)
    (opt / "asgi-bootstrap").chmod(0o755)  # zipfile does not restore modes
    return opt


def function_environ(
    environ: Mapping[str, str], *, app: str, endpoint_url: str, ws_path: str, port: int, state_dir: Path | None = None
) -> dict[str, str]:
    """The variables the gateway adds to the function's environment; the user's own win.

    WS_ENDPOINT_URL points the handler's Management API client at this server; WS_PATH gives the
    scope the path the client connected to; without WS_BACKEND, connections are kept in a SQLite
    file that belongs to this server, in `state_dir` (default: the cache directory, state.py), reset at
    each start: no client outlives it.
    """
    added = {"ASGI_APP": app}
    if not environ.get("WS_BACKEND", "").strip():
        # Absolute: --runtime's function runs elsewhere.
        path = (private_dir(state_dir) if state_dir is not None else cache_dir()) / f"connections-{port}.sqlite3"
        for stale in (path, Path(f"{path}-wal"), Path(f"{path}-shm")):
            stale.unlink(missing_ok=True)
        added.update(WS_BACKEND="sqlite", WS_SQLITE_PATH=str(path))
    if not environ.get("WS_ENDPOINT_URL", "").strip():
        added["WS_ENDPOINT_URL"] = endpoint_url
    if not environ.get("WS_PATH", "").strip():
        added["WS_PATH"] = ws_path
    # The Management API client signs its calls (this server ignores the signature) with the
    # user's credentials, as boto3 finds them; placeholder keys only when it finds none, so a
    # profile is never shadowed.
    if not has_credentials(environ):
        added.update(AWS_ACCESS_KEY_ID="local", AWS_SECRET_ACCESS_KEY="local")
    return added


def has_credentials(environ: Mapping[str, str]) -> bool:
    """Whether the Management API client finds credentials to sign with: in the environment, or
    through botocore's chain. A chain that fails (a profile that does not exist) counts: its
    error, logged when a reply is sent, says what to fix, where placeholders would hide it."""
    from ..websocket.management_api import GatewayError, chain_credentials

    if environ.get("AWS_ACCESS_KEY_ID") and environ.get("AWS_SECRET_ACCESS_KEY"):
        return True
    try:
        return chain_credentials() is not None
    except GatewayError:
        return True
