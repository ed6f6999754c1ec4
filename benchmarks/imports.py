"""Import cost, from `python -X importtime` in fresh interpreters.

What is measured is what a handler runs, `from asgi_lambda import Adapter` against `from mangum
import Mangum` (asgi_lambda loads its adapter on that first access, so the figure adds it). asyncio
is imported first, so the figure is what the import costs beyond asyncio: any ASGI app on Lambda
imports asyncio anyway. Bytecode is cached in a throwaway PYTHONPYCACHEPREFIX
(a layer should ship .pyc; nothing is written into the repository), and a warm-up run fills
it before the measured ones. The "no .pyc" figure then drops only the package's own cached
bytecode, for the cost of a layer shipped as sources.
"""

from __future__ import annotations

import importlib.util
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

# "import time:  self [us] | cumulative | <indent>module"; the indent is the nesting depth.
IMPORTTIME_LINE = re.compile(r"^import time:\s+(\d+) \|\s+(\d+) \|( *)(\S+)\s*$")

# What a handler imports: the adapter class, which a package may load only when it is asked for.
ENTRY_POINTS = {"asgi_lambda": "Adapter", "mangum": "Mangum"}

# A Lambda adapter must not drag these in: they take hundreds of milliseconds to import.
HEAVY_PACKAGES = ("boto3", "botocore")


@dataclass(frozen=True)
class ImportCost:
    package: str
    cumulative_us: float  # median, the package's top-level line
    own_self_us: float  # median, the summed self time of the package's own modules
    source_only_us: float  # median cumulative without the package's .pyc
    heavy_loaded: tuple[str, ...]  # HEAVY_PACKAGES modules found in sys.modules after the import
    runs: int


def run_importtime(package: str, env: dict[str, str]) -> tuple[int, int]:
    """One fresh interpreter: (cumulative µs of `package`, summed self µs of its modules)."""
    completed = subprocess.run(
        # gc.collect() settles the collector after asyncio: otherwise whichever import comes
        # next pays for a full collection of everything asyncio loaded (about 1 ms here).
        [sys.executable, "-X", "importtime", "-c", f"import asyncio, gc; gc.collect(); from {package} import {ENTRY_POINTS[package]}"],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    cumulative = own_self = 0
    for line in completed.stderr.splitlines():
        match = IMPORTTIME_LINE.match(line)
        if not match:
            continue
        self_us, cumulative_us, depth, module = int(match[1]), int(match[2]), len(match[3]), match[4]
        if module == package or module.startswith(package + "."):
            own_self += self_us
            if depth == 1:  # imported by the statement itself (the package, then what its __getattr__ loads)
                cumulative += cumulative_us
    if not cumulative:
        raise RuntimeError(f"No importtime line for {package!r}:\n{completed.stderr[-2000:]}")
    return cumulative, own_self


def heavy_modules_after_import(package: str) -> tuple[str, ...]:
    code = f"import sys, {package}; print(' '.join(sorted(m for m in sys.modules if m.split('.')[0] in {HEAVY_PACKAGES!r})))"
    completed = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return tuple(completed.stdout.split())


def measure_import(package: str, runs: int) -> ImportCost:
    with tempfile.TemporaryDirectory(prefix="bench-pycache-") as cache:
        env = {key: value for key, value in os.environ.items() if key != "PYTHONDONTWRITEBYTECODE"}
        env["PYTHONPYCACHEPREFIX"] = cache
        run_importtime(package, env)  # compiles into the cache, warms the OS file cache
        samples = [run_importtime(package, env) for _ in range(runs)]

        # The prefix mirrors source paths, so the package's bytecode is one subtree of it.
        drop_package_bytecode(package, Path(cache))
        env["PYTHONDONTWRITEBYTECODE"] = "1"  # and keep it uncompiled run after run
        source_only = [run_importtime(package, env)[0] for _ in range(runs)]
    return ImportCost(
        package=package,
        cumulative_us=statistics.median(cumulative for cumulative, _ in samples),
        own_self_us=statistics.median(own for _, own in samples),
        source_only_us=statistics.median(source_only),
        heavy_loaded=heavy_modules_after_import(package),
        runs=runs,
    )


def drop_package_bytecode(package: str, cache: Path) -> None:
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError(f"{package!r} is not an importable package")
    package_dir = Path(next(iter(spec.submodule_search_locations))).resolve()
    shutil.rmtree(cache / package_dir.relative_to(package_dir.anchor), ignore_errors=True)


def installed(package: str) -> bool:
    return importlib.util.find_spec(package) is not None
