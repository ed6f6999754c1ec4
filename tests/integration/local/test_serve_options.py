"""`asgi-lambda serve` as uvicorn users expect it: the app from ASGI_APP when APP is not given,
`--version`, `--env-file` (read before the app is imported; the environment wins) and `--reload`
(a fresh process, importing the app anew, on each change under the app directory)."""

from __future__ import annotations

import importlib.metadata
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest

import asgi_lambda
from asgi_lambda.local.cli import main
from tests.support.local import ServeProcess, clean_environ, get_until
from tests.support.net import free_port

# Answers with what it read at import (GREETING, TARGET) and the process it runs in; records each
# lifespan shutdown, with that process id, in SHUTDOWN_LOG.
APP_SOURCE = """
import os

ANSWER = f"{os.environ.get('GREETING', '-')} {os.environ.get('TARGET', '-')} VERSION"

async def app(scope, receive, send):
    if scope["type"] == "lifespan":
        while (message := await receive())["type"] != "lifespan.shutdown":
            await send({"type": "lifespan.startup.complete"})
        with open(os.environ["SHUTDOWN_LOG"], "a") as log:
            log.write(f"{os.getpid()}\\n")
        await send({"type": "lifespan.shutdown.complete"})
        return
    await receive()
    body = f"{ANSWER} from {os.getpid()}".encode()
    await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"text/plain")]})
    await send({"type": "http.response.body", "body": body})
"""


@pytest.fixture
def app_dir(tmp_path: Path) -> Path:
    directory = tmp_path / "app"
    directory.mkdir()
    (directory / "main.py").write_text(APP_SOURCE.replace("VERSION", "v1"))
    return directory


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    return clean_environ(AWS_ACCESS_KEY_ID="testing", AWS_SECRET_ACCESS_KEY="testing", SHUTDOWN_LOG=str(tmp_path / "shutdown.log"))


def run_serve(*args: str, cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "asgi_lambda", "serve", *args, "--port", str(free_port())]
    return subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True, timeout=60)


def answer(served: ServeProcess) -> str:
    response = httpx.get(served.url)
    assert response.status_code == 200, response.text
    return response.text


# --- APP, else ASGI_APP ---------------------------------------------------------------------------


def test_without_app_serve_takes_asgi_app(app_dir: Path, env: dict[str, str], serve_process: Callable[..., ServeProcess]) -> None:
    served = serve_process(cwd=app_dir, env={**env, "ASGI_APP": "main:app"})

    assert answer(served).startswith("- - v1 from ")
    out, err = served.stop()
    assert served.process.returncode == 0, err
    assert "serving main:app in this process" in out


def test_without_app_or_asgi_app_serve_says_to_give_either(app_dir: Path, env: dict[str, str]) -> None:
    result = run_serve(cwd=app_dir, env=env)

    assert (result.returncode, result.stderr) == (
        1,
        "asgi-lambda: no app: give APP (or --app) as module:attribute, such as main:app, or set ASGI_APP\n",
    )


def test_an_unknown_app_from_asgi_app_is_named_as_asgi_app(app_dir: Path, env: dict[str, str]) -> None:
    result = run_serve(cwd=app_dir, env={**env, "ASGI_APP": "nowhere:app"})

    assert result.returncode == 1
    assert result.stderr.startswith("asgi-lambda: ASGI_APP='nowhere:app': no module named 'nowhere'."), result.stderr


def test_app_given_wins_over_asgi_app(app_dir: Path, env: dict[str, str], serve_process: Callable[..., ServeProcess]) -> None:
    served = serve_process("main:app", cwd=app_dir, env={**env, "ASGI_APP": "nowhere:app"})

    assert answer(served).startswith("- - v1 from ")


# --- --version ------------------------------------------------------------------------------------


def test_version_prints_the_package_version(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--version"]) == 0
    assert capsys.readouterr().out == f"asgi-lambda {asgi_lambda.__version__}\n"
    assert asgi_lambda.__version__ == importlib.metadata.version("asgi-lambda")


# --- --env-file -----------------------------------------------------------------------------------


def test_env_file_is_read_before_the_app_is_imported_and_the_environment_wins(
    app_dir: Path, env: dict[str, str], serve_process: Callable[..., ServeProcess]
) -> None:
    (app_dir / ".env").write_text(
        "# the app, and what it reads at import\n"
        "export ASGI_APP=main:app\n"
        'GREETING="hello there"  # a comment\n'
        "\n"
        "TARGET='from the file'\n"
    )

    served = serve_process("--env-file", ".env", cwd=app_dir, env={**env, "TARGET": "from-the-environment"})

    assert answer(served).startswith("hello there from-the-environment v1 from ")


def test_a_bad_env_file_line_is_one_line_naming_the_file_and_line(app_dir: Path, env: dict[str, str]) -> None:
    (app_dir / ".env").write_text("GREETING=hello\nnot a variable\n")

    result = run_serve("main:app", "--env-file", ".env", cwd=app_dir, env=env)

    assert (result.returncode, result.stderr) == (
        1,
        "asgi-lambda: --env-file '.env', line 2: expected KEY=VALUE, such as ASGI_LIFESPAN=off; got 'not a variable'\n",
    )


def test_a_missing_env_file_is_one_line_saying_so(app_dir: Path, env: dict[str, str]) -> None:
    result = run_serve("main:app", "--env-file", "missing.env", cwd=app_dir, env=env)

    assert (result.returncode, result.stderr) == (1, "asgi-lambda: --env-file 'missing.env': No such file or directory\n")


# --- --reload -------------------------------------------------------------------------------------


def test_reload_serves_the_edited_app_from_a_fresh_process(
    app_dir: Path, env: dict[str, str], tmp_path: Path, serve_process: Callable[..., ServeProcess]
) -> None:
    served = serve_process("main:app", "--reload", cwd=app_dir, env=env)
    before = answer(served)
    assert before.startswith("- - v1 from ")
    first_pid = int(before.rsplit(" ", 1)[1])
    assert first_pid != served.process.pid  # a child serves; the reloader only watches

    (app_dir / "main.py").write_text(APP_SOURCE.replace("VERSION", "v2"))
    after = get_until(served.url, lambda response: response.text.startswith("- - v2 ")).text

    second_pid = int(after.rsplit(" ", 1)[1])
    assert second_pid not in (first_pid, served.process.pid)
    out, err = served.stop(signal.SIGINT)
    assert served.process.returncode == 0, err
    assert f"asgi-lambda: watching {app_dir} for changes to *.py files" in err
    assert "asgi-lambda: main.py changed: restarting" in err
    assert "Traceback" not in err
    # Each server ran its app's lifespan shutdown: the first at the restart, the second on Ctrl-C.
    assert (tmp_path / "shutdown.log").read_text().split() == [str(first_pid), str(second_pid)]


def test_reload_starts_the_server_again_once_a_failing_app_is_fixed(app_dir: Path, env: dict[str, str], tmp_path: Path) -> None:
    tried = tmp_path / "tried"
    (app_dir / "main.py").write_text(f"open({str(tried)!r}, 'w').close()\nimport nowhere_to_be_found\n")
    served = ServeProcess("main:app", "--reload", cwd=app_dir, env=env)
    try:
        deadline = time.monotonic() + 30
        while not tried.exists():
            assert time.monotonic() < deadline, "the app was not imported within 30 s"
            time.sleep(0.05)
        # That server answers every request with the import error while the reloader watches, as uvicorn's does.
        served.wait_until_serving(timeout=30)
        failing = httpx.get(served.url, timeout=10)
        assert (failing.status_code, served.process.poll()) == (500, None)
        assert "APP='main:app' failed to import: ModuleNotFoundError: No module named 'nowhere_to_be_found'" in failing.text

        (app_dir / "main.py").write_text(APP_SOURCE.replace("VERSION", "fixed"))
        fixed = get_until(served.url, lambda response: response.status_code == 200)
        assert fixed.text.startswith("- - fixed from ")
    finally:
        out, err = served.stop()
    assert served.process.returncode == 0, err
    assert "asgi-lambda: APP='main:app' failed to import: ModuleNotFoundError: No module named 'nowhere_to_be_found'" in err


def test_reload_leaves_no_server_behind_when_the_reloader_is_killed(
    app_dir: Path, env: dict[str, str], serve_process: Callable[..., ServeProcess]
) -> None:
    served = serve_process("main:app", "--reload", cwd=app_dir, env=env)
    child = int(answer(served).rsplit(" ", 1)[1])

    served.process.kill()  # no chance to stop its child
    served.process.communicate()

    deadline = time.monotonic() + 10
    while pid_alive(child):
        assert time.monotonic() < deadline, "the server outlived its reloader by 10 s"
        time.sleep(0.1)


def pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie (exited, not yet reaped by init) counts as gone.
    status = Path(f"/proc/{pid}/stat")
    return not (status.exists() and status.read_text().split(") ", 1)[1].startswith("Z"))
