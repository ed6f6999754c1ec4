"""Issue #23, hardening: build_layer.sh installs only the files its pins name, and fails in words.

The store packages a layer ships are installed with `--require-hashes`, their hashes kept beside the
pins (layer/hashes.txt, for layer_packages in stores/registry.py): a file that is not the one pinned
fails the build. And `fail` is defined before its first use, so a registry python3 cannot read
ends with the script's own message rather than "fail: command not found".
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from asgi_lambda.stores import registry

ROOT = Path(__file__).resolve().parents[2]


def hashed_pins() -> dict[str, list[str]]:
    pins = {}
    for line in (ROOT / "layer" / "hashes.txt").read_text().splitlines():
        if line and not line.startswith("#"):
            pin, *hashes = line.split()
            pins[pin] = hashes
    return pins


def test_every_pin_the_layer_ships_has_its_hashes_beside_it() -> None:
    pins = sorted(package for entry in registry.STORES for package in entry.layer_packages)

    assert sorted(hashed_pins()) == pins
    for pin, hashes in hashed_pins().items():
        assert hashes and all(len(value) == len("--hash=sha256:") + 64 and value.startswith("--hash=sha256:") for value in hashes), pin


def copy_of_the_build(tmp_path: Path) -> Path:
    """build_layer.sh with its wrapper and layer/, in a folder of the test's own: what it reads can be changed."""
    copy = tmp_path / "checkout"
    copy.mkdir()
    shutil.copy2(ROOT / "build_layer.sh", copy / "build_layer.sh")
    shutil.copytree(ROOT / "wrapper", copy / "wrapper")
    shutil.copytree(ROOT / "layer", copy / "layer", ignore=shutil.ignore_patterns("__pycache__"))
    return copy


def build(copy: Path, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    output = copy / "dist"
    return subprocess.run([str(copy / "build_layer.sh"), "--output", str(output), *args], capture_output=True, text=True, env=env)


def test_a_registry_python3_cannot_read_fails_with_the_scripts_own_message(tmp_path: Path) -> None:
    copy = copy_of_the_build(tmp_path)
    stubs = tmp_path / "bin"
    stubs.mkdir()
    (stubs / "python3").write_text("#!/bin/sh\nexit 1\n")
    (stubs / "python3").chmod(0o755)

    result = build(copy, env={**os.environ, "PATH": f"{stubs}:{os.environ['PATH']}"})

    assert (result.returncode, result.stderr.splitlines()[-1]) == (
        2,
        "build_layer.sh: could not read the store registry: python3 must import layer/asgi_lambda.",
    )


def require_python_312() -> None:
    if shutil.which("python3.12") is None and not list(Path(os.environ.get("PYENV_ROOT", "/root/.pyenv"), "versions").glob("3.12.*")):
        if os.environ.get("CI"):
            pytest.fail("python3.12 is missing: the build needs the runtime's own interpreter")
        pytest.skip("python3.12 is not installed here; the build needs the runtime's own interpreter")


def test_a_pin_without_hashes_is_not_shipped(tmp_path: Path) -> None:
    require_python_312()
    copy = copy_of_the_build(tmp_path)
    hashes = copy / "layer" / "hashes.txt"
    hashes.write_text("".join(line + "\n" for line in hashes.read_text().splitlines() if not line.startswith("redis==")))

    result = build(copy, "--python", "3.12", "--arch", "x86_64", "--with", "redis")

    assert (result.returncode, result.stderr.splitlines()[-1]) == (
        2,
        "build_layer.sh: layer/hashes.txt has no hashes for redis==8.1.0: add its line (the file says how) before shipping it.",
    )


def test_a_file_that_is_not_the_one_pinned_fails_the_build(tmp_path: Path) -> None:
    require_python_312()
    copy = copy_of_the_build(tmp_path)
    hashes = copy / "layer" / "hashes.txt"
    planted = "--hash=sha256:" + "0" * 64
    hashes.write_text(
        "".join((f"redis==8.1.0 {planted}" if line.startswith("redis==") else line) + "\n" for line in hashes.read_text().splitlines())
    )

    result = build(copy, "--python", "3.12", "--arch", "x86_64", "--with", "redis")

    assert result.returncode != 0
    assert "THESE PACKAGES DO NOT MATCH THE HASHES FROM THE REQUIREMENTS FILE" in result.stderr
    assert not (copy / "dist" / "asgi-lambda-layer-py3.12-x86_64.zip").exists()
