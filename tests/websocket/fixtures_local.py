"""Stores that need no server: memory and SQLite."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from asgi_lambda import loop
from asgi_lambda.stores.memory import MemoryStore
from asgi_lambda.stores.sqlite import SqliteStore

CACHE = Path(__file__).resolve().parents[2] / ".cache"  # gitignored


@contextmanager
def directory_outside_tmp() -> Iterator[Path]:
    """A new directory under the checkout's .cache/, removed afterwards. On Lambda (and a function
    under the runtime tests' harness is, as far as the layer can tell) an SQLite store under /tmp
    is refused, and pytest's tmp_path is under /tmp: a file that stands for one on an EFS mount
    goes here."""
    CACHE.mkdir(exist_ok=True)
    path = Path(tempfile.mkdtemp(prefix="state-", dir=CACHE))
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
