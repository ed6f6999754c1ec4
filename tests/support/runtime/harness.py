"""Run a Lambda function the way the managed Python runtime does: the launcher (tests/support/runtime/bootstrap,
standing for /var/runtime/bootstrap) starts bootstrap.py, which runs the real awslambdaric against our
Runtime API emulator on 127.0.0.1 (asgi_lambda.local.runtime_api). No network, no AWS.

    with FunctionProcess(task_root, opt_dir, "app.handler") as fn:
        result = fn.invoke({"key": "value"})
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import sysconfig
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from asgi_lambda.local.runtime_api import Invocation, RuntimeAPI, Stream

HERE = Path(__file__).resolve().parent
LAUNCHER = HERE / "bootstrap"
T = TypeVar("T")


class FunctionExited(RuntimeError):
    """The function process ended while we were waiting for it."""


def _interpreter_facts(python: str) -> tuple[str, str]:
    """(X.Y, site-packages) of an interpreter: read here when it is ours, else asked of it."""
    if python == sys.executable:
        return f"{sys.version_info.major}.{sys.version_info.minor}", sysconfig.get_paths()["purelib"]
    out = subprocess.run(
        [python, "-c", "import sys, sysconfig; print('%d.%d' % sys.version_info[:2]); print(sysconfig.get_paths()['purelib'])"],
        check=True,
        capture_output=True,
        text=True,
        timeout=30,
    ).stdout.split("\n")
    return out[0], out[1]


class FunctionProcess:
    """A Lambda function in its own process, with its own emulator. Starts on construction."""

    def __init__(
        self,
        task_root: Path | str,
        opt_dir: Path | str,
        handler: str,
        *,
        env: dict[str, str] | None = None,
        python: str | None = None,
        function_name: str = "test-function",
        max_concurrency: int | None = None,
    ) -> None:
        self.task_root = Path(task_root)
        self.opt_dir = Path(opt_dir)
        self.python = python or sys.executable
        version, site_packages = _interpreter_facts(self.python)
        self.python_version = version
        self.function_arn = f"arn:aws:lambda:us-east-1:123456789012:function:{function_name}"
        # Lambda Managed Instances: the Runtime API hands out up to max_concurrency events at once, and
        # says so to the function in AWS_LAMBDA_MAX_CONCURRENCY.
        self.api = RuntimeAPI(max_concurrency=max_concurrency)
        self.env: dict[str, str] = {
            # what Lambda sets (https://docs.aws.amazon.com/lambda/latest/dg/configuration-envvars.html)
            "AWS_LAMBDA_RUNTIME_API": self.api.address,
            "LAMBDA_TASK_ROOT": str(self.task_root),
            "LAMBDA_RUNTIME_DIR": str(HERE),  # stands for /var/runtime
            "_HANDLER": handler,
            "AWS_LAMBDA_FUNCTION_NAME": function_name,
            "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
            "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "128",
            "AWS_LAMBDA_INITIALIZATION_TYPE": "on-demand",
            "AWS_LAMBDA_LOG_GROUP_NAME": f"/aws/lambda/{function_name}",
            "AWS_LAMBDA_LOG_STREAM_NAME": "2024/01/01/[$LATEST]0123456789abcdef0123456789abcdef",
            "AWS_REGION": "us-east-1",
            "AWS_DEFAULT_REGION": "us-east-1",
            "AWS_EXECUTION_ENV": f"AWS_Lambda_python{version}",  # the real launcher exports it
            "LANG": "en_US.UTF-8",
            "TZ": ":UTC",
            "PATH": f"{Path(self.python).parent}:/usr/local/bin:/usr/bin:/bin:{self.opt_dir}/bin",
            # fake credentials: nothing in the function can authenticate against real AWS
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
            "AWS_SESSION_TOKEN": "testing",
            # the stand-ins' knobs (tests/support/runtime/bootstrap and bootstrap.py)
            "ASGI_TEST_PYTHON": self.python,
            "ASGI_TEST_OPT_DIR": str(self.opt_dir),
            "ASGI_TEST_RUNTIME_SITE_PACKAGES": site_packages,
        }
        if max_concurrency is not None:
            self.env["AWS_LAMBDA_MAX_CONCURRENCY"] = str(max_concurrency)
        self.env.update(env or {})
        self._log_dir = Path(tempfile.mkdtemp(prefix="lambda-fn-logs-"))
        self._logs: tuple[str, str] | None = None  # kept once the log files are removed
        self._out = open(self._log_dir / "stdout", "wb")  # files, not pipes: a pipe nobody reads fills up
        self._err = open(self._log_dir / "stderr", "wb")
        try:
            self.proc = subprocess.Popen(
                [str(LAUNCHER)],
                cwd=self.task_root,
                env=self.env,
                stdin=subprocess.DEVNULL,
                stdout=self._out,
                stderr=self._err,
                start_new_session=True,
            )
        except BaseException:
            self.close()
            raise

    def __enter__(self) -> FunctionProcess:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- talking to the function -----------------------------------------------------------------------------

    def invoke(self, event: Any, timeout: float = 30) -> Invocation:
        request_id = self.api.submit(event, timeout=timeout, function_arn=self.function_arn)
        found = self._wait(lambda slice_: self.api.result(request_id, slice_), timeout)
        if found is None:
            self.api.cancel(request_id)
            self._raise_if_exited(f"before answering request {request_id}")
            raise TimeoutError(f"no /response or /error for request {request_id} within {timeout}s\n{self.logs()}")
        return found

    def wait_ready(self, timeout: float = 10) -> bool:
        """True once the runtime called /next (init done); False if it did not within timeout or died."""
        return self._wait(lambda slice_: self.api.wait_ready(slice_) or None, timeout) is True

    def wait_init_error(self, timeout: float = 10) -> dict[str, Any] | None:
        return self._wait(self.api.wait_init_error, timeout)

    def _wait(self, poll: Callable[[float], T | None], timeout: float) -> T | None:
        """poll() in short slices until it returns something, the process ends, or timeout passes."""
        deadline = time.monotonic() + timeout
        while True:
            found = poll(min(0.05, max(0.0, deadline - time.monotonic())))
            if found is not None:
                return found
            if self.proc.poll() is not None:
                return poll(0.05)  # it may have posted just before exiting
            if time.monotonic() >= deadline:
                return None

    def _raise_if_exited(self, when: str) -> None:
        if self.proc.poll() is not None:
            raise FunctionExited(f"function process exited with {self.proc.returncode} {when}\n{self.logs()}")

    # -- the process -------------------------------------------------------------------------------------------

    @property
    def returncode(self) -> int | None:
        return self.proc.poll()

    def wait(self, timeout: float = 10) -> int:
        return self.proc.wait(timeout)

    def terminate(self, timeout: float = 5) -> int:
        """SIGTERM (what Lambda sends at shutdown), then wait; SIGKILL if it lingers. Returns the exit code."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                return self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
        return self.proc.wait()

    def stdout(self) -> str:
        return self._read()[0]

    def stderr(self) -> str:
        return self._read()[1]

    def logs(self, tail: int = 4000) -> str:
        """The last `tail` characters of stdout and stderr (awslambdaric logs errors to stdout)."""
        out, err = self._read()
        return f"--- stdout (tail) ---\n{out[-tail:]}\n--- stderr (tail) ---\n{err[-tail:]}"

    def _read(self) -> tuple[str, str]:
        if self._logs is not None:
            return self._logs
        return ((self._log_dir / "stdout").read_text(errors="replace"), (self._log_dir / "stderr").read_text(errors="replace"))

    def close(self) -> None:
        """Kill the process (and anything it started in its session) if alive, stop the emulator, drop logs."""
        proc = getattr(self, "proc", None)
        if proc is not None:
            try:  # its own session and process group: whatever a wrapper started goes too
                os.killpg(proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            proc.wait()
        self.api.close()
        if self._logs is None:
            self._out.close()
            self._err.close()
            self._logs = self._read()
            shutil.rmtree(self._log_dir, ignore_errors=True)


def submit(fn: FunctionProcess, event: Any, timeout: float = 30) -> str:
    """Queue one invocation for the function without waiting for it; returns its request id."""
    return fn.api.submit(event, timeout=timeout, function_arn=fn.function_arn)


def streamed(fn: FunctionProcess, request_id: str, timeout: float = 20) -> Stream:
    """The response to request_id as it streams in; fails (with the function's logs) if none begins."""
    stream = fn._wait(lambda slice_: fn.api.stream(request_id, slice_), timeout)
    if stream is None:
        raise AssertionError(f"no streamed response to {request_id} within {timeout}s\n{fn.logs()}")
    return stream
