"""Where the tests find the repository's files, wherever a test module sits under tests/."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

TESTS = Path(__file__).resolve().parent.parent
ROOT = TESTS.parent
EVENTS = TESTS / "events"  # one event per JSON file, as AWS documents it
EXAMPLES = ROOT / "examples"
LAYER = ROOT / "layer"  # the package's sources: layer/asgi_lambda
README = ROOT / "README.md"  # the front page; the documentation is in DOCS
DOCS = ROOT / "docs"  # the documentation site's pages (mkdocs.yml)
RELEASE = TESTS / "release"  # with the npm lockfiles of the release tests (cdk/, osls/, osls4/)
RUNTIME_STAND_IN = TESTS / "support" / "runtime"  # the managed runtime's launcher and bootstrap.py
CACHE = ROOT / ".cache"  # gitignored: downloads the tests reuse (npm tools, Mangum's sdist)


@contextmanager
def directory_outside_tmp() -> Iterator[Path]:
    """A new directory outside /tmp, removed afterwards. On Lambda (and a function under the runtime
    tests' harness is, as far as the layer can tell) an SQLite store under /tmp is refused, and
    pytest's tmp_path is under /tmp, as a checkout may be: a file that stands for one on an EFS
    mount goes in /var/tmp, or under the home directory where there is none."""
    parent = Path("/var/tmp") if Path("/var/tmp").is_dir() else Path.home() / ".cache"
    parent.mkdir(parents=True, exist_ok=True)
    path = Path(tempfile.mkdtemp(prefix="asgi-lambda-state-", dir=parent))
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)
