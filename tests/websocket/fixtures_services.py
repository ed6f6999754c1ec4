"""PostgreSQL and Redis stores against the servers on 127.0.0.1. (Placeholder until they land.)"""

from __future__ import annotations

import pytest


@pytest.fixture
def store_postgresql() -> None:
    pytest.skip("the postgresql store is not built yet")


@pytest.fixture
def unreachable_postgresql() -> None:
    pytest.skip("the postgresql store is not built yet")


@pytest.fixture
def store_redis() -> None:
    pytest.skip("the redis store is not built yet")


@pytest.fixture
def unreachable_redis() -> None:
    pytest.skip("the redis store is not built yet")
