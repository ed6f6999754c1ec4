"""build_layer.sh: the zip's layout, its determinism, and its refusals."""

from __future__ import annotations

import ast
import hashlib
import os
import platform
import shutil
import zipfile
from pathlib import Path

import pytest

from tests.support.paths import ROOT
from tests.support.runtime.layer import build


@pytest.fixture(scope="module")
def universal(tmp_path_factory: pytest.TempPathFactory) -> Path:
    output = tmp_path_factory.mktemp("universal")
    result = build(output=output)
    assert result.returncode == 0, result.stderr
    return output / "asgi-lambda-layer.zip"


def test_build_prints_the_path_and_size_of_the_zip(tmp_path: Path) -> None:
    result = build(output=tmp_path)

    zip_path = tmp_path / "asgi-lambda-layer.zip"
    digest = hashlib.sha256(zip_path.read_bytes()).hexdigest()
    assert result.stdout.splitlines()[-1] == f"Wrote {zip_path} ({zip_path.stat().st_size} bytes, sha256 {digest})"


def test_universal_layer_has_the_wrapper_at_the_root_with_its_exec_bit(universal: Path) -> None:
    with zipfile.ZipFile(universal) as archive:
        info = archive.getinfo("asgi-bootstrap")
        assert info.external_attr >> 16 == 0o100755
        assert archive.read("asgi-bootstrap") == (ROOT / "wrapper" / "asgi-bootstrap").read_bytes()


def manifest() -> list[str]:
    lines = (ROOT / "layer" / "manifest.txt").read_text().splitlines()
    return [line for line in lines if line and not line.startswith("#")]


def test_the_layer_ships_exactly_what_the_manifest_lists(universal: Path) -> None:
    with zipfile.ZipFile(universal) as archive:
        names = set(archive.namelist())

    shipped = {name.removeprefix("python/") for name in names if name.startswith("python/") and not name.endswith(".pyc")}
    assert shipped == set(manifest())
    # Nothing but the wrapper and the package: no dependencies, so no boto3 either.
    assert {name.split("/")[0] for name in names} == {"asgi-bootstrap", "python"}
    assert {name.split("/")[1] for name in names if name.startswith("python/")} == {"asgi_lambda"}
    # The local gateway and its CLI stay on the developer's machine.
    assert not [name for name in names if "/local/" in name or name.endswith("__main__.py")]


def module_file(module: str) -> str:
    """layer/-relative file of a dotted module name."""
    path = module.replace(".", "/")
    return f"{path}/__init__.py" if (ROOT / "layer" / path).is_dir() else f"{path}.py"


def test_every_module_a_shipped_module_imports_is_shipped() -> None:
    listed = set(manifest())
    missing = []
    for file in listed:
        if not file.endswith(".py"):
            continue
        package = file.removesuffix(".py").replace("/", ".").removesuffix(".__init__")
        if not file.endswith("__init__.py"):
            package = package.rpartition(".")[0]
        for node in ast.walk(ast.parse((ROOT / "layer" / file).read_text())):
            if isinstance(node, ast.ImportFrom) and node.level:
                base = ".".join(package.split(".")[: len(package.split(".")) - node.level + 1])
                target = f"{base}.{node.module}" if node.module else base
                candidates = [target] + [f"{target}.{alias.name}" for alias in node.names]
                targets = [name for name in candidates if (ROOT / "layer" / module_file(name)).exists()]
                missing += [f"{file} imports {name}" for name in targets if module_file(name) not in listed]
    assert missing == []


def test_every_source_and_store_the_registries_name_is_shipped() -> None:
    from asgi_lambda import sources
    from asgi_lambda.stores import registry

    listed = set(manifest())
    targets = [f"asgi_lambda.sources.{target.partition(':')[0]}" for target in sources.OTHER_SOURCES + sources.EVENT_SOURCES]
    targets += [f"asgi_lambda.stores.{entry.target.partition(':')[0]}" for entry in registry.STORES]
    assert [target for target in targets if module_file(target) not in listed] == []


def test_universal_layer_ships_bytecode_checked_by_hash_not_timestamp(universal: Path) -> None:
    with zipfile.ZipFile(universal) as archive:
        bytecode = [name for name in archive.namelist() if name.endswith(".pyc")]
        assert bytecode
        header = archive.read(bytecode[0])[:16]
    # PEP 552 flags: 0b01 = hash-based, 0b10 = check source; unchecked-hash is 0b01.
    assert int.from_bytes(header[4:8], "little") == 0b01


# The size budget and byte-for-byte reproducibility are the release check: tests/release/test_release.py.


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--bogus"], "build_layer.sh: unknown option '--bogus'."),
        (
            ["--python", "3.11", "--arch", "arm64", "--with", "redis"],
            "build_layer.sh: --python '3.11' is not a supported runtime; expected one of: 3.12 3.13 3.14.",
        ),
        (
            ["--python", "3.13", "--arch", "ppc64le", "--with", "redis"],
            "build_layer.sh: --arch 'ppc64le' is not a Lambda architecture; expected one of: x86_64 arm64.",
        ),
        (
            ["--python", "3.13", "--arch", "arm64", "--with", "mongodb"],
            "build_layer.sh: --with 'mongodb' is not a WebSocket store; expected some of: dynamodb s3 postgresql redis sqlite memory.",
        ),
        (
            ["--with", "redis"],
            "build_layer.sh: --with needs --python and --arch: compiled dependencies are built for one runtime and one architecture.",
        ),
        (
            ["--python", "3.13"],
            "build_layer.sh: --python and --arch choose the runtime of a layer with dependencies: add --with BACKENDS, or drop them for the universal layer.",
        ),
        (["--python"], "build_layer.sh: --python needs a value. See --help."),
    ],
    ids=["unknown-option", "unknown-python", "unknown-arch", "unknown-backend", "with-alone", "python-alone", "missing-value"],
)
def test_bad_options_fail_with_a_clear_message(args: list[str], message: str, tmp_path: Path) -> None:
    result = build(*args, output=tmp_path)

    assert (result.returncode, result.stderr.splitlines()[-1]) == (2, message)
    assert list(tmp_path.iterdir()) == []


# ELF e_machine values: the architecture a shared object was built for.
ELF_MACHINES = {"x86_64": 62, "arm64": 183}


@pytest.mark.parametrize("arch", ["x86_64", "arm64"])
def test_layer_with_dependencies_carries_stripped_objects_for_its_architecture(arch: str, tmp_path: Path) -> None:
    if shutil.which("python3.12") is None and not list(Path(os.environ.get("PYENV_ROOT", "/root/.pyenv"), "versions").glob("3.12.*")):
        if os.environ.get("CI"):
            pytest.fail("python3.12 is missing: the build needs the runtime's own interpreter")
        pytest.skip("python3.12 is not installed here; the build needs the runtime's own interpreter")

    if arch == "arm64" and platform.machine() != "aarch64" and not (shutil.which("aarch64-linux-gnu-strip") or shutil.which("llvm-strip")):
        if os.environ.get("CI"):
            pytest.fail("no strip for aarch64 objects: .ci/run installs binutils-aarch64-linux-gnu")
        pytest.skip("no strip for aarch64 objects here: install binutils-aarch64-linux-gnu (Debian, Ubuntu) or llvm")

    result = build("--python", "3.12", "--arch", arch, "--with", "postgresql,redis,dynamodb", output=tmp_path)

    assert result.returncode == 0, result.stderr
    zip_path = tmp_path / f"asgi-lambda-layer-py3.12-{arch}.zip"
    with zipfile.ZipFile(zip_path) as archive:
        names = archive.namelist()
        objects = [name for name in names if name.endswith(".so")]
        assert objects and all(name.startswith("python/lib/python3.12/site-packages/asyncpg/") for name in objects)
        for name in objects:
            data = archive.read(name)
            assert int.from_bytes(data[18:20], "little") == ELF_MACHINES[arch]
            assert b".debug_info" not in data
    assert "python/lib/python3.12/site-packages/redis/__init__.py" in names
    assert "python/asgi_lambda/__init__.py" in names
    assert not [name for name in names if "/boto3/" in name or "/botocore/" in name]
