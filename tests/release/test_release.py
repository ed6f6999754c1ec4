"""The release check (make test, and so .ci/run): the universal layer stays under its size budget,
and its bytes depend on the sources alone.

Both checks are on dist/asgi-lambda-layer.zip, which is pure Python. A layer with compiled
dependencies (build_layer.sh --with) holds wheels from PyPI, whose bytes the project does not
control, so it can match only itself on one machine.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import zipfile
from pathlib import Path

import pytest

from tests.support.paths import ROOT
from tests.support.runtime.layer import build

BUDGET = ROOT / "layer" / "size-budget.txt"


def budget() -> dict[str, int]:
    """layer/size-budget.txt: `base` and `per-python`, in bytes."""
    lines = [line.split() for line in BUDGET.read_text().splitlines() if line.strip() and not line.startswith("#")]
    return {key: int(value) for key, value in lines}


@pytest.fixture(scope="module")
def universal(tmp_path_factory: pytest.TempPathFactory) -> Path:
    output = tmp_path_factory.mktemp("release")
    result = build(output=output)
    assert result.returncode == 0, result.stderr
    return output / "asgi-lambda-layer.zip"


def test_the_universal_layer_stays_under_the_size_budget(universal: Path) -> None:
    with zipfile.ZipFile(universal) as archive:
        # asgi_lambda/__pycache__/adapter.cpython-313.pyc: bytecode for 3.13.
        pythons = sorted({match[1] for name in archive.namelist() if (match := re.search(r"\.cpython-(3\d+)\.pyc$", name))})
    limits = budget()
    allowed = limits["base"] + limits["per-python"] * len(pythons)

    size = universal.stat().st_size
    assert size <= allowed, (
        f"the universal layer is {size} bytes, with bytecode for {len(pythons)} Pythons ({', '.join(pythons)}): over the budget of"
        f" {allowed} that layer/size-budget.txt allows. Find what grew (unzip -lv), or raise the budget and say why."
    )


def fresh_copy(destination: Path) -> Path:
    """What the build reads (the script, the wrapper, layer/) copied as a clone would be: new times, modes kept."""
    ignore = shutil.ignore_patterns("__pycache__", "*.egg-info")
    destination.mkdir()
    shutil.copy(ROOT / "build_layer.sh", destination)
    for folder in ("wrapper", "layer"):
        shutil.copytree(ROOT / folder, destination / folder, ignore=ignore, copy_function=shutil.copy)
    for path in [destination, *destination.rglob("*")]:
        os.utime(path, (2_000_000_000, 2_000_000_000))  # 2033: never the repository's own times
    return destination


def test_two_builds_give_the_same_bytes_whatever_the_path_times_and_umask(universal: Path, tmp_path: Path) -> None:
    clone = fresh_copy(tmp_path / "clone")
    output = tmp_path / "dist"
    env = {**os.environ, "SOURCE_DATE_EPOCH": "2000000000", "TMPDIR": str(tmp_path)}

    # umask 077: the staged files are 600 and 700, which the zip must not carry.
    result = subprocess.run(
        ["sh", "-c", 'umask 077 && exec "$0" --output "$1"', str(clone / "build_layer.sh"), str(output)],
        capture_output=True,
        text=True,
        env=env,
    )

    assert result.returncode == 0, result.stderr
    rebuilt = output / "asgi-lambda-layer.zip"
    assert differences(universal, rebuilt) == []
    assert rebuilt.read_bytes() == universal.read_bytes()


def differences(first: Path, second: Path) -> list[str]:
    """The entries whose name, bytes, mode or time differ between two zips: what to look at when the bytes do."""
    with zipfile.ZipFile(first) as a, zipfile.ZipFile(second) as b:
        entries = [
            {info.filename: (info.date_time, info.external_attr, archive.read(info)) for info in archive.infolist()} for archive in (a, b)
        ]
    return sorted(name for name in entries[0].keys() | entries[1].keys() if entries[0].get(name) != entries[1].get(name))
