"""Stores that need no server: memory and SQLite."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from asgi_lambda.protocols import loop
from asgi_lambda.stores.memory import MemoryStore
from asgi_lambda.stores.sqlite import SqliteStore


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


@pytest.fixture
def store_memory() -> MemoryStore:
    return MemoryStore()


@pytest.fixture
def store_sqlite(tmp_path: Path) -> Iterator[SqliteStore]:
    store = SqliteStore(str(tmp_path / "connections.sqlite3"))
    yield store
    loop.run(store.close())


@pytest.fixture
def unreachable_sqlite(tmp_path: Path) -> SqliteStore:
    # A path whose directory does not exist: the file cannot be opened.
    return SqliteStore(str(tmp_path / "missing-directory" / "connections.sqlite3"))
