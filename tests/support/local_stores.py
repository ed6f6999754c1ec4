"""Stores that need no server: memory and SQLite."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from asgi_lambda.protocols import loop
from asgi_lambda.stores.memory import MemoryStore
from asgi_lambda.stores.sqlite import SqliteStore


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
