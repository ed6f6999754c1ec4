"""`make serve` from a fresh clone installs only what serving the chat needs (the package with its
[local] extra, and the chat's requirements), and `make setup` (so `make test`) afterwards still
makes the full install. Read from `make -n` (what make would run) in a copy of the checkout's
build files, without a venv."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.support.paths import ROOT

FILES = ("Makefile", "pyproject.toml", "requirements-dev.txt", "requirements-release.txt", "examples/chat/requirements.txt")


@pytest.fixture
def clone(tmp_path: Path) -> Path:
    if shutil.which("make") is None:
        pytest.fail("make is not installed")  # README's commands need it
    for name in FILES:
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(ROOT / name, tmp_path / name)
    return tmp_path


def make_n(clone: Path, target: str, *variables: str) -> list[str]:
    # As a user's shell runs it: not with what a `make test` around the tests exports (its flags,
    # and PYTHON and VENV when it runs the suite on another interpreter).
    env = {name: os.environ[name] for name in ("PATH", "HOME", "LANG") if name in os.environ}
    result = subprocess.run(["make", "-n", target, *variables], cwd=clone, env=env, capture_output=True, text=True, timeout=30, check=True)
    return result.stdout.splitlines()


def pip_installs(lines: list[str]) -> list[str]:
    return [line for line in lines if " -m pip install " in line]


def test_make_serve_in_a_fresh_clone_installs_only_the_local_extra_and_the_chats_requirements(clone: Path) -> None:
    lines = make_n(clone, "serve")

    assert pip_installs(lines) == [".venv/bin/python -m pip install -q -e '.[local]' -r examples/chat/requirements.txt"]
    assert lines[-1].strip() == "WS_PATH=/ws .venv/bin/python -m asgi_lambda serve main:app --app-dir examples/chat"


def test_make_setup_after_make_serve_installs_the_development_requirements(clone: Path) -> None:
    (clone / ".venv").mkdir()
    (clone / ".venv" / ".serve-installed").touch()  # what `make serve` leaves

    assert make_n(clone, "serve")[0].startswith("WS_PATH=/ws .venv/bin/python -m asgi_lambda serve")  # nothing more to install
    assert ".venv/bin/python -m pip install -q -r requirements-dev.txt -r requirements-release.txt -e ." in pip_installs(
        make_n(clone, "setup")
    )


def test_make_test_sets_up_the_runtimes_venvs_without_the_release_tools(clone: Path) -> None:
    # The release tests run on .venv only; .venv-3.12 and .venv-3.13 (those pyenv has) get the rest.
    installs = set(pip_installs(make_n(clone, "test")))
    runtimes = {line.split("/", 1)[0] for line in installs if line.startswith(".venv-")}

    assert ".venv/bin/python -m pip install -q -r requirements-dev.txt -r requirements-release.txt -e ." in installs
    assert runtimes <= {".venv-3.12", ".venv-3.13"}
    if os.environ.get("CI"):
        assert runtimes == {".venv-3.12", ".venv-3.13"}  # make test fails under CI without them
    for venv in runtimes:
        assert f"{venv}/bin/python -m pip install -q -r requirements-dev.txt  -e ." in installs
        assert not any(line.startswith(venv) and "requirements-release" in line for line in installs)


def test_make_serve_after_the_full_install_uses_it(clone: Path) -> None:
    (clone / ".venv").mkdir()
    (clone / ".venv" / ".installed").touch()  # what `make setup` leaves

    assert pip_installs(make_n(clone, "serve")) == []
