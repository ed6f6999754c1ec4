"""Fixtures for the WebSocket tests: one `store` fixture over all six backends.

Each backend's fixtures live in their own module: `store_<name>` gives a working store and
closes it afterwards; `unreachable_<name>` gives one pointed at nothing that answers. A test
that needs a server and finds none fails when CI is set, and skips with the reason otherwise.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from asgi_lambda.stores import Store
from asgi_lambda.websocket.hub import ConnectionHub
from tests.support.aws import store_dynamodb, store_s3, unreachable_dynamodb, unreachable_s3  # noqa: F401
from tests.support.local_stores import store_memory, store_sqlite, unreachable_sqlite  # noqa: F401
from tests.support.management_api import ManagementAPIStub
from tests.support.services import store_postgresql, store_redis, unreachable_postgresql, unreachable_redis  # noqa: F401
from tests.support.websocket import websocket_runtime

BACKENDS = ["memory", "sqlite", "postgresql", "redis", "dynamodb", "s3"]


@pytest.fixture(params=BACKENDS)
def store(request: pytest.FixtureRequest) -> Store:
    backend: Store = request.getfixturevalue(f"store_{request.param}")
    return backend


@pytest.fixture(params=[name for name in BACKENDS if name != "memory"])
def unreachable_store(request: pytest.FixtureRequest) -> Store:
    backend: Store = request.getfixturevalue(f"unreachable_{request.param}")
    return backend


@pytest.fixture
def ws(store: Store, stub: ManagementAPIStub) -> Iterator[ConnectionHub]:
    """The environment's WebSocket runtime: the store under test, replies to the stub."""
    with websocket_runtime(store, endpoint=stub.endpoint) as runtime:
        yield runtime
