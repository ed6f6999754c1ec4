"""`make dist` builds the wheel and sdist PyPI would take, `twine check --strict` passes on both, and
the wheel installed into a fresh venv (nothing else in it) serves the hello example: a sample event
through `asgi-lambda invoke`, the console script the wheel installs.

The build runs in a copy of the checkout's packaging files, so it leaves nothing in the checkout."""

from __future__ import annotations

import email.parser
import json
import os
import shutil
import subprocess
import sys
import tarfile
import zipfile
from pathlib import Path

import pytest

from tests.support.paths import EXAMPLES, ROOT

FILES = ("Makefile", "pyproject.toml", "requirements-dev.txt", "README.md", "LICENSE")


@pytest.fixture(scope="module")
def dist(tmp_path_factory: pytest.TempPathFactory) -> Path:
    if shutil.which("make") is None:
        pytest.fail("make is not installed")
    clone = tmp_path_factory.mktemp("clone")
    for name in FILES:
        shutil.copy(ROOT / name, clone / name)
    shutil.copytree(ROOT / "layer" / "asgi_lambda", clone / "layer" / "asgi_lambda", ignore=shutil.ignore_patterns("__pycache__"))
    # This interpreter's venv stands for .venv, already set up (-o setup: not remade).
    bin_dir = Path(sys.executable).parent
    env = {name: os.environ[name] for name in ("PATH", "HOME", "LANG") if name in os.environ}
    result = subprocess.run(
        ["make", "--no-print-directory", "-o", "setup", "dist", f"BIN={bin_dir}"],
        cwd=clone,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.count("PASSED") == 2, result.stdout
    return clone / "dist"


def test_make_dist_builds_one_wheel_and_one_sdist(dist: Path) -> None:
    assert sorted(path.name for path in dist.iterdir()) == ["asgi_lambda-0.1.0-py3-none-any.whl", "asgi_lambda-0.1.0.tar.gz"]


def test_the_wheel_carries_the_metadata_pypi_shows(dist: Path) -> None:
    with zipfile.ZipFile(dist / "asgi_lambda-0.1.0-py3-none-any.whl") as wheel:
        metadata = email.parser.Parser().parsestr(wheel.read("asgi_lambda-0.1.0.dist-info/METADATA").decode())
        names = wheel.namelist()

    assert (metadata["Name"], metadata["License-Expression"], metadata["Requires-Python"]) == ("asgi-lambda", "MIT", ">=3.11")
    assert metadata["Author"] == "asgi-lambda contributors"
    assert metadata["Description-Content-Type"] == "text/markdown"
    assert "Programming Language :: Python :: 3.13" in metadata.get_all("Classifier")
    assert "lambda" in metadata["Keywords"].split(",")
    assert metadata.get_all("Provides-Extra") == ["aws", "postgresql", "redis", "local", "all"]
    assert "Source, https://github.com/asgi-lambda/asgi-lambda" in metadata.get_all("Project-URL")
    assert {"asgi_lambda/py.typed", "asgi_lambda/local/cli.py", "asgi_lambda-0.1.0.dist-info/licenses/LICENSE"} <= set(names)


def test_the_sdist_holds_the_package_the_license_and_readme(dist: Path) -> None:
    with tarfile.open(dist / "asgi_lambda-0.1.0.tar.gz") as sdist:
        names = set(sdist.getnames())

    expected = {"LICENSE", "README.md", "pyproject.toml", "layer/asgi_lambda/__init__.py", "layer/asgi_lambda/py.typed"}
    assert {f"asgi_lambda-0.1.0/{name}" for name in expected} <= names


def test_the_wheel_in_a_fresh_venv_serves_the_hello_example(dist: Path, tmp_path: Path) -> None:
    venv = tmp_path / "venv"
    # As a user's shell: without the PYTHONPATH to the checkout the tests run with.
    env = {"PATH": f"{venv / 'bin'}:/usr/bin:/bin", "HOME": str(tmp_path), "XDG_CACHE_HOME": str(tmp_path / "cache")}
    subprocess.run([sys.executable, "-m", "venv", str(venv)], env=env, check=True, timeout=120)
    # No index: the core package needs nothing besides itself.
    wheel = dist / "asgi_lambda-0.1.0-py3-none-any.whl"
    subprocess.run([venv / "bin" / "python", "-m", "pip", "install", "-q", "--no-index", str(wheel)], env=env, check=True, timeout=120)
    cli = str(venv / "bin" / "asgi-lambda")

    event = subprocess.run([cli, "event", "http-v2", "--path", "/"], env=env, capture_output=True, text=True, timeout=60, check=True)
    answer = subprocess.run(
        [cli, "invoke", "main:app", "-"], input=event.stdout, cwd=EXAMPLES / "hello", env=env, capture_output=True, text=True, timeout=60
    )
    where = subprocess.run(
        [venv / "bin" / "python", "-c", "import asgi_lambda; print(asgi_lambda.__file__)"], env=env, capture_output=True, text=True
    )

    assert answer.returncode == 0, answer.stderr
    response = json.loads(answer.stdout)
    assert (response["statusCode"], json.loads(response["body"])) == (200, {"hello": "world", "path": "/", "root_path": ""})
    assert where.stdout.startswith(str(venv))  # the wheel's package, not the checkout's
